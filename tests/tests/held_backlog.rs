//! Held deliveries cost nothing: 100,000 deliveries to a disabled destination, on the
//! SQLite store with a running worker, cause no store write while held (counted with the
//! store's `total_changes`, every row its one writer connection inserted, updated or
//! deleted), and all of them are delivered once the destination is enabled, without the
//! 30 s wait a released delivery used to have. The drain's rate is printed (performance is
//! checked by benches); the test is bounded by its timeouts.
//!
//! And a pause lifted on another node: the node that leases the backlog has not read the
//! enable yet (its object sync is seconds away), yet delivers at once instead of putting every
//! delivery back for the paused recheck (30 s).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use relay_core::Relay;
use relay_core::control::admin::Principal;
use relay_core::control::manage::ObjectKind;
use relay_core::deliver::WorkerConfig;
use relay_core::deliver::destination::{Destination, HandlerError, Message};
use relay_core::model::event::{Event, EventStatus};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::{EventIngest, InsertOutcome, NewDelivery, NewEvent};
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::eventually;

const BACKLOG: usize = 100_000;
const PER_EVENT: usize = 10;

fn event(n: usize, received_at: Timestamp) -> NewEvent {
    events_to("held", n, received_at)
}

/// Event `n`, with [`PER_EVENT`] deliveries to `destination`.
fn events_to(destination: &str, n: usize, received_at: Timestamp) -> NewEvent {
    let tenant = TenantId::default();
    NewEvent {
        event: Event {
            tenant,
            id: EventId::new(),
            source: "app".into(),
            event_type: "backlog".into(),
            idempotency_key: format!("held-{n}"),
            headers: http::HeaderMap::new(),
            body: Bytes::from(format!("{{\"n\":{n}}}")),
            received_at,
            status: EventStatus::Routed,
        },
        dedup_until: received_at,
        // Ten deliveries per event to the same destination: 10,000 events make the backlog.
        deliveries: (0..PER_EVENT)
            .map(|_| NewDelivery {
                id: DeliveryId::new(),
                destination: destination.into(),
                route: "backlog".into(),
                ordering: None,
                agent: None,
            })
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_backlog_of_100000_costs_no_writes_and_drains_once_enabled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default())
        .expect("open the store");
    let delivered = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&delivered);
    let relay = counting_node(&store, "held", count);
    let operator = Principal::system(TenantId::default());
    (relay.objects())
        .set_enabled(&operator, ObjectKind::Destination, "held", false, "backlog")
        .await
        .expect("disable");

    let now = Timestamp::now();
    let mut inserts = tokio::task::JoinSet::new();
    for chunk in 0..16 {
        let store = store.clone();
        inserts.spawn(async move {
            for n in (chunk..BACKLOG / PER_EVENT).step_by(16) {
                let outcome = store.insert_event(event(n, now)).await.expect("insert");
                assert_eq!(outcome, InsertOutcome::Inserted);
            }
        });
    }
    while let Some(done) = inserts.join_next().await {
        done.expect("insert task");
    }

    let worker = relay.spawn_worker(WorkerConfig::default().concurrency(64).batch(256));
    // Ten polls at least (every 200 ms) with the whole backlog due.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = store.total_changes().await.expect("count");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let after = store.total_changes().await.expect("count");
    assert_eq!(after - before, 0, "store writes while the backlog is held");
    assert_eq!(delivered.load(Ordering::Relaxed), 0);

    let started = Instant::now();
    (relay.objects())
        .set_enabled(&operator, ObjectKind::Destination, "held", true, "")
        .await
        .expect("enable");
    let first = eventually(Duration::from_secs(5), || async {
        (delivered.load(Ordering::Relaxed) > 0).then(|| started.elapsed())
    })
    .await
    .expect("delivery starts at once when enabled");
    let drained = eventually(Duration::from_secs(240), || async {
        (delivered.load(Ordering::Relaxed) >= BACKLOG).then(|| started.elapsed())
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "{} of {BACKLOG} delivered",
            delivered.load(Ordering::Relaxed)
        )
    });
    eprintln!(
        "held backlog: first delivery {first:?} after enabling; {BACKLOG} drained in {drained:?} \
         ({:.0}/s); {} store writes while held",
        BACKLOG as f64 / drained.as_secs_f64(),
        after - before
    );
    worker.shutdown().await;
}

/// A relay on `store` whose handler destination `name` counts its deliveries in `count`.
fn counting_node(store: &SqliteStore, name: &str, count: Arc<AtomicUsize>) -> Relay {
    Relay::builder()
        .store(Arc::new(store.clone()))
        .destination(Destination::handler(name, move |_: Message| {
            let count = Arc::clone(&count);
            async move {
                count.fetch_add(1, Ordering::Relaxed);
                Ok::<(), HandlerError>(())
            }
        }))
        .build()
        .expect("relay")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_lifted_on_another_node_is_delivered_at_once_by_a_node_that_missed_it() {
    const EVENTS: usize = 200;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default())
        .expect("open the store");
    let delivered = Arc::new(AtomicUsize::new(0));
    // Node A takes the operator's calls; node B runs the only worker and no object sync.
    let a = counting_node(&store, "lifted", Arc::new(AtomicUsize::new(0)));
    let b = counting_node(&store, "lifted", Arc::clone(&delivered));
    let operator = Principal::system(TenantId::default());
    (a.objects())
        .set_enabled(
            &operator,
            ObjectKind::Destination,
            "lifted",
            false,
            "moving",
        )
        .await
        .expect("disable");
    b.objects().sync_objects().await.expect("node B reads it");
    assert!(b.is_destination_disabled("lifted"));
    let now = Timestamp::now();
    for n in 0..EVENTS {
        store
            .insert_event(events_to("lifted", n, now))
            .await
            .expect("insert");
    }
    let worker = b.spawn_worker(WorkerConfig::default());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(delivered.load(Ordering::Relaxed), 0, "held while disabled");

    let started = Instant::now();
    (a.objects())
        .set_enabled(&operator, ObjectKind::Destination, "lifted", true, "")
        .await
        .expect("enable on node A");
    assert!(
        b.is_destination_disabled("lifted"),
        "node B has not read it"
    );
    // Well within the paused recheck (30 s) a stale pause would have put them back for.
    let drained = eventually(Duration::from_secs(10), || async {
        (delivered.load(Ordering::Relaxed) >= EVENTS * PER_EVENT).then(|| started.elapsed())
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "{} of {} delivered by node B",
            delivered.load(Ordering::Relaxed),
            EVENTS * PER_EVENT
        )
    });
    eprintln!("a pause lifted on another node: node B drained in {drained:?}");
    assert!(
        !b.is_destination_disabled("lifted"),
        "node B read the enable"
    );
    worker.shutdown().await;
}
