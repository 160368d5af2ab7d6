//! The backend conformance suite: every [`Store`] implementation must pass it.
//!
//! Each case is an `async fn` taking a fresh, empty store. A backend crate expands the whole
//! suite once with [`store_conformance_tests!`](crate::store_conformance_tests), giving it an
//! async factory; the factory may return the store alone or `(store, guard)` where the guard
//! (a temporary directory, a container handle…) lives until the case ends:
//!
//! ```ignore
//! relay_core::store_conformance_tests!(|| async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = MyStore::open(dir.path().join("t.db")).unwrap();
//!     (std::sync::Arc::new(store) as std::sync::Arc<dyn relay_core::store::Store>, dir)
//! });
//! ```
//!
//! The expansion uses `#[tokio::test(flavor = "multi_thread")]`, so the calling crate needs
//! `tokio` (with `macros` and `rt-multi-thread`) as a dev-dependency.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use super::{
    AttemptCompletion, DeadLetterFilter, InsertOutcome, Lease, LeasedDelivery, NewDelivery,
    NewEvent, NextStep, Store, StoreError,
};
use crate::event::{Attempt, AttemptOutcome, DeliveryStatus, Event, EventStatus};
use crate::ids::{DeliveryId, EventId, TenantId};
use crate::time::Timestamp;

/// What a factory hands to the suite: the store, and anything that must outlive the case.
pub trait Fixture: Send + 'static {
    /// The store under test.
    fn store(&self) -> Arc<dyn Store>;
}

impl Fixture for Arc<dyn Store> {
    fn store(&self) -> Arc<dyn Store> {
        Arc::clone(self)
    }
}

impl<G: Send + 'static> Fixture for (Arc<dyn Store>, G) {
    fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.0)
    }
}

/// Expands one `#[tokio::test]` per conformance case, each on a store from `$factory`
/// (a closure returning a future of a [`Fixture`]).
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::store_conformance_tests!(@cases $factory;
            insert_and_read_back,
            duplicate_within_window_returns_original,
            expired_dedup_entry_inserts_again,
            same_key_in_two_tenants_is_two_events,
            concurrent_identical_inserts_insert_once,
            lease_due_oldest_first_with_limit,
            concurrent_leases_are_exclusive,
            expired_lease_is_fenced,
            complete_attempt_moves_delivery_on,
            release_returns_delivery_to_queue,
            dead_letters_filter,
            redrive_is_idempotent,
            schedule_replays_event,
            tenants_are_isolated,
            prune_removes_only_finished_old_events,
            ping_answers,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture = ($factory)().await;
                let store = $crate::store::conformance::Fixture::store(&fixture);
                $crate::store::conformance::$case(store).await;
                drop(fixture);
            }
        )*
    };
}

/// A fixed base time for the cases (deliveries of an event are due at its `received_at`).
pub const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

const MINUTE: Duration = Duration::from_secs(60);

fn at(offset_ms: i64) -> Timestamp {
    Timestamp::from_millis(T0.as_millis() + offset_ms)
}

fn tenant(name: &str) -> TenantId {
    TenantId::new(name)
}

/// A new event of `tenant`, from `source` with idempotency key `key`, received at
/// `T0 + offset_ms`, deduplicating for an hour, with one delivery per destination.
pub fn new_event(
    tenant: &TenantId,
    source: &str,
    key: &str,
    offset_ms: i64,
    destinations: &[&str],
) -> NewEvent {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let received_at = at(offset_ms);
    NewEvent {
        event: Event {
            tenant: tenant.clone(),
            id: EventId::new(),
            source: source.to_owned(),
            event_type: "test.event".to_owned(),
            idempotency_key: key.to_owned(),
            headers,
            body: Bytes::from(format!("{{\"key\":\"{key}\"}}")),
            received_at,
            status: if destinations.is_empty() {
                EventStatus::NoRoute
            } else {
                EventStatus::Routed
            },
        },
        dedup_until: received_at.plus(Duration::from_secs(3600)),
        deliveries: plan(destinations),
    }
}

fn plan(destinations: &[&str]) -> Vec<NewDelivery> {
    destinations
        .iter()
        .map(|d| NewDelivery {
            id: DeliveryId::new(),
            destination: (*d).to_owned(),
            route: format!("route-{d}"),
        })
        .collect()
}

