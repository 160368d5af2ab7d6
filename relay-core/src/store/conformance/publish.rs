//! Publishing through the pipeline on the store under test: routed or explicit deliveries,
//! idempotency keys and fixed event ids answered with the original, replay of an explicit
//! publish.

use serde_json::json;

use super::*;
use crate::Relay;
use crate::deliver::destination::{Destination, HandlerError, Message};
use crate::publish::{DIRECT_ROUTE, Publish, Published};
use crate::route::EventRoute;

fn relay_on(store: Arc<dyn Store>) -> Relay {
    let ignore =
        |name: &str| Destination::handler(name, |_m: Message| async { Ok::<(), HandlerError>(()) });
    Relay::builder()
        .store(store)
        .destination(ignore("billing"))
        .destination(ignore("crm"))
        .route(
            EventRoute::new("invoices")
                .source("app")
                .event_types(["invoice.*"])
                .to(["billing"]),
        )
        .build()
        .unwrap()
}

async fn routes_of(store: &dyn Store, event: EventId) -> Vec<(String, String)> {
    let mut found: Vec<_> = (store.deliveries(&TenantId::default(), event).await.unwrap())
        .into_iter()
        .map(|d| (d.destination, d.route))
        .collect();
    found.sort();
    found
}

/// A published event is stored once with its deliveries, whatever publishes it again.
pub async fn publishing_commits_once_and_answers_the_original(store: Arc<dyn Store>) {
    let relay = relay_on(Arc::clone(&store));
    let keyed = Publish::new("invoice.paid", json!({"id": 1})).idempotency_key("inv_1");
    let first = relay.publish(keyed.clone()).await.unwrap();
    let Published::Accepted { event_id } = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        relay.publish(keyed).await.unwrap(),
        Published::Duplicate { event_id }
    );
    let event = store
        .event(&TenantId::default(), event_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (event.source.as_str(), event.event_type.as_str()),
        ("app", "invoice.paid")
    );
    assert_eq!(event.body.as_ref(), br#"{"id":1}"#);
    assert_eq!(
        routes_of(&*store, event_id).await,
        [("billing".to_owned(), "invoices".to_owned())]
    );

    let fixed = EventId::new();
    let direct = Publish::new("user.created", json!({}))
        .destinations(["crm"])
        .event_id(fixed);
    assert_eq!(
        relay.publish(direct.clone()).await.unwrap(),
        Published::Accepted { event_id: fixed }
    );
    assert_eq!(
        relay.publish(direct).await.unwrap(),
        Published::Duplicate { event_id: fixed }
    );
    let direct_route = [("crm".to_owned(), DIRECT_ROUTE.to_owned())];
    assert_eq!(routes_of(&*store, fixed).await, direct_route);

    let report = (relay.events().replay(&TenantId::default(), fixed, true))
        .await
        .unwrap();
    assert_eq!(report.scheduled.len(), 1, "{report:?}");
    assert_eq!(
        routes_of(&*store, fixed).await,
        direct_route,
        "not routed on replay"
    );
}
