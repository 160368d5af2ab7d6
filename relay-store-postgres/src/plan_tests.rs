//! Plans whatever the statistics say: the lease statement on the lease connections (an
//! ordered walk of `deliveries_due` joined by nested loops; a connection without the lease
//! settings plans it otherwise), and a pool's plans made on an empty table, made again as
//! it grows. Needs `RELAY_TEST_POSTGRES_URL` (skipped loudly without it).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use relay_core::model::time::Timestamp;
use relay_core::store::DeliveryQueue;
use relay_core::store::conformance::T0;

use crate::pools;
use crate::queue::LEASE_DUE;
use crate::scratch::{SEED, Scratch};

/// The generic plan of `sql` on `client` with the parameter values `args`, as text.
async fn generic_plan(client: &tokio_postgres::Client, sql: &str, args: &str) -> String {
    client
        .batch_execute(&format!(
            "SET plan_cache_mode = force_generic_plan; PREPARE probe AS {sql}"
        ))
        .await
        .unwrap();
    let rows = client
        .simple_query(&format!("EXPLAIN EXECUTE probe({args})"))
        .await
        .unwrap();
    client
        .batch_execute("DEALLOCATE probe; RESET plan_cache_mode")
        .await
        .unwrap();
    text(&rows)
}

/// The first column of every row of `messages`, one per line.
fn text(messages: &[tokio_postgres::SimpleQueryMessage]) -> String {
    messages
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lease statement's parameters at `now`.
fn lease_args(now: i64) -> String {
    format!("{now}, 64, {}, NULL, '{{}}'", now + 60_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_walks_the_due_index_whatever_the_statistics_say() {
    let Some(scratch) = Scratch::from_env("relay-store-postgres lease plan") else {
        return;
    };
    let store = scratch.store().await;
    let t0 = T0.as_millis();

    // Statistics taken over a few early rows, then a burst the planner has not seen, and
    // some of it leased (expiries in the future, at the top of the due index).
    let client = store.pool().get().await.unwrap();
    let (early, burst) = (50_i64, 5_000_i64);
    client.execute(SEED, &[&0_i64, &t0, &early]).await.unwrap();
    client
        .batch_execute("ANALYZE deliveries; ANALYZE events")
        .await
        .unwrap();
    client
        .execute(SEED, &[&early, &(t0 + 1_000), &burst])
        .await
        .unwrap();
    let now = Timestamp::from_millis(t0 + 1_000 + burst);
    let hour = Duration::from_secs(3600);
    let leased = store.lease_due_as(None, &[], now, 64, hour).await.unwrap();
    assert_eq!(leased.len(), 64);
    let first: Vec<i64> = leased
        .iter()
        .map(|l| l.delivery.created_at.as_millis())
        .collect();
    assert!(first.windows(2).all(|w| w[0] <= w[1]), "oldest due first");
    assert_eq!(first[0], t0, "the earliest rows first");

    let lease_client = store.inner.lease_pool.get().await.unwrap();
    let plan = generic_plan(&lease_client, &LEASE_DUE, &lease_args(now.as_millis())).await;
    assert!(
        plan.contains("Index Scan using deliveries_due on deliveries d"),
        "{plan}"
    );
    for shape in [
        "Bitmap",
        "Hash Join",
        "Merge Join",
        "Seq Scan on deliveries",
        "Sort Key: d.next_attempt_at",
    ] {
        assert!(!plan.contains(shape), "{shape} in\n{plan}");
    }

    // Without the lease settings the same statistics give another plan.
    let plain = generic_plan(&client, &LEASE_DUE, &lease_args(now.as_millis())).await;
    assert!(
        [
            "Bitmap",
            "Hash Join",
            "Merge Join",
            "Seq Scan on deliveries"
        ]
        .iter()
        .any(|shape| plain.contains(shape)),
        "a plan the lease settings rule out:\n{plain}"
    );

    // And the lease connections keep leasing in order after the check.
    let next = store.lease_due_as(None, &[], now, 64, hour).await.unwrap();
    assert_eq!(next.len(), 64);
    assert!(
        next[0].delivery.created_at.as_millis() >= *first.last().unwrap(),
        "the next 64 follow the first"
    );
}

/// Runs the probe query on `client` as a cached statement, then shows the plan the
/// connection keeps for it.
async fn cached_plan(client: &deadpool_postgres::Client) -> String {
    let statement = client
        .prepare_cached("SELECT v FROM probe WHERE id = $1::int8")
        .await
        .unwrap();
    client.query(&statement, &[&1_i64]).await.unwrap();
    let names = client
        .simple_query("SELECT name FROM pg_prepared_statements WHERE statement LIKE '%FROM probe%'")
        .await
        .unwrap();
    let name = text(&names);
    text(
        &client
            .simple_query(&format!("EXPLAIN EXECUTE {name}(1)"))
            .await
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_made_on_empty_tables_are_made_again_as_they_grow() {
    let Some((_scratch, config)) = Scratch::database("relay-store-postgres plan refresh").await
    else {
        return;
    };
    let setup = "SET plan_cache_mode = force_generic_plan";
    let pool = pools::build(
        &config,
        &crate::tls::Roots::Default,
        1,
        Duration::from_secs(5),
        Some(setup),
    )
    .unwrap();
    // Planned on an empty table: a sequential scan, kept as the table grows. (In a database
    // of its own, and with autovacuum off for the table: other tests' `CREATE SCHEMA` and an
    // `ANALYZE` would each re-plan it too.)
    let client = pool.get().await.unwrap();
    client
        .batch_execute(
            "CREATE TABLE probe (id INT8 PRIMARY KEY, v TEXT) WITH (autovacuum_enabled = off);
             ANALYZE probe",
        )
        .await
        .unwrap();
    assert!(cached_plan(&client).await.contains("Seq Scan on probe"));
    client
        .batch_execute("INSERT INTO probe SELECT g, 'v' FROM generate_series(1, 20000) g")
        .await
        .unwrap();
    assert!(cached_plan(&client).await.contains("Seq Scan on probe"));
    drop(client);

    // The connection's 2nd use refreshes its plans: an index lookup now.
    let client = pool.get().await.unwrap();
    let plan = cached_plan(&client).await;
    assert!(plan.contains("Index Scan using probe_pkey"), "{plan}");
}
