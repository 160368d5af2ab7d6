//! PostgreSQL-specific behaviour: migrations, group commit and its failure isolation,
//! recovery from lost connections, retention, URLs and the queue's index.

#![allow(clippy::unwrap_used)]

mod common;

use relay_core::store::{EventIngest, EventLog};
use std::sync::Arc;
use std::time::Duration;

use relay_core::model::ids::TenantId;
use relay_core::store::conformance::new_event;
use relay_core::store::{InsertOutcome, StoreError};
use relay_store_postgres::{MigrationError, PgOptions, PgStore, PgStoreError, SCHEMA_VERSION};

/// A plain connection to the test server, for setup and inspection.
async fn admin(schema: &common::TestSchema) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&schema.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("SET search_path = \"{}\"", schema.name))
        .await
        .unwrap();
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_are_idempotent_and_concurrent_nodes_agree() {
    let Some(schema) = common::TestSchema::new("migrations_are_idempotent") else {
        return;
    };
    let lazy = schema.options().migrate_on_open(false);
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(PgStore::connect(&schema.url, lazy.clone()).await.unwrap());
    }
    // Four nodes starting at once on an empty schema.
    let migrations: Vec<_> = stores
        .iter()
        .cloned()
        .map(|s| tokio::spawn(async move { s.migrate().await }))
        .collect();
    for m in migrations {
        assert_eq!(m.await.unwrap().unwrap(), SCHEMA_VERSION);
    }
    assert_eq!(stores[0].migrate().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(stores[0].schema(), Some(schema.name.as_str()));
    let client = admin(&schema).await;
    let row = client
        .query_one(
            "SELECT COUNT(*), MAX(version) FROM relay_schema_migrations",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), i64::from(SCHEMA_VERSION));
    assert_eq!(row.get::<_, i32>(1), SCHEMA_VERSION as i32);
    stores[1].ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_schema_is_refused() {
    let Some(schema) = common::TestSchema::new("newer_schema_is_refused") else {
        return;
    };
    drop(schema.store().await);
    admin(&schema)
        .await
        .execute(
            "INSERT INTO relay_schema_migrations (version) VALUES ($1)",
            &[&(SCHEMA_VERSION as i32 + 1)],
        )
        .await
        .unwrap();
    let error = PgStore::connect(&schema.url, schema.options())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            PgStoreError::Migration(MigrationError::TooNew { found, .. }) if found == SCHEMA_VERSION + 1
        ),
        "{error:?}"
    );
}

/// Concurrent ingests are committed in groups: far fewer commits than ingests.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ingests_share_commits() {
    let Some(schema) = common::TestSchema::new("concurrent_ingests_share_commits") else {
        return;
    };
    let store = Arc::new(schema.store().await);
    let t = TenantId::default_tenant();
    let tasks: Vec<_> = (0..512)
        .map(|i| {
            let (store, new) = (
                Arc::clone(&store),
                new_event(&t, "s", &format!("k{i}"), i, &["a", "b"]),
            );
            tokio::spawn(async move { store.insert_event(new).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), InsertOutcome::Inserted);
    }
    let commits = store.commit_count();
    assert!(commits < 256, "{commits} commits for 512 ingests");
    let count: i64 = admin(&schema)
        .await
        .query_one("SELECT COUNT(*) FROM deliveries", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1024);
}

/// One ingest the database refuses fails alone; the others of its group commit are written,
/// and nothing of the refused one is (its key stays free).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_row_fails_only_its_own_ingest() {
    let Some(schema) = common::TestSchema::new("a_refused_row_fails_only_its_own_ingest") else {
        return;
    };
    let store = Arc::new(schema.store().await);
    let client = admin(&schema).await;
    client
        .batch_execute(
            "ALTER TABLE deliveries ADD CONSTRAINT no_poison CHECK (destination <> 'poison')",
        )
        .await
        .unwrap();
    let t = TenantId::default_tenant();
    let events: Vec<_> = (0..64)
        .map(|i| {
            let destination = if i % 8 == 3 { "poison" } else { "fine" };
            new_event(&t, "s", &format!("k{i}"), i, &[destination])
        })
        .collect();
    let tasks: Vec<_> = events
        .iter()
        .cloned()
        .map(|new| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.insert_event(new).await })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        if i % 8 == 3 {
            assert!(
                matches!(result, Err(StoreError::Unavailable(_))),
                "{result:?}"
            );
        } else {
            assert_eq!(result.unwrap(), InsertOutcome::Inserted);
        }
    }
    for (i, new) in events.iter().enumerate() {
        let stored = store.event(&t, new.event.id).await.unwrap();
        assert_eq!(stored.is_some(), i % 8 != 3, "event {i}");
    }
    client
        .batch_execute("ALTER TABLE deliveries DROP CONSTRAINT no_poison")
        .await
        .unwrap();
    let retried = events[3].clone();
    assert_eq!(
        store.insert_event(retried).await.unwrap(),
        InsertOutcome::Inserted
    );
}

