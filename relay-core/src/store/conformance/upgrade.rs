//! After a schema upgrade: what every backend must still serve from data an older version
//! wrote. Called by the backends' upgrade tests, which write the old data with the old SQL.

use super::*;
use crate::control::admin::{
    ApiKeyRecord, AuditQuery, EventQuery, EventState, MetricMerge, MetricPoint, MetricQuery,
    MetricScope, Role,
};

/// `store` was upgraded from a version that held `event` of `tenant`, with one delivery,
/// dead-lettered: the event is read, listed and its dead letter paged and discarded; the
/// admin tables work and start empty.
pub async fn serves_an_upgraded_database(store: &dyn Store, tenant: &TenantId, event: EventId) {
    assert!(store.event(tenant, event).await.unwrap().is_some());
    let listed = store
        .list_events(tenant, &EventQuery::default(), 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].id, listed[0].state()),
        (event, EventState::DeadLettered)
    );
    let all = DeadLetterFilter::default();
    let page = store
        .dead_letter_page(tenant, &all, None, 10)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(
        store
            .discard_dead_letters(tenant, &all, at(20))
            .await
            .unwrap(),
        1
    );
    let deliveries = store.deliveries(tenant, event).await.unwrap();
    assert_eq!(deliveries[0].status, DeliveryStatus::Discarded);

    let key = ApiKeyRecord {
        id: "key_1".into(),
        tenant: tenant.clone(),
        name: "ci".into(),
        role: Role::Admin,
        secret_hash: vec![1; 32],
        created_at: at(30),
        created_by: "config".into(),
        revoked_at: None,
    };
    assert!(store.insert_api_key(key.clone()).await.unwrap());
    assert_eq!(store.api_key("key_1").await.unwrap(), Some(key));
    let point = MetricPoint {
        minute: T0,
        scope: MetricScope::Gateway,
        name: String::new(),
        metric: "received".into(),
        value: 1,
    };
    store
        .record_metrics(tenant, std::slice::from_ref(&point), MetricMerge::Add)
        .await
        .unwrap();
    let query = MetricQuery {
        from: T0,
        to: at(60_000),
        scope: None,
        name: None,
    };
    assert_eq!(store.metric_points(tenant, &query).await.unwrap(), [point]);
    let audit = store
        .audit_entries(tenant, &AuditQuery::default(), 10)
        .await
        .unwrap();
    assert!(audit.is_empty());
}

/// `store` was upgraded from a version that audited a dead-letter replay as `redrive`: it
/// held, for `tenant`, an entry `redrive` of `dead_letters` and then an entry `discard`. The
/// old entry reads as `replay` and a filter by `replay` finds it; nothing reads `redrive`.
pub async fn old_audit_words_read_as_today(store: &dyn Store, tenant: &TenantId) {
    let by = |action: &str| AuditQuery {
        action: Some(action.into()),
        ..AuditQuery::default()
    };
    let replays = store
        .audit_entries(tenant, &by("replay"), 10)
        .await
        .unwrap();
    assert_eq!(replays.len(), 1, "{replays:?}");
    assert_eq!(
        (replays[0].action.as_str(), replays[0].object_kind.as_str()),
        ("replay", "dead_letters")
    );
    assert!(
        (store.audit_entries(tenant, &by("redrive"), 10).await)
            .unwrap()
            .is_empty()
    );
    let all = store
        .audit_entries(tenant, &AuditQuery::default(), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = all.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["discard", "replay"]);
}
