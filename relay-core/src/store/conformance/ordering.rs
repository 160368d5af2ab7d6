//! Ordered delivery: one lease per lane (tenant, destination, ordering key) at a time, in
//! ingest order, across expired leases, retries, dead letters and concurrent leasers.

use std::collections::HashMap;
use std::sync::Mutex;

use super::*;
use crate::deliver::ordering::{OnDeadLetter, OrderedBy};

/// An event to `destination` whose delivery is ordered by `key` (unordered with `None`).
pub fn ordered_event(
    tenant: &TenantId,
    idempotency_key: &str,
    offset_ms: i64,
    destination: &str,
    key: Option<&str>,
    on_dead_letter: OnDeadLetter,
) -> NewEvent {
    let mut new = new_event(tenant, "s", idempotency_key, offset_ms, &[destination]);
    new.deliveries[0].ordering = key.map(|key| OrderedBy {
        key: key.to_owned(),
        on_dead_letter,
    });
    new
}

async fn ordered(
    store: &dyn Store,
    idempotency_key: &str,
    offset_ms: i64,
    destination: &str,
    key: Option<&str>,
) -> EventId {
    insert(
        store,
        ordered_event(
            &tenant("acme"),
            idempotency_key,
            offset_ms,
            destination,
            key,
            OnDeadLetter::Skip,
        ),
    )
    .await
}

fn events(leased: &[LeasedDelivery]) -> Vec<EventId> {
    leased.iter().map(|l| l.event.id).collect()
}