async fn insert(store: &dyn Store, new: NewEvent) -> EventId {
    let id = new.event.id;
    assert_eq!(
        store.insert_event(new).await.unwrap(),
        InsertOutcome::Inserted
    );
    id
}

fn attempt(lease: &Lease, number: u32, started_at: Timestamp, outcome: AttemptOutcome) -> Attempt {
    let ok = outcome == AttemptOutcome::Delivered;
    Attempt {
        delivery_id: lease.delivery_id,
        number,
        started_at,
        latency_ms: 12,
        status_code: Some(if ok { 200 } else { 500 }),
        error: (!ok).then(|| format!("http 500 #{number}")),
        response_excerpt: Some("ok".to_owned()),
        outcome,
    }
}

fn completion(lease: &Lease, number: u32, when: Timestamp, next: NextStep) -> AttemptCompletion {
    let outcome = match next {
        NextStep::Delivered => AttemptOutcome::Delivered,
        NextStep::RetryAt(_) => AttemptOutcome::Retrying,
        NextStep::DeadLettered => AttemptOutcome::DeadLettered,
    };
    AttemptCompletion {
        lease: lease.clone(),
        attempt: attempt(lease, number, when, outcome),
        next,
    }
}

async fn complete(store: &dyn Store, leased: &LeasedDelivery, next: NextStep, when: Timestamp) {
    let number = leased.delivery.attempts + 1;
    store
        .complete_attempt(completion(&leased.lease, number, when, next))
        .await
        .unwrap();
}

/// Leases everything due at `now` and completes each with `next`; returns how many.
async fn finish_due(store: &dyn Store, now: Timestamp, next: NextStep) -> usize {
    let leased = store.lease_due(now, 1000, MINUTE).await.unwrap();
    for l in &leased {
        complete(store, l, next, now).await;
    }
    leased.len()
}

/// Insert, then read the event and its deliveries back byte-exact.
pub async fn insert_and_read_back(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let mut new = new_event(&t, "github", "k1", 0, &["slack", "audit"]);
    new.event
        .headers
        .append("x-multi", HeaderValue::from_static("one"));
    new.event
        .headers
        .append("x-multi", HeaderValue::from_static("two"));
    new.event.headers.insert(
        "x-binary",
        HeaderValue::from_bytes(b"\xfe\x80ok\xff").unwrap(),
    );
    new.event.body = Bytes::from_static(b"\x00\xff raw \r\n bytes \x80");
    let expected = new.event.clone();
    let planned = new.deliveries.clone();
    let id = insert(&*store, new).await;

    let got = store.event(&t, id).await.unwrap().unwrap();
    assert_eq!(got, expected);
    assert_eq!(got.headers.get_all("x-multi").iter().count(), 2);

    let deliveries = store.deliveries(&t, id).await.unwrap();
    assert_eq!(deliveries.len(), 2);
    for (d, p) in deliveries.iter().zip(&planned) {
        assert_eq!(d.id, p.id);
        assert_eq!(d.tenant, t);
        assert_eq!(d.event_id, id);
        assert_eq!(d.destination, p.destination);
        assert_eq!(d.route, p.route);
        assert_eq!(d.status, DeliveryStatus::Pending);
        assert_eq!((d.attempts, d.cycle_attempts), (0, 0));
        assert_eq!(d.next_attempt_at, expected.received_at);
        assert_eq!(d.created_at, expected.received_at);
        assert_eq!(d.last_error, None);
        assert_eq!(store.delivery(&t, d.id).await.unwrap().as_ref(), Some(d));
        assert!(store.attempts(&t, d.id).await.unwrap().is_empty());
    }
    assert!(store.event(&t, EventId::new()).await.unwrap().is_none());
    assert!(
        store
            .delivery(&t, DeliveryId::new())
            .await
            .unwrap()
            .is_none()
    );
}

/// The same (tenant, source, key) within the window is a duplicate of the original, and
/// nothing of the second event is written.
pub async fn duplicate_within_window_returns_original(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let first = insert(&*store, new_event(&t, "github", "k", 0, &["a"])).await;
    let again = new_event(&t, "github", "k", 1_000, &["a", "b"]);
    let again_id = again.event.id;
    assert_eq!(
        store.insert_event(again).await.unwrap(),
        InsertOutcome::Duplicate { original: first }
    );
    assert!(store.event(&t, again_id).await.unwrap().is_none());
    assert!(store.deliveries(&t, again_id).await.unwrap().is_empty());
    let leased = store.lease_due(at(10_000), 100, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 1, "only the original's delivery is queued");
    assert_eq!(leased[0].event.id, first);
    // Another source with the same key is a different event.
    insert(&*store, new_event(&t, "stripe", "k", 2_000, &[])).await;
}