/// Connections killed by the server (a restart, a failover): operations fail as
/// unavailable, never as success, and the store recovers by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_recover_by_themselves() {
    let Some(schema) = common::TestSchema::new("killed_connections_recover") else {
        return;
    };
    let separator = if schema.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}application_name={}", schema.url, schema.name);
    let store = PgStore::connect(&url, schema.options()).await.unwrap();
    let t = TenantId::default_tenant();
    store
        .insert_event(new_event(&t, "s", "before", 0, &["a"]))
        .await
        .unwrap();
    let killed: i64 = admin(&schema)
        .await
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = $1",
            &[&schema.name],
        )
        .await
        .unwrap()
        .get(0);
    assert!(killed > 0);
    let mut failures = 0;
    let mut inserted = None;
    for i in 0..50 {
        let new = new_event(&t, "s", &format!("after{i}"), 0, &["a"]);
        let id = new.event.id;
        match store.insert_event(new).await {
            Ok(outcome) => {
                assert_eq!(outcome, InsertOutcome::Inserted);
                inserted = Some(id);
                break;
            }
            Err(StoreError::Unavailable(_)) => failures += 1,
            Err(other) => panic!("{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let id = inserted.unwrap_or_else(|| panic!("never recovered ({failures} failures)"));
    assert!(store.event(&t, id).await.unwrap().is_some());
    store.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruner_prunes_and_stops_with_the_store() {
    let Some(schema) = common::TestSchema::new("pruner_prunes_and_stops") else {
        return;
    };
    let store = schema.store().await;
    let t = TenantId::default_tenant();
    let old = new_event(&t, "s", "old", 0, &[]);
    let id = old.event.id;
    store.insert_event(old).await.unwrap();
    let handle = store.spawn_pruner(Duration::from_secs(60), Duration::from_millis(10));
    for _ in 0..200 {
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

/// The lease query walks the partial due index in order instead of sorting the table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_reads_its_index() {
    let Some(schema) = common::TestSchema::new("the_queue_reads_its_index") else {
        return;
    };
    let store = schema.store().await;
    let t = TenantId::default_tenant();
    for i in 0..200 {
        let new = new_event(&t, "s", &format!("k{i}"), i, &["a", "b"]);
        store.insert_event(new).await.unwrap();
    }
    let client = admin(&schema).await;
    client.batch_execute("ANALYZE deliveries").await.unwrap();
    let plan: Vec<String> = client
        .query(
            "EXPLAIN SELECT seq FROM deliveries
             WHERE status IN ('pending', 'in_flight') AND next_attempt_at <= 1700000000100
             ORDER BY next_attempt_at, seq LIMIT 10 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("deliveries_due"), "{plan}");
    assert!(!plan.contains("Sort"), "{plan}");
}

#[tokio::test]
async fn bad_urls_and_schemas_are_refused() {
    for url in [
        "sqlite://relay.db",
        "mysql://x",
        "postgres://host:notaport/db",
    ] {
        let error = PgStore::connect(url, PgOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(error, PgStoreError::InvalidUrl { .. }),
            "{url}: {error:?}"
        );
    }
    for schema in ["", "1abc", "a-b", "a\"; DROP TABLE x; --", &"x".repeat(64)] {
        let options = PgOptions::default().schema(schema);
        let error = PgStore::connect("postgresql://127.0.0.1:1/x", options)
            .await
            .unwrap_err();
        assert!(
            matches!(error, PgStoreError::InvalidSchema(_)),
            "{schema}: {error:?}"
        );
    }
    assert!(relay_store_postgres::is_postgres_url("postgresql://h/db"));
    assert!(!relay_store_postgres::is_postgres_url("sqlite://x"));
}

/// Nothing listens: connect fails promptly instead of handing out a dead store.
#[tokio::test]
async fn an_unreachable_server_fails_at_connect() {
    let options = PgOptions::default().acquire_timeout(Duration::from_secs(2));
    let started = std::time::Instant::now();
    let error = PgStore::connect("postgres://postgres@127.0.0.1:1/relay", options)
        .await
        .unwrap_err();
    assert!(matches!(error, PgStoreError::Pool(_)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let unavailable = StoreError::from(error);
    assert!(matches!(unavailable, StoreError::Unavailable(_)));
}
