//! The delivery queue: leases, fencing, attempts, release.

use super::*;

/// Oldest due first, `limit` respected, not-yet-due ones left alone.
pub async fn lease_due_oldest_first_with_limit(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let late = insert(&*store, new_event(&t, "s", "late", 3_000, &["a"])).await;
    let early = insert(&*store, new_event(&t, "s", "early", 1_000, &["a"])).await;
    let middle = insert(&*store, new_event(&t, "s", "middle", 2_000, &["a"])).await;
    let future = insert(&*store, new_event(&t, "s", "future", 60_000, &["a"])).await;

    assert!(
        store
            .lease_due(at(500), 10, MINUTE)
            .await
            .unwrap()
            .is_empty()
    );
    let first = store.lease_due(at(10_000), 2, MINUTE).await.unwrap();
    let ids: Vec<EventId> = first.iter().map(|l| l.event.id).collect();
    assert_eq!(ids, vec![early, middle]);
    for l in &first {
        assert_eq!(l.delivery.status, DeliveryStatus::InFlight);
        assert_eq!(l.delivery.next_attempt_at, at(10_000).plus(MINUTE));
        assert_eq!(l.lease.tenant, t);
        assert_eq!(l.lease.delivery_id, l.delivery.id);
        assert_eq!(l.event.id, l.delivery.event_id);
    }
    let rest = store.lease_due(at(10_000), 10, MINUTE).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].event.id, late);
    assert!(
        store
            .lease_due(at(10_000), 10, MINUTE)
            .await
            .unwrap()
            .is_empty()
    );
    let stored = store.deliveries(&t, future).await.unwrap();
    assert_eq!(stored[0].status, DeliveryStatus::Pending);
}

/// Concurrent lease_due calls never hand out one delivery twice.
pub async fn concurrent_leases_are_exclusive(store: Arc<dyn Store>) {
    let t = tenant("acme");
    for i in 0..100 {
        let key = format!("k{i}");
        insert(&*store, new_event(&t, "s", &key, i, &["a", "b"])).await;
    }
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let leased = store.lease_due(at(1_000), 7, MINUTE).await.unwrap();
                    if leased.is_empty() {
                        return mine;
                    }
                    mine.extend(leased.into_iter().map(|l| l.delivery.id));
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for task in tasks {
        for id in task.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "{id} leased twice");
        }
    }
    assert_eq!(total, 200);
}

/// An expired lease is taken over with a larger token; the old holder is fenced off.
pub async fn expired_lease_is_fenced(store: Arc<dyn Store>) {
    let t = tenant("acme");
    insert(&*store, new_event(&t, "s", "k", 0, &["a"])).await;
    let lease_for = Duration::from_secs(1);
    let first = store.lease_due(at(0), 10, lease_for).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        store
            .lease_due(at(500), 10, lease_for)
            .await
            .unwrap()
            .is_empty()
    );
    let second = store.lease_due(at(2_000), 10, lease_for).await.unwrap();
    assert_eq!(second.len(), 1);
    let (old, new) = (&first[0].lease, &second[0].lease);
    assert_eq!(old.delivery_id, new.delivery_id);
    assert!(new.token > old.token);
    assert_eq!(second[0].delivery.status, DeliveryStatus::InFlight);

    let stale = store
        .complete_attempt(completion(old, 1, at(2_100), NextStep::Delivered))
        .await;
    assert!(matches!(stale, Err(StoreError::LeaseLost(id)) if id == old.delivery_id));
    // A stale release is not an error and changes nothing.
    store.release(old, at(0)).await.unwrap();
    let d = store.delivery(&t, old.delivery_id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::InFlight);
    assert_eq!(d.attempts, 0);
    assert!(store.attempts(&t, d.id).await.unwrap().is_empty());

    complete(&*store, &second[0], NextStep::Delivered, at(2_200)).await;
    let d = store.delivery(&t, old.delivery_id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Delivered);
    assert_eq!(d.attempts, 1);
}