/// Once the dedup window is over, the same key is accepted again.
pub async fn expired_dedup_entry_inserts_again(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let mut first = new_event(&t, "github", "k", 0, &["a"]);
    first.dedup_until = at(5_000);
    let first_id = insert(&*store, first).await;
    let later_id = insert(&*store, new_event(&t, "github", "k", 5_000, &["a"])).await;
    assert_ne!(first_id, later_id);
    let third = new_event(&t, "github", "k", 6_000, &["a"]);
    assert_eq!(
        store.insert_event(third).await.unwrap(),
        InsertOutcome::Duplicate { original: later_id }
    );
    assert!(store.event(&t, first_id).await.unwrap().is_some());
    assert!(store.event(&t, later_id).await.unwrap().is_some());
}

/// Dedup is per tenant.
pub async fn same_key_in_two_tenants_is_two_events(store: Arc<dyn Store>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let ea = insert(&*store, new_event(&a, "github", "k", 0, &["x"])).await;
    let eb = insert(&*store, new_event(&b, "github", "k", 0, &["x"])).await;
    assert!(store.event(&a, ea).await.unwrap().is_some());
    assert!(store.event(&b, eb).await.unwrap().is_some());
    assert_eq!(store.lease_due(at(0), 10, MINUTE).await.unwrap().len(), 2);
}

/// 64 concurrent inserts of one key: exactly one is inserted, all others name it.
pub async fn concurrent_identical_inserts_insert_once(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = Arc::clone(&store);
            let new = new_event(&t, "github", "same", 0, &["a", "b"]);
            tokio::spawn(async move {
                let id = new.event.id;
                (id, store.insert_event(new).await.unwrap())
            })
        })
        .collect();
    let mut inserted = Vec::new();
    let mut originals = HashSet::new();
    for task in tasks {
        match task.await.unwrap() {
            (id, InsertOutcome::Inserted) => inserted.push(id),
            (_, InsertOutcome::Duplicate { original }) => {
                originals.insert(original);
            }
        }
    }
    assert_eq!(inserted.len(), 1, "exactly one insert wins");
    assert!(originals.iter().all(|o| *o == inserted[0]));
    let leased = store.lease_due(at(0), 1000, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 2, "only the winner's deliveries are queued");
}

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

