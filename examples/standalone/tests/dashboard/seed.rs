//! What the dashboard test writes into the database before the gateway starts.

use std::path::Path;
use std::time::Duration;

use relay_core::model::event::{Attempt, AttemptOutcome, Event, EventStatus};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::{
    AttemptCompletion, DeliveryQueue as _, EventIngest as _, NewDelivery, NewEvent, NextStep,
};
use serde_json::json;

/// Writes an order received two hours ago whose delivery to the CRM failed and was
/// dead-lettered then (straight into the store, so not in the metrics): replayed once the CRM
/// recovers, its delivery latency (received → delivered) is beyond the histogram's last
/// bucket. Returns the event's id.
pub async fn old_dead_letter(db: &Path) -> String {
    // Not exclusive: the gateway takes the database's lock once this store is gone.
    let options = relay_store_sqlite::SqliteOptions::default().exclusive(false);
    let store = relay_store_sqlite::SqliteStore::open(db, options).expect("open db");
    let received_at = Timestamp::from_millis(Timestamp::now().as_millis() - 2 * 3_600_000);
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    let body = json!({"type": "order.created", "order": {"id": 999, "total": 99.0}});
    let event = Event {
        tenant: TenantId::default(),
        id: EventId::new(),
        source: "shop".into(),
        event_type: "order.created".into(),
        idempotency_key: "order-0999".into(),
        headers,
        body: body.to_string().into(),
        received_at,
        status: EventStatus::Routed,
    };
    let id = event.id;
    let delivery = NewDelivery {
        id: DeliveryId::new(),
        destination: "crm".into(),
        route: "big-orders-to-crm".into(),
        ordering: None,
        agent: None,
    };
    let new = NewEvent {
        event,
        dedup_until: received_at.plus(Duration::from_secs(60)),
        deliveries: vec![delivery],
    };
    store.insert_event(new).await.expect("insert the old event");
    let leased = store
        .lease_due(Timestamp::now(), 1, Duration::from_secs(60))
        .await
        .expect("lease")
        .remove(0);
    let attempt = Attempt {
        delivery_id: leased.delivery.id,
        number: 1,
        started_at: received_at.plus(Duration::from_millis(40)),
        latency_ms: 3,
        status_code: Some(503),
        error: Some("http 503".into()),
        response_excerpt: None,
        outcome: AttemptOutcome::DeadLettered,
        detail: Default::default(),
    };
    let completion = AttemptCompletion {
        lease: leased.lease,
        attempt,
        next: NextStep::DeadLettered,
    };
    store
        .complete_attempt(completion)
        .await
        .expect("dead-letter it");
    id.to_string()
}
