//! Bulk replay by an event-type glob on the store under test: the store's event query
//! applies the glob (as routes match it), so a page holds only events of the type however
//! many others are newer, and `?`, `%`, `_` and `[` stand for themselves.

use serde_json::json;

use super::*;
use crate::Relay;
use crate::control::admin::{AuditQuery, Principal, ReplayPage, ReplaySelection};
use crate::deliver::destination::{Destination, HandlerError, Message};
use crate::publish::Publish;
use crate::route::{EventRoute, Glob};

fn relay_on(store: Arc<dyn Store>) -> Relay {
    let ignore =
        |name: &str| Destination::handler(name, |_m: Message| async { Ok::<(), HandlerError>(()) });
    Relay::builder()
        .store(store)
        .destination(ignore("billing"))
        .destination(ignore("crm"))
        .route(
            EventRoute::new("orders")
                .event_types(["order.*"])
                .to(["billing"]),
        )
        .route(EventRoute::new("others").event_types(["*"]).to(["crm"]))
        .build()
        .unwrap()
}

/// The event-type glob of a bulk replay narrows the store's query: two orders older than
/// five other events fill a page of two; a dry run counts and a replay schedules only them.
pub async fn bulk_replay_pages_by_type_glob_in_the_store(store: Arc<dyn Store>) {
    let relay = relay_on(Arc::clone(&store));
    let types = [
        "order.created",
        "order.paid",
        "user.signup",
        "a%b_c?[d]",
        "user.deleted",
        "orders",
        "user.updated",
    ];
    for event_type in types {
        let published = relay.publish(Publish::new(event_type, json!({}))).await;
        assert!(published.is_ok(), "{event_type}: {published:?}");
    }
    let operator = Principal::system(TenantId::default());
    let run = |glob: &'static str, limit: usize, cursor, dry_run| {
        let relay = relay.clone();
        let operator = operator.clone();
        async move {
            let selection = ReplaySelection {
                event_type: Some(Glob::new(glob)),
                ..ReplaySelection::default()
            };
            let page = ReplayPage {
                cursor,
                limit,
                force: true,
                dry_run,
            };
            (relay.events().replay_matching(&operator, &selection, page))
                .await
                .unwrap()
        }
    };

    let first = run("order.*", 2, None, true).await;
    assert_eq!(
        (first.examined, first.matched, first.scheduled),
        (2, 2, 4),
        "both orders in one page, to billing and to crm: {first:?}"
    );
    let cursor = first.next_cursor.expect("a full page has a next one");
    let rest = run("order.*", 2, Some(cursor), true).await;
    assert_eq!((rest.examined, rest.next_cursor), (0, None), "{rest:?}");

    for (glob, events) in [
        ("*.paid", 1),
        ("user.*", 3),
        ("*", types.len()),
        ("order", 0),
        ("a%b_c?[d]", 1),
        ("a_b%c?[d]", 0),
        ("a%b_c_[d]", 0),
        ("a%b_c?[?]", 0),
    ] {
        let page = run(glob, 100, None, true).await;
        assert_eq!(
            (page.examined, page.matched),
            (events, events),
            "{glob}: {page:?}"
        );
    }

    let sent = run("order.*", 10, None, false).await;
    assert_eq!(
        (sent.examined, sent.matched, sent.scheduled),
        (2, 2, 4),
        "{sent:?}"
    );
    let audit = AuditQuery {
        action: Some("replay".into()),
        ..AuditQuery::default()
    };
    let entries = (store.audit_entries(&TenantId::default(), &audit, 10).await).unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let glob = (entries[0].changes.iter())
        .find(|c| c.field == "filter.event_type")
        .and_then(|c| c.after.clone());
    assert_eq!(glob, Some(json!("order.*")));
}
