//! Retention of what grows besides events: expired sessions, audit entries, metric points.

use super::*;
use crate::control::admin::{
    AuditEntry, AuditQuery, MetricMerge, MetricPoint, MetricQuery, MetricScope, SessionRecord,
};
use crate::model::ids::AuditId;
use crate::store::{Retention, prune_all};

fn session(tenant: &TenantId, id: u8, expires_at: Timestamp) -> SessionRecord {
    SessionRecord {
        token_hash: vec![id; 32],
        tenant: tenant.clone(),
        username: "ann".into(),
        created_at: T0,
        expires_at,
    }
}

fn audit(tenant: &TenantId, object: &str, made: Timestamp) -> AuditEntry {
    AuditEntry {
        id: AuditId::new(),
        tenant: tenant.clone(),
        at: made,
        actor: "key:key_1".into(),
        action: "update".into(),
        object_kind: "route".into(),
        object_id: object.into(),
        changes: Vec::new(),
        client: None,
    }
}

fn point(minute: Timestamp, name: &str) -> MetricPoint {
    MetricPoint {
        minute,
        scope: MetricScope::Destination,
        name: name.into(),
        metric: "delivered".into(),
        value: 1,
    }
}

async fn metric_names(store: &dyn Store, tenant: &TenantId) -> Vec<String> {
    let everything = MetricQuery {
        from: Timestamp::from_millis(0),
        to: Timestamp::from_millis(i64::MAX),
        scope: None,
        name: None,
    };
    let mut names: Vec<String> = (store.metric_points(tenant, &everything).await.unwrap())
        .into_iter()
        .map(|p| p.name)
        .collect();
    names.sort();
    names
}

async fn audit_objects(store: &dyn Store, tenant: &TenantId) -> Vec<String> {
    let query = AuditQuery::default();
    let all = store.audit_entries(tenant, &query, 100).await.unwrap();
    all.into_iter().map(|e| e.object_id).collect()
}

/// Each prune deletes at most its batch, of every tenant, only what is older than asked, and
/// says how many went.
pub async fn retention_prunes_sessions_audit_and_metrics_in_batches(store: Arc<dyn Store>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    for (i, t, expires) in [(1, &a, 10), (2, &a, 20), (3, &b, 30), (4, &a, 5_000)] {
        store
            .insert_session(session(t, i, at(expires)))
            .await
            .unwrap();
    }
    assert_eq!(store.prune_sessions(at(1_000), 2).await.unwrap(), 2);
    assert_eq!(store.prune_sessions(at(1_000), 2).await.unwrap(), 1);
    assert_eq!(store.prune_sessions(at(1_000), 2).await.unwrap(), 0);
    for gone in [1, 2, 3] {
        assert_eq!(store.session(&[gone; 32]).await.unwrap(), None, "{gone}");
    }
    assert!(store.session(&[4; 32]).await.unwrap().is_some());

    for (t, object, made) in [(&a, "a-old", 0), (&b, "b-old", 1), (&a, "a-older", 2)] {
        store
            .append_audit(audit(t, object, at(made)))
            .await
            .unwrap();
    }
    store
        .append_audit(audit(&a, "a-new", at(9_000)))
        .await
        .unwrap();
    assert_eq!(store.prune_audit(at(5_000), 2).await.unwrap(), 2);
    assert_eq!(store.prune_audit(at(5_000), 2).await.unwrap(), 1);
    assert_eq!(store.prune_audit(at(5_000), 2).await.unwrap(), 0);
    assert_eq!(audit_objects(&*store, &a).await, ["a-new"]);
    assert!(audit_objects(&*store, &b).await.is_empty());

    let minute = |m: i64| at(m * 60_000);
    for (t, m, name) in [(&a, 0, "a0"), (&a, 1, "a1"), (&b, 0, "b0"), (&b, 9, "b9")] {
        let points = [point(minute(m), name)];
        store
            .record_metrics(t, &points, MetricMerge::Add)
            .await
            .unwrap();
    }
    assert_eq!(store.prune_metrics(minute(5), 2).await.unwrap(), 2);
    assert_eq!(store.prune_metrics(minute(5), 2).await.unwrap(), 1);
    assert_eq!(store.prune_metrics(minute(5), 2).await.unwrap(), 0);
    assert!(metric_names(&*store, &a).await.is_empty());
    assert_eq!(metric_names(&*store, &b).await, ["b9"]);
}

/// [`prune_all`] keeps each kind as long as its [`Retention`] says, counted back from now.
pub async fn prune_all_keeps_each_kind_as_long_as_its_retention(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let now = Timestamp::now().as_millis();
    let days_ago = |d: i64| Timestamp::from_millis(now - d * 86_400_000);
    let retention = Retention::default(); // audit 400 days, metrics 90, sessions at expiry
    store
        .insert_session(session(&t, 1, days_ago(1)))
        .await
        .unwrap();
    let hour_ahead = Timestamp::from_millis(now + 3_600_000);
    store
        .insert_session(session(&t, 2, hour_ahead))
        .await
        .unwrap();
    for (object, age) in [("ancient", 401), ("kept", 399), ("recent", 0)] {
        store
            .append_audit(audit(&t, object, days_ago(age)))
            .await
            .unwrap();
    }
    let points = [point(days_ago(91), "stale"), point(days_ago(89), "fresh")];
    store
        .record_metrics(&t, &points, MetricMerge::Add)
        .await
        .unwrap();

    let pruned = prune_all(&*store, &retention).await.unwrap();
    assert_eq!((pruned.sessions, pruned.audit, pruned.metrics), (1, 1, 1));
    assert_eq!(store.session(&[1; 32]).await.unwrap(), None);
    assert!(store.session(&[2; 32]).await.unwrap().is_some());
    assert_eq!(audit_objects(&*store, &t).await, ["recent", "kept"]);
    assert_eq!(metric_names(&*store, &t).await, ["fresh"]);

    // Shorter retentions reach further; an expired session may be kept a while.
    store
        .insert_session(session(&t, 3, days_ago(2)))
        .await
        .unwrap();
    let keep_expired = Retention::default()
        .expired_sessions(Duration::from_secs(3 * 86_400))
        .audit(Duration::from_secs(86_400))
        .metrics(Duration::ZERO);
    let pruned = prune_all(&*store, &keep_expired).await.unwrap();
    assert_eq!((pruned.sessions, pruned.audit, pruned.metrics), (0, 1, 1));
    assert!(store.session(&[3; 32]).await.unwrap().is_some());
    assert_eq!(audit_objects(&*store, &t).await, ["recent"]);
    assert!(metric_names(&*store, &t).await.is_empty());
}
