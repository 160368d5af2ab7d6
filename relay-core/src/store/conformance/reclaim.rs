//! Lease holders: a node's next life reclaims the leases recorded under its identity at
//! once, and the fencing tokens keep the dead life's late writes from counting.

use super::*;
use crate::deliver::ordering::OnDeadLetter;
use crate::model::ids::NodeId;

fn node(name: &str) -> NodeId {
    NodeId::new(name).unwrap()
}

/// `reclaim` gives back the in-flight deliveries leased by that identity (unexpired ones
/// included), due at once, and nothing leased by another identity or without one.
pub async fn reclaim_takes_back_its_own_leases_only(store: Arc<dyn Store>) {
    let t = tenant("acme");
    for (i, key) in ["one", "two", "three", "four"].into_iter().enumerate() {
        insert(&*store, new_event(&t, "s", key, i as i64, &["a"])).await;
    }
    let (a, b) = (node("node-a"), node("node-b"));
    let by_a = store
        .lease_due_as(Some(&a), &[], at(1_000), 2, MINUTE)
        .await
        .unwrap();
    let by_b = store
        .lease_due_as(Some(&b), &[], at(1_000), 1, MINUTE)
        .await
        .unwrap();
    let anonymous = store.lease_due(at(1_000), 1, MINUTE).await.unwrap();
    assert_eq!((by_a.len(), by_b.len(), anonymous.len()), (2, 1, 1));

    // Node A starts again, long before its leases would expire.
    assert_eq!(store.reclaim(&a, at(2_000)).await.unwrap(), 2);
    for l in &by_a {
        let d = store.delivery(&t, l.delivery.id).await.unwrap().unwrap();
        assert_eq!(d.status, DeliveryStatus::Pending);
        assert_eq!(d.next_attempt_at, at(2_000));
        assert_eq!(d.attempts, 0);
    }
    for l in by_b.iter().chain(&anonymous) {
        let d = store.delivery(&t, l.delivery.id).await.unwrap().unwrap();
        assert_eq!(d.status, DeliveryStatus::InFlight, "{} was taken", d.id);
    }
    // Nothing is left to reclaim under A; B's lease is still B's.
    assert_eq!(store.reclaim(&a, at(2_000)).await.unwrap(), 0);
    assert_eq!(store.reclaim(&node("node-c"), at(2_000)).await.unwrap(), 0);

    // A's deliveries are due now, and only they: the others are held until they expire.
    let again = store
        .lease_due_as(Some(&a), &[], at(2_000), 10, MINUTE)
        .await
        .unwrap();
    let mut ids: Vec<DeliveryId> = again.iter().map(|l| l.delivery.id).collect();
    let mut expected: Vec<DeliveryId> = by_a.iter().map(|l| l.delivery.id).collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
    for l in &again {
        let old = by_a
            .iter()
            .find(|o| o.delivery.id == l.delivery.id)
            .unwrap();
        assert!(l.lease.token > old.lease.token);
    }
    assert_eq!(store.reclaim(&b, at(3_000)).await.unwrap(), 1);
    let b_again = store.lease_due(at(3_000), 10, MINUTE).await.unwrap();
    assert_eq!(b_again.len(), 1);
    assert_eq!(b_again[0].delivery.id, by_b[0].delivery.id);
    // A lease taken without a holder is reclaimed by no identity.
    assert_eq!(store.reclaim(&b, at(3_000)).await.unwrap(), 0);
}

/// After a reclaim, the dead life's completion and release of its old lease change nothing,
/// before and after the next life leases the delivery again; the next life's attempt counts.
pub async fn reclaimed_leases_are_fenced(store: Arc<dyn Store>) {
    let t = tenant("acme");
    insert(&*store, new_event(&t, "s", "k", 0, &["a"])).await;
    let a = node("node-a");
    let dead = store
        .lease_due_as(Some(&a), &[], at(0), 1, MINUTE)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(store.reclaim(&a, at(100)).await.unwrap(), 1);

    // The dead life's late write, before the delivery is leased again.
    let late = store
        .complete_attempt(completion(&dead.lease, 1, at(150), NextStep::Delivered))
        .await;
    assert!(matches!(late, Err(StoreError::LeaseLost(id)) if id == dead.lease.delivery_id));
    store.release(&dead.lease, at(90_000)).await.unwrap();
    let d = store.delivery(&t, dead.delivery.id).await.unwrap().unwrap();
    assert_eq!(
        (d.status, d.next_attempt_at),
        (DeliveryStatus::Pending, at(100))
    );
    assert!(store.attempts(&t, d.id).await.unwrap().is_empty());

    // The next life leases it with a larger token; the dead life's writes still count for
    // nothing, the next life's do.
    let next = store
        .lease_due_as(Some(&a), &[], at(200), 1, MINUTE)
        .await
        .unwrap()
        .remove(0);
    assert!(next.lease.token > dead.lease.token);
    let late = store
        .complete_attempt(completion(&dead.lease, 1, at(250), NextStep::DeadLettered))
        .await;
    assert!(matches!(late, Err(StoreError::LeaseLost(_))));
    store.release(&dead.lease, at(90_000)).await.unwrap();
    let d = store.delivery(&t, dead.delivery.id).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::InFlight);
    complete(&*store, &next, NextStep::Delivered, at(300)).await;
    let d = store.delivery(&t, dead.delivery.id).await.unwrap().unwrap();
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 1));
    let attempts = store.attempts(&t, d.id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, AttemptOutcome::Delivered);
    // A delivered delivery is not in flight: nothing to reclaim.
    assert_eq!(store.reclaim(&a, at(400)).await.unwrap(), 0);
}

/// A reclaimed lane head is the lane's head again: it is leased before the deliveries behind
/// it, which stay behind it.
pub async fn reclaimed_lane_head_keeps_its_place(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let ordered = |key: &str, offset: i64| {
        ordered_event(&t, key, offset, "d", Some("lane"), OnDeadLetter::Skip)
    };
    let head = insert(&*store, ordered("first", 0)).await;
    let second = insert(&*store, ordered("second", 10)).await;
    let a = node("node-a");
    let leased = store
        .lease_due_as(Some(&a), &[], at(1_000), 10, MINUTE)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].event.id, head);
    assert_eq!(store.reclaim(&a, at(2_000)).await.unwrap(), 1);
    let again = store
        .lease_due_as(Some(&a), &[], at(2_000), 10, MINUTE)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].event.id, head);
    complete(&*store, &again[0], NextStep::Delivered, at(2_100)).await;
    let next = store.lease_due(at(2_200), 10, MINUTE).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].event.id, second);
}