/// Only the head of each lane is leased; the next waits until the head is delivered, and
/// behind a retrying head; unordered deliveries and other destinations are not held up.
pub async fn ordered_lane_leases_its_head_only(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let a1 = ordered(&*store, "a1", 0, "d", Some("A")).await;
    let a2 = ordered(&*store, "a2", 10, "d", Some("A")).await;
    let b1 = ordered(&*store, "b1", 20, "d", Some("B")).await;
    let a3 = ordered(&*store, "a3", 30, "d", Some("A")).await;
    let free = ordered(&*store, "free", 40, "d", None).await;
    let elsewhere = ordered(&*store, "elsewhere", 50, "other", Some("A")).await;

    let first = store.lease_due(at(1_000), 100, MINUTE).await.unwrap();
    assert_eq!(events(&first), vec![a1, b1, free, elsewhere]);
    assert_eq!(first[0].delivery.ordering_key.as_deref(), Some("A"));
    assert_eq!(first[2].delivery.ordering_key, None);
    let stored = store.deliveries(&t, a2).await.unwrap();
    assert_eq!(stored[0].ordering_key.as_deref(), Some("A"));
    assert!(
        store
            .lease_due(at(1_000), 100, MINUTE)
            .await
            .unwrap()
            .is_empty(),
        "the rest of lane A waits for its head"
    );

    complete(&*store, &first[0], NextStep::Delivered, at(1_100)).await;
    let second = store.lease_due(at(1_200), 100, MINUTE).await.unwrap();
    assert_eq!(events(&second), vec![a2]);

    // A retrying head holds its lane until it is delivered; the deliveries behind it are due
    // no earlier than it.
    complete(&*store, &second[0], NextStep::RetryAt(at(5_000)), at(1_300)).await;
    let behind = store.deliveries(&t, a3).await.unwrap().remove(0);
    assert_eq!(behind.next_attempt_at, at(5_000));
    let other_lane = store.deliveries(&t, b1).await.unwrap().remove(0);
    assert_eq!(
        other_lane.status,
        DeliveryStatus::InFlight,
        "other lanes untouched"
    );
    assert!(
        store
            .lease_due(at(2_000), 100, MINUTE)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = store.lease_due(at(5_000), 100, MINUTE).await.unwrap();
    assert_eq!(events(&retried), vec![a2]);
    complete(&*store, &retried[0], NextStep::Delivered, at(5_100)).await;
    let third = store.lease_due(at(5_200), 100, MINUTE).await.unwrap();
    assert_eq!(events(&third), vec![a3]);
}

/// An expired lease (a worker that died) is taken over by the same head, not by the next
/// delivery of its lane; a released head keeps its place.
pub async fn ordered_lane_survives_expired_leases(store: Arc<dyn Store>) {
    let first = ordered(&*store, "1", 0, "d", Some("K")).await;
    let second = ordered(&*store, "2", 10, "d", Some("K")).await;
    let lease_for = Duration::from_secs(1);
    let leased = store.lease_due(at(100), 10, lease_for).await.unwrap();
    assert_eq!(events(&leased), vec![first]);
    assert!(
        store
            .lease_due(at(600), 10, lease_for)
            .await
            .unwrap()
            .is_empty()
    );
    let taken_over = store.lease_due(at(2_000), 10, lease_for).await.unwrap();
    assert_eq!(events(&taken_over), vec![first]);
    assert!(taken_over[0].lease.token > leased[0].lease.token);

    store
        .release(&taken_over[0].lease, at(10_000))
        .await
        .unwrap();
    let t = tenant("acme");
    let behind = store.deliveries(&t, second).await.unwrap().remove(0);
    assert_eq!(
        behind.next_attempt_at,
        at(10_000),
        "due no earlier than its head"
    );
    assert!(
        store
            .lease_due(at(3_000), 10, lease_for)
            .await
            .unwrap()
            .is_empty(),
        "a released head still holds its lane"
    );
    let again = store.lease_due(at(10_000), 10, lease_for).await.unwrap();
    assert_eq!(events(&again), vec![first]);
    complete(&*store, &again[0], NextStep::Delivered, at(10_100)).await;
    let next = store.lease_due(at(10_200), 10, lease_for).await.unwrap();
    assert_eq!(events(&next), vec![second]);
}

/// A dead-lettered head lets its lane go on with `skip` and holds it with `block` until it
/// is redriven and delivered; a redriven head takes its place in the lane again.
pub async fn ordered_dead_letter_skips_or_blocks(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let event =
        |key: &str, offset, lane, mode| ordered_event(&t, key, offset, "d", Some(lane), mode);
    let s1 = insert(&*store, event("s1", 0, "S", OnDeadLetter::Skip)).await;
    let s2 = insert(&*store, event("s2", 10, "S", OnDeadLetter::Skip)).await;
    let s3 = insert(&*store, event("s3", 15, "S", OnDeadLetter::Skip)).await;
    let b1 = insert(&*store, event("b1", 20, "B", OnDeadLetter::Block)).await;
    let b2 = insert(&*store, event("b2", 30, "B", OnDeadLetter::Block)).await;

    let heads = store.lease_due(at(100), 10, MINUTE).await.unwrap();
    assert_eq!(events(&heads), vec![s1, b1]);
    for head in &heads {
        complete(&*store, head, NextStep::DeadLettered, at(200)).await;
    }
    let next = store.lease_due(at(300), 10, MINUTE).await.unwrap();
    assert_eq!(events(&next), vec![s2], "skip goes on, block holds");
    complete(&*store, &next[0], NextStep::Delivered, at(400)).await;

    // Both dead letters back: each is the head of its lane again, s1 before s3.
    assert_eq!(
        store
            .redrive(&t, &DeadLetterFilter::default(), at(500))
            .await
            .unwrap(),
        2
    );
    let redriven = store.lease_due(at(600), 10, MINUTE).await.unwrap();
    let mut got = events(&redriven);
    got.sort();
    let mut want = vec![s1, b1];
    want.sort();
    assert_eq!(got, want);
    for l in &redriven {
        complete(&*store, l, NextStep::Delivered, at(700)).await;
    }
    let last = store.lease_due(at(800), 10, MINUTE).await.unwrap();
    let mut got = events(&last);
    got.sort();
    let mut want = vec![s3, b2];
    want.sort();
    assert_eq!(got, want);
}

/// Lanes are per tenant and per destination: the same key elsewhere does not wait.
pub async fn ordered_lanes_are_per_tenant_and_destination(store: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for (i, (tenant_name, destination)) in [("x", "a"), ("x", "b"), ("y", "a"), ("y", "b")]
        .into_iter()
        .enumerate()
    {
        let t = tenant(tenant_name);
        for n in 0..2 {
            let offset = i64::try_from(i * 10 + n).unwrap();
            let new = ordered_event(
                &t,
                &format!("{destination}{n}"),
                offset,
                destination,
                Some("same"),
                OnDeadLetter::Skip,
            );
            let id = insert(&*store, new).await;
            if n == 0 {
                ids.push(id);
            }
        }
    }
    let heads = store.lease_due(at(1_000), 100, MINUTE).await.unwrap();
    assert_eq!(events(&heads), ids);
}

/// Concurrent leasers never hold two deliveries of one lane at once, and each lane is
/// delivered in ingest order.
pub async fn concurrent_leasers_keep_lanes_in_order(store: Arc<dyn Store>) {
    const KEYS: usize = 5;
    const PER_KEY: usize = 12;
    let t = tenant("acme");
    let mut position = HashMap::new();
    for n in 0..PER_KEY {
        for k in 0..KEYS {
            let key = format!("k{k}");
            let offset = i64::try_from(n * KEYS + k).unwrap();
            let new = ordered_event(
                &t,
                &format!("{key}-{n}"),
                offset,
                "d",
                Some(&key),
                OnDeadLetter::Skip,
            );
            position.insert(new.deliveries[0].id, (key, n));
            insert(&*store, new).await;
        }
    }
    let position = Arc::new(position);
    let busy = Arc::new(Mutex::new(HashMap::<String, bool>::new()));
    let delivered = Arc::new(Mutex::new(HashMap::<String, Vec<usize>>::new()));
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (store, position) = (Arc::clone(&store), Arc::clone(&position));
            let (busy, delivered) = (Arc::clone(&busy), Arc::clone(&delivered));
            tokio::spawn(async move {
                let mut idle = 0;
                while idle < 50 {
                    let leased = store.lease_due(at(100_000), 3, MINUTE).await.unwrap();
                    if leased.is_empty() {
                        idle += 1;
                        tokio::task::yield_now().await;
                        continue;
                    }
                    idle = 0;
                    for l in &leased {
                        let (key, n) = position[&l.delivery.id].clone();
                        let was_busy = busy.lock().unwrap().insert(key.clone(), true);
                        assert_ne!(
                            was_busy,
                            Some(true),
                            "two deliveries of {key} leased at once"
                        );
                        tokio::task::yield_now().await;
                        delivered
                            .lock()
                            .unwrap()
                            .entry(key.clone())
                            .or_default()
                            .push(n);
                        busy.lock().unwrap().insert(key, false);
                        complete(&*store, l, NextStep::Delivered, at(100_000)).await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let delivered = delivered.lock().unwrap();
    assert_eq!(delivered.len(), KEYS);
    for (key, order) in delivered.iter() {
        assert_eq!(*order, (0..PER_KEY).collect::<Vec<_>>(), "lane {key}");
    }
}
