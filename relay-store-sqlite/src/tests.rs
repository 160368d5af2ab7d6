//! SQLite-specific tests: durability across reopen, failed group commits, migrations.

#![allow(clippy::unwrap_used)]

use relay_core::model::ids::TenantId;
use relay_core::store::conformance::new_event;
use relay_core::store::{DeliveryQueue, EventIngest, EventLog};
use relay_core::store::{InsertOutcome, StoreError};

use super::*;

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_drop_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let t = TenantId::default_tenant();
    let new = new_event(&t, "github", "k", 0, &["a", "b"]);
    let expected = new.event.clone();
    {
        let store = open(&dir);
        assert_eq!(
            store.insert_event(new).await.unwrap(),
            InsertOutcome::Inserted
        );
    }
    let store = open(&dir);
    assert_eq!(
        store.event(&t, expected.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(store.deliveries(&t, expected.id).await.unwrap().len(), 2);
    let again = new_event(&t, "github", "k", 10, &["a"]);
    assert_eq!(
        store.insert_event(again).await.unwrap(),
        InsertOutcome::Duplicate {
            original: expected.id
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_commit_fails_every_caller_in_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let t = TenantId::default_tenant();
    store.fail_commits(true).await;
    let events: Vec<_> = (0..32)
        .map(|i| new_event(&t, "s", &format!("k{i}"), i, &["a", "b"]))
        .collect();
    let tasks: Vec<_> = events
        .iter()
        .cloned()
        .map(|new| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_event(new).await })
        })
        .collect();
    for task in tasks {
        let result = task.await.unwrap();
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
    }
    store.fail_commits(false).await;
    for new in events {
        assert!(store.event(&t, new.event.id).await.unwrap().is_none());
        // Nothing was claimed by the failed batch: the key is free.
        assert_eq!(
            store.insert_event(new).await.unwrap(),
            InsertOutcome::Inserted
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("relay.db");
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::open_url(&url, SqliteOptions::default()).unwrap();
    assert_eq!(store.migrate().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(store.migrate().await.unwrap(), SCHEMA_VERSION);
    drop(store);
    let lazy = SqliteOptions::default().migrate_on_open(false);
    let store = SqliteStore::open(&path, lazy).unwrap();
    assert_eq!(store.migrate().await.unwrap(), SCHEMA_VERSION);
    store.ping().await.unwrap();
    let conn = Connection::open(&path).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), SCHEMA_VERSION);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.db");
    drop(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let error = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    assert!(matches!(
        error,
        SqliteStoreError::Migration(MigrationError::TooNew { .. })
    ));
}

#[test]
fn urls_name_paths() {
    assert_eq!(
        path_from_url("sqlite://relay.db").unwrap(),
        PathBuf::from("relay.db")
    );
    assert_eq!(
        path_from_url("sqlite:///var/r.db?mode=rwc").unwrap(),
        PathBuf::from("/var/r.db")
    );
    assert_eq!(path_from_url("sqlite:r.db").unwrap(), PathBuf::from("r.db"));
    assert!(path_from_url("postgres://x").is_err());
    assert!(path_from_url("sqlite://").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruner_prunes_and_stops_with_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let t = TenantId::default_tenant();
    let old = new_event(&t, "s", "old", 0, &[]);
    let id = old.event.id;
    store.insert_event(old).await.unwrap();
    let handle = store.spawn_pruner(Duration::from_secs(60), Duration::from_millis(10));
    for _ in 0..100 {
        if store.event(&t, id).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(store.event(&t, id).await.unwrap().is_none());
    drop(store);
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
}

#[test]
fn queue_and_dead_letter_queries_use_their_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("plan.db")).unwrap();
    schema::migrate(&mut conn).unwrap();
    let plan = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        rows.join("\n")
    };
    let due = plan(
        "SELECT seq FROM deliveries
         WHERE status IN ('pending', 'in_flight') AND next_attempt_at <= 5
         ORDER BY next_attempt_at, seq LIMIT 10",
    );
    assert!(due.contains("deliveries_due"), "{due}");
    assert!(!due.contains("TEMP B-TREE"), "{due}");
    let dedup = plan(
        "SELECT event_id FROM dedup WHERE tenant = 'a' AND source = 'b' AND idempotency_key = 'c'",
    );
    assert!(dedup.contains("PRIMARY KEY"), "{dedup}");
    let per_event =
        plan("SELECT seq FROM deliveries WHERE event_id = x'00' AND tenant = 'a' ORDER BY seq");
    assert!(per_event.contains("deliveries_event"), "{per_event}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_write_fails_alone_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let t = TenantId::default_tenant();
    let boom = store
        .inner
        .writer
        .write(|_conn| -> Result<(), StoreError> { panic!("boom") });
    let new = new_event(&t, "s", "k", 0, &["a"]);
    let id = new.event.id;
    let (boom, inserted) = tokio::join!(boom, store.insert_event(new));
    assert!(matches!(boom, Err(StoreError::Unavailable(_))));
    assert_eq!(inserted.unwrap(), InsertOutcome::Inserted);
    assert!(store.event(&t, id).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_under_sustained_writes() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 1024 * 1024;
    let options = SqliteOptions::default()
        .synchronous(Synchronous::Normal)
        .wal_limit_bytes(limit);
    let store = SqliteStore::open(dir.path().join("relay.db"), options).unwrap();
    let t = TenantId::default_tenant();
    // One commit per event: thousands of commits, each appending several pages to the WAL,
    // faster than the background checkpointer's one-second ticks.
    let mut largest = 0;
    let mut ids = Vec::new();
    for i in 0..3_000 {
        let key = format!("k{i}");
        let new = new_event(&t, "github", &key, i, &["a", "b"]);
        ids.push(new.event.id);
        store.insert_event(new).await.unwrap();
        let wal = std::fs::metadata(dir.path().join("relay.db-wal")).map_or(0, |m| m.len());
        largest = largest.max(wal);
    }
    assert!(
        largest <= 2 * limit,
        "the WAL grew to {largest} bytes with a limit of {limit}"
    );
    // Restarting the WAL loses nothing: every event is there, also after reopening.
    drop(store);
    let store = open(&dir);
    for id in [ids[0], ids[1_500], ids[2_999]] {
        assert!(store.event(&t, id).await.unwrap().is_some());
    }
}

fn delivered(lease: relay_core::store::Lease) -> relay_core::store::AttemptCompletion {
    use relay_core::model::event::{Attempt, AttemptOutcome};
    use relay_core::model::time::Timestamp;
    use relay_core::store::{AttemptCompletion, NextStep};
    AttemptCompletion {
        attempt: Attempt {
            delivery_id: lease.delivery_id,
            number: 1,
            started_at: Timestamp::now(),
            latency_ms: 1,
            status_code: Some(200),
            error: None,
            response_excerpt: None,
            outcome: AttemptOutcome::Delivered,
            detail: Default::default(),
        },
        lease,
        next: NextStep::Delivered,
    }
}

/// Leases one delivery of each of `n` fresh events.
async fn lease_n(store: &SqliteStore, n: usize) -> Vec<relay_core::store::LeasedDelivery> {
    let t = TenantId::default_tenant();
    for i in 0..n {
        let new = new_event(&t, "s", &format!("k{i}"), 0, &["a"]);
        store.insert_event(new).await.unwrap();
    }
    let now = relay_core::model::time::Timestamp::now().plus(std::time::Duration::from_secs(1));
    let leased = store
        .lease_due(now, n, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(leased.len(), n);
    leased
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_completions_are_each_answered_by_their_own_lease() {
    use relay_core::model::event::DeliveryStatus;
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let t = TenantId::default_tenant();
    let leased = lease_n(&store, 40).await;
    let stale = leased[7].delivery.id;
    let tasks: Vec<_> = leased
        .iter()
        .map(|l| {
            let mut lease = l.lease.clone();
            if lease.delivery_id == stale {
                lease.token += 1;
            }
            let store = store.clone();
            tokio::spawn(async move { store.complete_attempt(delivered(lease)).await })
        })
        .collect();
    let mut lost = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => {}
            Err(StoreError::LeaseLost(id)) => lost.push(id),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(lost, vec![stale], "only the stale lease is lost");
    for l in &leased {
        let delivery = store.delivery(&t, l.delivery.id).await.unwrap().unwrap();
        let attempts = store.attempts(&t, l.delivery.id).await.unwrap();
        if l.delivery.id == stale {
            assert_eq!(delivery.status, DeliveryStatus::InFlight);
            assert_eq!((delivery.attempts, attempts.len()), (0, 0));
        } else {
            assert_eq!(delivery.status, DeliveryStatus::Delivered);
            assert_eq!((delivery.attempts, attempts.len()), (1, 1));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_commit_fails_every_completion_in_it_and_writes_none() {
    use relay_core::model::event::DeliveryStatus;
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let t = TenantId::default_tenant();
    let leased = lease_n(&store, 16).await;
    store.fail_commits(true).await;
    let tasks: Vec<_> = leased
        .iter()
        .map(|l| {
            let (store, lease) = (store.clone(), l.lease.clone());
            tokio::spawn(async move { store.complete_attempt(delivered(lease)).await })
        })
        .collect();
    for task in tasks {
        let result = task.await.unwrap();
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
    }
    store.fail_commits(false).await;
    for l in &leased {
        let delivery = store.delivery(&t, l.delivery.id).await.unwrap().unwrap();
        assert_eq!(delivery.status, DeliveryStatus::InFlight);
        assert!(store.attempts(&t, l.delivery.id).await.unwrap().is_empty());
        // The lease still holds: the completion can be made again.
        store
            .complete_attempt(delivered(l.lease.clone()))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inserts_of_one_key_store_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let t = TenantId::default_tenant();
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            let new = new_event(&t, "github", &format!("k{}", i % 3), i, &["a"]);
            tokio::spawn(async move { (new.event.id, store.insert_event(new).await.unwrap()) })
        })
        .collect();
    let mut inserted = Vec::new();
    let mut originals = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (id, InsertOutcome::Inserted) => inserted.push(id),
            (_, InsertOutcome::Duplicate { original }) => originals.push(original),
        }
    }
    assert_eq!(inserted.len(), 3, "one event per key");
    assert_eq!(originals.len(), 21);
    assert!(originals.iter().all(|o| inserted.contains(o)));
    for id in inserted {
        assert!(store.event(&t, id).await.unwrap().is_some());
    }
}
