//! Browsing: event listings with filters and cursors, dead-letter pages, discarding.

use super::*;
use crate::control::admin::{EventQuery, EventState};

/// Events newest first; filters by source, type, state, time and key; cursor paging; per
/// tenant; delivery counts per status.
pub async fn list_events_filters_and_pages(store: Arc<dyn Store>) {
    let (t, other) = (tenant("acme"), tenant("globex"));
    let mut pushed = new_event(&t, "github", "delivery-aa", 0, &["x", "y"]);
    pushed.event.event_type = "push".into();
    let e1 = insert(&*store, pushed).await;
    let e2 = insert(&*store, new_event(&t, "stripe", "evt_bb", 1_000, &["x"])).await;
    let e3 = insert(&*store, new_event(&t, "stripe", "evt_cc", 2_000, &[])).await;
    insert(
        &*store,
        new_event(&other, "stripe", "evt_dd", 3_000, &["x"]),
    )
    .await;

    // e1: x delivered, y dead-lettered; e2: x pending; e3: no route.
    let leased = store.lease_due(at(10), 10, MINUTE).await.unwrap();
    for l in &leased {
        let next = match (l.event.id == e1, l.delivery.destination.as_str()) {
            (true, "x") => Some(NextStep::Delivered),
            (true, _) => Some(NextStep::DeadLettered),
            _ => None,
        };
        match next {
            Some(next) => complete(&*store, l, next, at(10)).await,
            None => store.release(&l.lease, at(10)).await.unwrap(),
        }
    }

    let list = |query: EventQuery, limit| {
        let store = Arc::clone(&store);
        let t = t.clone();
        async move {
            (store
                .list_events(&t, &query, limit)
                .await
                .unwrap()
                .into_iter())
            .map(|s| s.id)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(EventQuery::default(), 10).await, [e3, e2, e1]);
    let all = store
        .list_events(&t, &EventQuery::default(), 10)
        .await
        .unwrap();
    let first = &all[2];
    assert_eq!(
        (first.source.as_str(), first.event_type.as_str()),
        ("github", "push")
    );
    assert_eq!(first.idempotency_key, "delivery-aa");
    assert_eq!(first.received_at, at(0));
    assert_eq!(
        (first.deliveries.delivered, first.deliveries.dead_lettered),
        (1, 1)
    );
    assert_eq!(first.state(), EventState::DeadLettered);
    assert_eq!(all[1].state(), EventState::Pending);
    assert_eq!(all[0].state(), EventState::NoRoute);

    let page1 = list(EventQuery::default(), 2).await;
    assert_eq!(page1, [e3, e2]);
    let after = EventQuery {
        before: Some(e2),
        ..Default::default()
    };
    assert_eq!(list(after, 2).await, [e1]);

    let q = |f: fn(&mut EventQuery)| {
        let mut query = EventQuery::default();
        f(&mut query);
        query
    };
    assert_eq!(
        list(q(|q| q.source = Some("stripe".into())), 10).await,
        [e3, e2]
    );
    assert_eq!(
        list(q(|q| q.event_type = Some("push".into())), 10).await,
        [e1]
    );
    assert_eq!(
        list(q(|q| q.key_contains = Some("_b".into())), 10).await,
        [e2]
    );
    assert_eq!(list(q(|q| q.since = Some(at(1_000))), 10).await, [e3, e2]);
    assert_eq!(list(q(|q| q.until = Some(at(1_000))), 10).await, [e1]);
    let by_state = |state| {
        let query = EventQuery {
            state: Some(state),
            ..Default::default()
        };
        list(query, 10)
    };
    assert_eq!(by_state(EventState::DeadLettered).await, [e1]);
    assert_eq!(by_state(EventState::Pending).await, [e2]);
    assert_eq!(by_state(EventState::NoRoute).await, [e3]);
    assert!(by_state(EventState::Delivered).await.is_empty());
}

/// Search: event-type globs (`*` only: `?`, `%`, `_` and `[` are themselves), text that is a
/// prefix of the event's id or of one of its deliveries' ids or a fragment of its key, a
/// destination it has a delivery to, a status one of its attempts was answered with; each
/// combines with the other filters and stays in its tenant.
pub async fn list_events_searches(store: Arc<dyn Store>) {
    let (t, other) = (tenant("acme"), tenant("globex"));
    let mut created = new_event(&t, "shop", "order-1001", 0, &["x", "y"]);
    created.event.event_type = "order.created".into();
    let e1 = insert(&*store, created).await;
    let mut paid = new_event(&t, "shop", "order-1002", 1_000, &["x"]);
    paid.event.event_type = "order.paid".into();
    let e2 = insert(&*store, paid).await;
    let mut odd = new_event(&t, "shop", "odd", 2_000, &[]);
    odd.event.event_type = "a%b_c?[d]".into();
    let e3 = insert(&*store, odd).await;
    let mut elsewhere = new_event(&other, "shop", "order-1001", 3_000, &["x"]);
    elsewhere.event.event_type = "order.created".into();
    let e4 = insert(&*store, elsewhere).await;

    // e1: x delivered (200), y dead-lettered (500); e2: x pending; e4 (other tenant): x
    // delivered (200).
    let leased = store.lease_due(at(10), 10, MINUTE).await.unwrap();
    let mut e1_to_y = None;
    for l in &leased {
        match (l.event.id, l.delivery.destination.as_str()) {
            (id, "x") if id == e1 || id == e4 => {
                complete(&*store, l, NextStep::Delivered, at(10)).await;
            }
            (id, _) if id == e1 => {
                e1_to_y = Some(l.delivery.id);
                complete(&*store, l, NextStep::DeadLettered, at(10)).await;
            }
            _ => store.release(&l.lease, at(10)).await.unwrap(),
        }
    }
    let e1_to_y = e1_to_y.expect("e1's delivery to y").to_string();

    let find = |f: &dyn Fn(&mut EventQuery)| {
        let mut query = EventQuery::default();
        f(&mut query);
        let store = Arc::clone(&store);
        let t = t.clone();
        async move {
            (store.list_events(&t, &query, 10).await.unwrap().into_iter())
                .map(|s| s.id)
                .collect::<Vec<_>>()
        }
    };
    let some = |text: &str| Some(text.to_owned());
    assert_eq!(find(&|q| q.event_type = some("order.*")).await, [e2, e1]);
    assert_eq!(find(&|q| q.event_type = some("*.paid")).await, [e2]);
    assert_eq!(find(&|q| q.event_type = some("*")).await, [e3, e2, e1]);
    assert!(find(&|q| q.event_type = some("order.")).await.is_empty());
    assert!(find(&|q| q.event_type = some("Order.*")).await.is_empty());
    assert_eq!(find(&|q| q.event_type = some("a%b_c?[d]")).await, [e3]);
    assert_eq!(find(&|q| q.event_type = some("a*[d]")).await, [e3]);
    for wildcard_elsewhere in ["a_b%c?[d]", "a%b_c_[d]", "a%b_c?[?]", "a%b_c?d"] {
        let glob = wildcard_elsewhere.to_owned();
        let found = find(&move |q| q.event_type = Some(glob.clone())).await;
        assert!(
            found.is_empty(),
            "{wildcard_elsewhere} is no wildcard but `*`"
        );
    }

    let id1 = e1.to_string();
    assert_eq!(
        find(&|q| q.text = some(id1.as_str())).await,
        [e1],
        "an event id"
    );
    let start = id1[..id1.len() - 2].to_owned();
    assert!(
        find(&move |q| q.text = Some(start.clone()))
            .await
            .contains(&e1),
        "an id prefix"
    );
    assert_eq!(
        find(&|q| q.text = some(e1_to_y.as_str())).await,
        [e1],
        "a delivery id"
    );
    let start = e1_to_y[..e1_to_y.len() - 1].to_owned();
    assert_eq!(find(&move |q| q.text = Some(start.clone())).await, [e1]);
    assert_eq!(
        find(&|q| q.text = some("order-100")).await,
        [e2, e1],
        "a key prefix"
    );
    assert_eq!(
        find(&|q| q.text = some("1002")).await,
        [e2],
        "a key fragment"
    );
    let theirs = e4.to_string();
    assert!(
        find(&|q| q.text = some(theirs.as_str())).await.is_empty(),
        "another tenant's"
    );
    assert!(find(&|q| q.text = some("evt_zz")).await.is_empty());

    assert_eq!(find(&|q| q.destination = some("x")).await, [e2, e1]);
    assert_eq!(find(&|q| q.destination = some("y")).await, [e1]);
    assert!(find(&|q| q.destination = some("z")).await.is_empty());
    assert_eq!(find(&|q| q.response_status = Some(500)).await, [e1]);
    assert_eq!(find(&|q| q.response_status = Some(200)).await, [e1]);
    assert!(find(&|q| q.response_status = Some(404)).await.is_empty());

    let pending_to_x = find(&|q| {
        q.destination = some("x");
        q.state = Some(EventState::Pending);
    });
    assert_eq!(pending_to_x.await, [e2]);
    let typed_and_found = find(&|q| {
        q.event_type = some("order.*");
        q.text = some("order-1001");
        q.response_status = Some(200);
    });
    assert_eq!(typed_and_found.await, [e1]);
    let paged = find(&|q| {
        q.event_type = some("order.*");
        q.before = Some(e2);
    });
    assert_eq!(paged.await, [e1]);
}

/// Dead-letter pages by id after a cursor; discarding is final: not redriven, not leased,
/// counted as finished by pruning, and rescheduled only by an explicit event replay.
pub async fn dead_letter_pages_and_discard(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let e1 = insert(&*store, new_event(&t, "src", "1", 0, &["x", "y"])).await;
    insert(&*store, new_event(&t, "src", "2", 1, &["x"])).await;
    insert(&*store, new_event(&tenant("globex"), "src", "3", 2, &["x"])).await;
    assert_eq!(finish_due(&*store, at(10), NextStep::DeadLettered).await, 4);

    let all = DeadLetterFilter::default();
    let page1 = store.dead_letter_page(&t, &all, None, 2).await.unwrap();
    assert_eq!(page1.len(), 2);
    assert!(page1[0].id < page1[1].id);
    let page2 = (store.dead_letter_page(&t, &all, Some(page1[1].id), 2))
        .await
        .unwrap();
    assert_eq!(page2.len(), 1);
    assert!(page2[0].id > page1[1].id);
    let to_y = DeadLetterFilter {
        destination: Some("y".into()),
        ..Default::default()
    };
    let ys = store.dead_letter_page(&t, &to_y, None, 10).await.unwrap();
    assert_eq!(ys.len(), 1);
    assert_eq!(ys[0].event_id, e1);

    let by_event = DeadLetterFilter {
        event_id: Some(e1),
        ..Default::default()
    };
    assert_eq!(
        store
            .discard_dead_letters(&t, &by_event, at(20))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .discard_dead_letters(&t, &by_event, at(21))
            .await
            .unwrap(),
        0
    );
    let left = store.dead_letter_page(&t, &all, None, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_ne!(left[0].event_id, e1);
    let discarded = store.deliveries(&t, e1).await.unwrap();
    assert!(
        discarded
            .iter()
            .all(|d| d.status == DeliveryStatus::Discarded)
    );
    assert_eq!(store.redrive(&t, &by_event, at(30)).await.unwrap(), 0);
    assert!(
        store
            .lease_due(at(40), 10, MINUTE)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.prune(at(1_000_000), at(0), 100).await.unwrap(),
        3,
        "events with only dead-lettered or discarded deliveries are finished"
    );
}

/// An event replay reschedules a discarded delivery like a dead-lettered one.
pub async fn replay_reschedules_discarded(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let e = insert(&*store, new_event(&t, "src", "1", 0, &["x"])).await;
    assert_eq!(finish_due(&*store, at(10), NextStep::DeadLettered).await, 1);
    let filter = DeadLetterFilter::default();
    assert_eq!(
        store
            .discard_dead_letters(&t, &filter, at(20))
            .await
            .unwrap(),
        1
    );
    let report = store
        .schedule(&t, e, plan(&["x"]), false, at(30))
        .await
        .unwrap();
    assert_eq!(report.scheduled.len(), 1);
    let leased = store.lease_due(at(30), 10, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].event.id, e);
}