/// Dead letters by destination, event, source, time and limit, per tenant.
pub async fn dead_letters_filter(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let ea = insert(&*store, new_event(&t, "src-a", "1", 0, &["x", "y"])).await;
    let eb = insert(&*store, new_event(&t, "src-b", "2", 1, &["x", "y"])).await;
    insert(&*store, new_event(&t, "src-b", "3", 5_000, &["x"])).await;
    assert_eq!(finish_due(&*store, at(10), NextStep::DeadLettered).await, 4);

    let all = DeadLetterFilter::default();
    let found = store.dead_letters(&t, &all, 100).await.unwrap();
    assert_eq!(found.len(), 4);
    assert!(
        found
            .iter()
            .all(|d| d.status == DeliveryStatus::DeadLettered)
    );
    assert_eq!(store.dead_letters(&t, &all, 3).await.unwrap().len(), 3);

    let by_dest = DeadLetterFilter {
        destination: Some("x".into()),
        ..Default::default()
    };
    let found = store.dead_letters(&t, &by_dest, 100).await.unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|d| d.destination == "x"));

    let by_event = DeadLetterFilter {
        event_id: Some(ea),
        ..Default::default()
    };
    let found = store.dead_letters(&t, &by_event, 100).await.unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|d| d.event_id == ea));

    let by_source = DeadLetterFilter {
        source: Some("src-b".into()),
        destination: Some("y".into()),
        ..Default::default()
    };
    let found = store.dead_letters(&t, &by_source, 100).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].event_id, eb);

    let since_past = DeadLetterFilter {
        since: Some(Timestamp::from_millis(0)),
        ..Default::default()
    };
    assert_eq!(
        store
            .dead_letters(&t, &since_past, 100)
            .await
            .unwrap()
            .len(),
        4
    );
    let since_future = DeadLetterFilter {
        since: Some(Timestamp::now().plus(Duration::from_secs(86_400))),
        ..Default::default()
    };
    assert!(
        store
            .dead_letters(&t, &since_future, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .dead_letters(&tenant("other"), &all, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Redrive moves matching dead letters back once, with a fresh budget.
pub async fn redrive_is_idempotent(store: Arc<dyn Store>) {
    let t = tenant("acme");
    insert(&*store, new_event(&t, "s", "1", 0, &["x", "y"])).await;
    assert_eq!(finish_due(&*store, at(0), NextStep::DeadLettered).await, 2);
    let only_x = DeadLetterFilter {
        destination: Some("x".into()),
        ..Default::default()
    };
    let other = tenant("other");
    assert_eq!(store.redrive(&other, &only_x, at(1_000)).await.unwrap(), 0);
    assert_eq!(store.redrive(&t, &only_x, at(1_000)).await.unwrap(), 1);
    assert_eq!(store.redrive(&t, &only_x, at(1_000)).await.unwrap(), 0);
    let leased = store.lease_due(at(1_000), 10, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].delivery.destination, "x");
    assert_eq!(leased[0].delivery.cycle_attempts, 0);
    assert_eq!(leased[0].delivery.attempts, 1);
    let remaining = store
        .dead_letters(&t, &DeadLetterFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].destination, "y");
}

/// Replay: delivered skipped unless forced, dead letters rescheduled with a fresh budget,
/// new destinations added, no_route flipped to routed, other tenants' events not found.
pub async fn schedule_replays_event(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let event = insert(&*store, new_event(&t, "s", "1", 0, &["x", "y"])).await;
    let leased = store.lease_due(at(0), 10, MINUTE).await.unwrap();
    let (x, y) = if leased[0].delivery.destination == "x" {
        (&leased[0], &leased[1])
    } else {
        (&leased[1], &leased[0])
    };
    complete(&*store, x, NextStep::Delivered, at(10)).await;
    complete(&*store, y, NextStep::DeadLettered, at(10)).await;

    let new_plan = plan(&["x", "y", "z"]);
    let z_id = new_plan[2].id;
    let report = store
        .schedule(&t, event, new_plan, false, at(1_000))
        .await
        .unwrap();
    assert_eq!(report.skipped, vec!["x".to_owned()]);
    assert_eq!(report.scheduled.len(), 2);
    assert!(report.scheduled.contains(&y.delivery.id));
    assert!(report.scheduled.contains(&z_id));
    let y_now = store.delivery(&t, y.delivery.id).await.unwrap().unwrap();
    assert_eq!(y_now.status, DeliveryStatus::Pending);
    assert_eq!((y_now.attempts, y_now.cycle_attempts), (1, 0));
    assert_eq!(y_now.next_attempt_at, at(1_000));
    let deliveries = store.deliveries(&t, event).await.unwrap();
    assert_eq!(deliveries.len(), 3);
    assert_eq!(deliveries[2].id, z_id);
    assert_eq!(deliveries[2].status, DeliveryStatus::Pending);

    // In flight is left alone; delivered is redone when forced.
    let inflight = store.lease_due(at(1_000), 1, MINUTE).await.unwrap();
    assert_eq!(inflight.len(), 1);
    let busy = inflight[0].delivery.destination.clone();
    let report = store
        .schedule(&t, event, plan(&["x", &busy]), true, at(2_000))
        .await
        .unwrap();
    assert_eq!(report.scheduled, vec![x.delivery.id]);
    assert_eq!(report.skipped, vec![busy]);
    let x_now = store.delivery(&t, x.delivery.id).await.unwrap().unwrap();
    assert_eq!(x_now.status, DeliveryStatus::Pending);

    let unrouted = insert(&*store, new_event(&t, "s", "2", 0, &[])).await;
    let before = store.event(&t, unrouted).await.unwrap().unwrap();
    assert_eq!(before.status, EventStatus::NoRoute);
    let report = store
        .schedule(&t, unrouted, plan(&["x"]), false, at(3_000))
        .await
        .unwrap();
    assert_eq!(report.scheduled.len(), 1);
    let after = store.event(&t, unrouted).await.unwrap().unwrap();
    assert_eq!(after.status, EventStatus::Routed);

    let other = store
        .schedule(&tenant("other"), event, plan(&["x"]), true, at(3_000))
        .await;
    assert!(matches!(other, Err(StoreError::NotFound)));
    let missing = store
        .schedule(&t, EventId::new(), plan(&["x"]), true, at(3_000))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

/// No read or write through one tenant sees or touches another tenant's rows.
pub async fn tenants_are_isolated(store: Arc<dyn Store>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let event = insert(&*store, new_event(&a, "s", "1", 0, &["x", "y"])).await;
    let leased = store.lease_due(at(0), 10, MINUTE).await.unwrap();
    complete(&*store, &leased[0], NextStep::DeadLettered, at(1)).await;
    let d = leased[0].delivery.id;

    assert!(store.event(&b, event).await.unwrap().is_none());
    assert!(store.deliveries(&b, event).await.unwrap().is_empty());
    assert!(store.delivery(&b, d).await.unwrap().is_none());
    assert!(store.attempts(&b, d).await.unwrap().is_empty());
    let all = DeadLetterFilter::default();
    assert!(store.dead_letters(&b, &all, 10).await.unwrap().is_empty());
    assert_eq!(store.redrive(&b, &all, at(2)).await.unwrap(), 0);
    assert!(matches!(
        store.schedule(&b, event, plan(&["x"]), true, at(2)).await,
        Err(StoreError::NotFound)
    ));

    let mut foreign = leased[1].lease.clone();
    foreign.tenant = b.clone();
    let stolen = store
        .complete_attempt(completion(&foreign, 1, at(3), NextStep::Delivered))
        .await;
    assert!(matches!(stolen, Err(StoreError::LeaseLost(_))));
    store.release(&foreign, at(3)).await.unwrap();
    let still = store
        .delivery(&a, leased[1].delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, DeliveryStatus::InFlight);
    assert_eq!(store.attempts(&a, d).await.unwrap().len(), 1);
    assert_eq!(store.dead_letters(&a, &all, 10).await.unwrap().len(), 1);
}

/// Prune deletes only finished events older than the cutoff, in batches; dedup entries
/// outlive their events until they expire.
pub async fn prune_removes_only_finished_old_events(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let delivered = insert(&*store, new_event(&t, "s", "delivered", 0, &["x"])).await;
    let dead = insert(&*store, new_event(&t, "s", "dead", 1, &["x"])).await;
    let unrouted = insert(&*store, new_event(&t, "s", "unrouted", 2, &[])).await;
    let delivered_id = store.deliveries(&t, delivered).await.unwrap()[0].id;
    let leased = store.lease_due(at(10), 10, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 2);
    for l in &leased {
        let next = if l.event.id == delivered {
            NextStep::Delivered
        } else {
            NextStep::DeadLettered
        };
        complete(&*store, l, next, at(10)).await;
    }
    let pending = insert(&*store, new_event(&t, "s", "pending", 1_000, &["x"])).await;
    let young = insert(&*store, new_event(&t, "s", "young", 50_000, &[])).await;

    let (cutoff, now) = (at(20_000), at(30_000));
    assert_eq!(store.prune(cutoff, now, 2).await.unwrap(), 2);
    assert_eq!(store.prune(cutoff, now, 2).await.unwrap(), 1);
    assert_eq!(store.prune(cutoff, now, 2).await.unwrap(), 0);

    for gone in [delivered, dead, unrouted] {
        assert!(store.event(&t, gone).await.unwrap().is_none());
        assert!(store.deliveries(&t, gone).await.unwrap().is_empty());
    }
    assert!(store.delivery(&t, delivered_id).await.unwrap().is_none());
    assert!(store.attempts(&t, delivered_id).await.unwrap().is_empty());
    assert!(store.event(&t, pending).await.unwrap().is_some());
    assert_eq!(store.deliveries(&t, pending).await.unwrap().len(), 1);
    assert!(store.event(&t, young).await.unwrap().is_some());

    // The pruned event's dedup entry still holds until it expires…
    let again = new_event(&t, "s", "delivered", 40_000, &["x"]);
    assert_eq!(
        store.insert_event(again).await.unwrap(),
        InsertOutcome::Duplicate {
            original: delivered
        }
    );
    // …and once it expired (and was pruned) the key is accepted again.
    store.prune(cutoff, at(3_600_001), 10).await.unwrap();
    insert(&*store, new_event(&t, "s", "delivered", 3_600_001, &["x"])).await;
}

/// A fresh store answers ping.
pub async fn ping_answers(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
}
