//! The audit log and per-minute metric points.

use super::*;
use crate::control::admin::{
    AuditEntry, AuditQuery, FieldChange, MetricMerge, MetricPoint, MetricQuery, MetricScope,
};
use crate::model::ids::AuditId;

fn entry(tenant: &TenantId, kind: &str, object: &str, ms: i64) -> AuditEntry {
    AuditEntry {
        id: AuditId::new(),
        tenant: tenant.clone(),
        at: at(ms),
        actor: "key:key_1".into(),
        action: "update".into(),
        object_kind: kind.into(),
        object_id: object.into(),
        changes: vec![FieldChange {
            field: "url".into(),
            before: Some(serde_json::json!("https://a.example/")),
            after: Some(serde_json::json!("https://b.example/")),
        }],
        // Kept as written: none, IPv4 or IPv6.
        client: match ms % 3 {
            0 => None,
            1 => Some("203.0.113.7".parse().unwrap()),
            _ => Some("2001:db8::7".parse().unwrap()),
        },
    }
}

/// Entries come back newest first, filtered, paged by cursor, per tenant, unchanged.
pub async fn audit_log_pages_newest_first(store: Arc<dyn Store>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    let mut written = Vec::new();
    for i in 0..5 {
        let kind = if i % 2 == 0 { "source" } else { "route" };
        let e = entry(&a, kind, &format!("obj{i}"), i);
        store.append_audit(e.clone()).await.unwrap();
        written.push(e);
    }
    store
        .append_audit(entry(&b, "source", "theirs", 9))
        .await
        .unwrap();

    let all = store
        .audit_entries(&a, &AuditQuery::default(), 100)
        .await
        .unwrap();
    let newest_first: Vec<AuditEntry> = written.iter().rev().cloned().collect();
    assert_eq!(all, newest_first);

    let page = store
        .audit_entries(&a, &AuditQuery::default(), 2)
        .await
        .unwrap();
    assert_eq!(page, newest_first[..2]);
    let next = AuditQuery {
        before: Some(page[1].id),
        ..Default::default()
    };
    let page2 = store.audit_entries(&a, &next, 2).await.unwrap();
    assert_eq!(page2, newest_first[2..4]);

    let sources = AuditQuery {
        object_kind: Some("source".into()),
        ..Default::default()
    };
    assert_eq!(
        store.audit_entries(&a, &sources, 100).await.unwrap().len(),
        3
    );
    let one = AuditQuery {
        object_id: Some("obj3".into()),
        ..Default::default()
    };
    assert_eq!(
        store.audit_entries(&a, &one, 100).await.unwrap(),
        [written[3].clone()]
    );
}

/// A filter by action finds that action's entries only, with the other filters and the cursor,
/// in its tenant.
pub async fn audit_log_filters_by_action(store: Arc<dyn Store>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    let mut written = Vec::new();
    for (i, action) in ["replay", "discard", "replay", "update", "replay"]
        .into_iter()
        .enumerate()
    {
        let kind = if i == 0 { "event" } else { "dead_letters" };
        let mut e = entry(&a, kind, "*", i as i64);
        e.action = action.into();
        store.append_audit(e.clone()).await.unwrap();
        written.push(e);
    }
    let mut theirs = entry(&b, "dead_letters", "*", 9);
    theirs.action = "replay".into();
    store.append_audit(theirs).await.unwrap();

    let by = |action: &str, kind: Option<&str>, before: Option<AuditId>| AuditQuery {
        action: Some(action.into()),
        object_kind: kind.map(str::to_owned),
        before,
        ..AuditQuery::default()
    };
    let replays = store
        .audit_entries(&a, &by("replay", None, None), 100)
        .await
        .unwrap();
    let expected = [written[4].clone(), written[2].clone(), written[0].clone()];
    assert_eq!(replays, expected);
    let of_dead_letters = by("replay", Some("dead_letters"), None);
    assert_eq!(
        store
            .audit_entries(&a, &of_dead_letters, 100)
            .await
            .unwrap(),
        expected[..2]
    );
    let older = by("replay", None, Some(written[4].id));
    assert_eq!(
        store.audit_entries(&a, &older, 1).await.unwrap(),
        [written[2].clone()]
    );
    assert!(
        (store
            .audit_entries(&a, &by("redrive", None, None), 100)
            .await)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        (store
            .audit_entries(&b, &by("replay", None, None), 100)
            .await)
            .unwrap()
            .len(),
        1
    );
}

fn point(minute: i64, scope: MetricScope, name: &str, metric: &str, value: i64) -> MetricPoint {
    MetricPoint {
        minute: at(minute * 60_000),
        scope,
        name: name.into(),
        metric: metric.into(),
        value,
    }
}

/// Counters add up, gauges keep the maximum, queries filter by time, scope and name.
pub async fn metric_points_merge(store: Arc<dyn Store>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    let add = [
        point(0, MetricScope::Source, "gh", "received", 3),
        point(0, MetricScope::Destination, "slack", "delivered", 2),
        point(1, MetricScope::Source, "gh", "received", 1),
    ];
    store
        .record_metrics(&a, &add, MetricMerge::Add)
        .await
        .unwrap();
    store
        .record_metrics(&a, &add[..1], MetricMerge::Add)
        .await
        .unwrap();
    store
        .record_metrics(&b, &add[..1], MetricMerge::Add)
        .await
        .unwrap();
    let depth = |v| [point(0, MetricScope::Gateway, "", "queue_depth", v)];
    store
        .record_metrics(&a, &depth(7), MetricMerge::Max)
        .await
        .unwrap();
    store
        .record_metrics(&a, &depth(4), MetricMerge::Max)
        .await
        .unwrap();

    let everything = MetricQuery {
        from: at(0),
        to: at(10 * 60_000),
        scope: None,
        name: None,
    };
    let mut points = store.metric_points(&a, &everything).await.unwrap();
    points.sort_by(|x, y| (x.minute, &x.metric, &x.name).cmp(&(y.minute, &y.metric, &y.name)));
    assert_eq!(
        points,
        [
            point(0, MetricScope::Destination, "slack", "delivered", 2),
            point(0, MetricScope::Gateway, "", "queue_depth", 7),
            point(0, MetricScope::Source, "gh", "received", 6),
            point(1, MetricScope::Source, "gh", "received", 1),
        ]
    );
    let first_minute_of_gh = MetricQuery {
        from: at(0),
        to: at(60_000),
        scope: Some(MetricScope::Source),
        name: Some("gh".into()),
    };
    assert_eq!(
        store.metric_points(&a, &first_minute_of_gh).await.unwrap(),
        [point(0, MetricScope::Source, "gh", "received", 6)]
    );
    let theirs = store.metric_points(&b, &everything).await.unwrap();
    assert_eq!(theirs, [point(0, MetricScope::Source, "gh", "received", 3)]);
}
