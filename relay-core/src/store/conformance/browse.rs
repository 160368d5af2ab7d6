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