/// RetryAt, DeadLettered and Delivered transitions, counters and the attempt log.
pub async fn complete_attempt_moves_delivery_on(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let event = insert(&*store, new_event(&t, "s", "k", 0, &["a"])).await;

    let l1 = store.lease_due(at(0), 1, MINUTE).await.unwrap().remove(0);
    complete(&*store, &l1, NextStep::RetryAt(at(10_000)), at(100)).await;
    let d = store.delivery(&t, l1.delivery.id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!((d.attempts, d.cycle_attempts), (1, 1));
    assert_eq!(d.next_attempt_at, at(10_000));
    assert_eq!(d.last_error.as_deref(), Some("http 500 #1"));
    // Completing twice under the same lease is refused.
    let twice = store
        .complete_attempt(completion(&l1.lease, 2, at(200), NextStep::Delivered))
        .await;
    assert!(matches!(twice, Err(StoreError::LeaseLost(_))));

    assert!(
        store
            .lease_due(at(5_000), 1, MINUTE)
            .await
            .unwrap()
            .is_empty()
    );
    let l2 = store
        .lease_due(at(10_000), 1, MINUTE)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(l2.delivery.attempts, 1);
    assert!(l2.lease.token > l1.lease.token);
    complete(&*store, &l2, NextStep::DeadLettered, at(10_100)).await;
    let d = store.delivery(&t, l1.delivery.id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::DeadLettered);
    assert_eq!((d.attempts, d.cycle_attempts), (2, 2));
    assert!(
        store
            .lease_due(at(99_000), 1, MINUTE)
            .await
            .unwrap()
            .is_empty()
    );

    let report = store
        .schedule(&t, event, plan(&["a"]), false, at(20_000))
        .await
        .unwrap();
    assert_eq!(report.scheduled, vec![d.id]);
    let l3 = store
        .lease_due(at(20_000), 1, MINUTE)
        .await
        .unwrap()
        .remove(0);
    assert_eq!((l3.delivery.attempts, l3.delivery.cycle_attempts), (2, 0));
    complete(&*store, &l3, NextStep::Delivered, at(20_100)).await;
    let d = store.delivery(&t, d.id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Delivered);
    assert_eq!((d.attempts, d.cycle_attempts), (3, 1));
    assert_eq!(d.last_error, None);
    assert!(
        store
            .lease_due(at(99_000), 1, MINUTE)
            .await
            .unwrap()
            .is_empty()
    );

    let attempts = store.attempts(&t, d.id).await.unwrap();
    let numbers: Vec<u32> = attempts.iter().map(|a| a.number).collect();
    assert_eq!(numbers, vec![1, 2, 3]);
    let outcomes: Vec<AttemptOutcome> = attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            AttemptOutcome::Retrying,
            AttemptOutcome::DeadLettered,
            AttemptOutcome::Delivered
        ]
    );
    assert_eq!(
        attempts[0],
        attempt(&l1.lease, 1, at(100), AttemptOutcome::Retrying)
    );
}

/// A released delivery is pending again at the given time, without an attempt.
pub async fn release_returns_delivery_to_queue(store: Arc<dyn Store>) {
    let t = tenant("acme");
    insert(&*store, new_event(&t, "s", "k", 0, &["a"])).await;
    let l = store.lease_due(at(0), 1, MINUTE).await.unwrap().remove(0);
    store.release(&l.lease, at(30_000)).await.unwrap();
    let d = store.delivery(&t, l.delivery.id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!(d.next_attempt_at, at(30_000));
    assert_eq!(d.attempts, 0);
    assert!(
        store
            .lease_due(at(1_000), 1, MINUTE)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.lease_due(at(30_000), 1, MINUTE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert!(again[0].lease.token > l.lease.token);
    // The released lease no longer completes.
    let stale = store
        .complete_attempt(completion(&l.lease, 1, at(30_001), NextStep::Delivered))
        .await;
    assert!(matches!(stale, Err(StoreError::LeaseLost(_))));
}

/// The queue depth counts pending and in-flight deliveries of every tenant, and nothing
/// delivered, dead-lettered or without a route.
pub async fn queue_depth_counts_pending_and_in_flight(store: Arc<dyn Store>) {
    assert_eq!(store.queue_depth().await.unwrap(), 0);
    let (acme, other) = (tenant("acme"), tenant("other"));
    insert(&*store, new_event(&acme, "s", "one", 0, &["a", "b"])).await;
    insert(&*store, new_event(&acme, "s", "two", 0, &["a"])).await;
    insert(&*store, new_event(&other, "s", "three", 0, &["a"])).await;
    insert(&*store, new_event(&acme, "s", "no-route", 0, &[])).await;
    insert(&*store, new_event(&acme, "s", "later", 60_000, &["a"])).await;
    assert_eq!(store.queue_depth().await.unwrap(), 5);

    let leased = store.lease_due(at(1_000), 4, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 4);
    // Leased deliveries are in flight: still queued.
    assert_eq!(store.queue_depth().await.unwrap(), 5);
    complete(&*store, &leased[0], NextStep::Delivered, at(1_100)).await;
    complete(&*store, &leased[1], NextStep::DeadLettered, at(1_100)).await;
    complete(&*store, &leased[2], NextStep::RetryAt(at(9_000)), at(1_100)).await;
    store.release(&leased[3].lease, at(5_000)).await.unwrap();
    assert_eq!(store.queue_depth().await.unwrap(), 3);

    assert_eq!(
        finish_due(&*store, at(120_000), NextStep::Delivered).await,
        3
    );
    assert_eq!(store.queue_depth().await.unwrap(), 0);
}
