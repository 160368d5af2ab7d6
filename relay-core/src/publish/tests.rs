use std::sync::{Arc, Mutex};

use serde_json::json;

use super::*;
use crate::deliver::destination::{Destination, HandlerError, Message};
use crate::ingest::{IngestOutcome, IngestRequest};
use crate::route::EventRoute;
use crate::store::EventLog;
use crate::store::memory::MemoryStore;

fn recorder(name: &str, seen: &Arc<Mutex<Vec<Message>>>) -> Destination {
    let seen = Arc::clone(seen);
    Destination::handler(name, move |m: Message| {
        let seen = Arc::clone(&seen);
        async move {
            seen.lock().unwrap().push(m);
            Ok::<(), HandlerError>(())
        }
    })
}

fn relay(store: Arc<MemoryStore>) -> Relay {
    let seen = Arc::new(Mutex::new(Vec::new()));
    Relay::builder()
        .store(store)
        .destination(recorder("billing", &seen))
        .destination(recorder("crm", &seen))
        .route(
            EventRoute::new("invoices")
                .source("app")
                .event_types(["invoice.*"])
                .to(["billing"]),
        )
        .source(crate::ingest::source::WebhookSource::new(
            "orders",
            PublishOnly,
        ))
        .route(EventRoute::new("orders").source("orders").to(["crm"]))
        .event_type(
            EventType::new("invoice.paid")
                .schema(json!({"type": "object", "required": ["id"]}))
                .unwrap(),
        )
        .build()
        .unwrap()
}

async fn destinations_of(store: &MemoryStore, event: EventId) -> Vec<(String, String)> {
    let tenant = crate::model::ids::TenantId::default();
    let mut found: Vec<_> = (store.deliveries(&tenant, event).await.unwrap().into_iter())
        .map(|d| (d.destination, d.route))
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn routes_decide_without_destinations() {
    let store = Arc::new(MemoryStore::new());
    let relay = relay(Arc::clone(&store));
    let paid = relay
        .publish(Publish::new("invoice.paid", json!({"id": 1})))
        .await
        .unwrap();
    assert_eq!(
        destinations_of(&store, paid.event_id()).await,
        [("billing".to_owned(), "invoices".to_owned())]
    );
    let other = relay
        .publish(Publish::new("user.created", json!({})))
        .await
        .unwrap();
    assert!(destinations_of(&store, other.event_id()).await.is_empty());
    let event = (store.event(relay.tenant_id(), paid.event_id()).await)
        .unwrap()
        .unwrap();
    assert_eq!(event.source, "app");
    assert_eq!(event.body.as_ref(), br#"{"id":1}"#);
    assert_eq!(event.headers["content-type"], "application/json");
}

#[tokio::test]
async fn explicit_destinations_get_exactly_it_once_each() {
    let store = Arc::new(MemoryStore::new());
    let relay = relay(Arc::clone(&store));
    let sent = relay
        .publish(Publish::new("invoice.paid", json!({"id": 1})).destinations(["crm", "crm"]))
        .await
        .unwrap();
    assert_eq!(
        destinations_of(&store, sent.event_id()).await,
        [("crm".to_owned(), DIRECT_ROUTE.to_owned())]
    );
    let unknown = relay
        .publish(Publish::new("x", json!({})).destinations(["crm", "nope"]))
        .await;
    assert!(matches!(
        unknown,
        Err(PublishError::UnknownDestination { index: 1, ref name }) if name == "nope"
    ));
    let none: [&str; 0] = [];
    assert!(matches!(
        relay
            .publish(Publish::new("x", json!({})).destinations(none))
            .await,
        Err(PublishError::NoDestinations)
    ));
}

#[tokio::test]
async fn a_replay_goes_to_the_explicit_destinations_again() {
    let store = Arc::new(MemoryStore::new());
    let relay = relay(Arc::clone(&store));
    let sent = relay
        .publish(Publish::new("invoice.paid", json!({"id": 1})).destinations(["crm"]))
        .await
        .unwrap();
    let tenant = relay.tenant_id().clone();
    let report = (relay.events().replay(&tenant, sent.event_id(), true))
        .await
        .unwrap();
    assert_eq!(
        report.scheduled.len(),
        1,
        "not routed to billing: {report:?}"
    );
    assert_eq!(
        destinations_of(&store, sent.event_id()).await,
        [("crm".to_owned(), DIRECT_ROUTE.to_owned())]
    );
}

#[tokio::test]
async fn a_repeated_key_answers_the_original_and_no_key_never_repeats() {
    let store = Arc::new(MemoryStore::new());
    let relay = relay(Arc::clone(&store));
    let publish = Publish::new("invoice.paid", json!({"id": 7})).idempotency_key("inv_7");
    let first = relay.publish(publish.clone()).await.unwrap();
    assert!(matches!(first, Published::Accepted { .. }));
    let again = relay.publish(publish).await.unwrap();
    assert_eq!(
        again,
        Published::Duplicate {
            event_id: first.event_id()
        }
    );
    let plain = Publish::new("invoice.paid", json!({"id": 7}));
    let a = relay.publish(plain.clone()).await.unwrap();
    let b = relay.publish(plain).await.unwrap();
    assert!(matches!(b, Published::Accepted { .. }));
    assert_ne!(a.event_id(), b.event_id());
}

#[tokio::test]
async fn a_fixed_event_id_is_published_once() {
    let store = Arc::new(MemoryStore::new());
    let relay = relay(Arc::clone(&store));
    let id = EventId::new();
    let publish = Publish::new("invoice.paid", json!({"id": 1})).event_id(id);
    assert_eq!(
        relay.publish(publish.clone()).await.unwrap(),
        Published::Accepted { event_id: id }
    );
    assert_eq!(
        relay.publish(publish).await.unwrap(),
        Published::Duplicate { event_id: id }
    );
    assert_eq!(destinations_of(&store, id).await.len(), 1);
}

#[tokio::test]
async fn a_publish_source_is_routed_but_not_reachable_over_http() {
    let store = Arc::new(MemoryStore::new());
    let relay = relay(Arc::clone(&store));
    let sent = relay
        .publish(Publish::new("order.created", json!({})).source("orders"))
        .await
        .unwrap();
    assert_eq!(
        destinations_of(&store, sent.event_id()).await,
        [("crm".to_owned(), "orders".to_owned())]
    );
    for name in ["orders", "app"] {
        let request = IngestRequest::new(name, Default::default(), "{}");
        assert_eq!(relay.ingest(request).await, IngestOutcome::UnknownSource);
    }
    assert!(matches!(
        relay.publish(Publish::new("x", json!({})).source("nope")).await,
        Err(PublishError::UnknownSource(name)) if name == "nope"
    ));
}

#[tokio::test]
async fn a_payload_that_breaks_its_types_schema_is_refused_and_nothing_stored() {
    let store = Arc::new(MemoryStore::new());
    let relay = relay(Arc::clone(&store));
    let refused = relay
        .publish(Publish::new("invoice.paid", json!({"amount": 1})))
        .await;
    let Err(PublishError::InvalidPayload(errors)) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "");
    assert!(errors[0].message.contains("\"id\""), "{errors:?}");
    let query = crate::control::admin::EventQuery::default();
    let tenant = crate::model::ids::TenantId::default();
    assert!(
        store
            .list_events(&tenant, &query, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let typeless = relay.publish(Publish::new("invoice.sent", json!(1))).await;
    assert!(
        typeless.is_ok(),
        "a type without a schema takes any payload"
    );
}

#[tokio::test]
async fn the_event_types_stay_in_the_catalog_through_a_sync_and_in_other_tenants() {
    let relay = relay(Arc::new(MemoryStore::new()));
    let names = |relay: &Relay| -> Vec<String> {
        let catalog = relay.catalog();
        catalog
            .event_types()
            .iter()
            .map(|t| t.name().to_owned())
            .collect()
    };
    assert_eq!(names(&relay), ["invoice.paid"]);
    relay.objects().sync_objects().await.unwrap();
    assert_eq!(names(&relay), ["invoice.paid"]);
    let acme = relay
        .scoped(&crate::model::ids::TenantId::new("acme"))
        .await
        .unwrap();
    assert_eq!(names(&acme), ["invoice.paid"]);
    let refused = acme.publish(Publish::new("invoice.paid", json!({}))).await;
    assert!(
        matches!(refused, Err(PublishError::InvalidPayload(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_event_type_must_be_given_and_short() {
    let relay = relay(Arc::new(MemoryStore::new()));
    for bad in [String::new(), "x".repeat(MAX_EVENT_TYPE_LEN + 1)] {
        assert!(matches!(
            relay.publish(Publish::new(bad, json!({}))).await,
            Err(PublishError::InvalidEventType)
        ));
    }
}

#[tokio::test]
async fn a_store_that_cannot_commit_is_an_error() {
    let relay = Relay::builder()
        .store(Arc::new(crate::store::Stores::pipeline(Arc::new(
            crate::store::Refuse::UNSUPPORTED,
        ))))
        .build()
        .unwrap();
    assert!(matches!(
        relay.publish(Publish::new("x", json!({}))).await,
        Err(PublishError::Unavailable(_))
    ));
}
