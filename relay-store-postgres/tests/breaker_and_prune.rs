//! PostgreSQL specifics of migration 12: a circuit row written before the breaker's detail
//! column reads as before (an empty window), and the retention pruner's queries read their
//! indexes. Skipped loudly without `RELAY_TEST_POSTGRES_URL` (fails with
//! `RELAY_REQUIRE_BACKENDS=1`).

#![allow(clippy::unwrap_used)]

mod common;

use relay_core::deliver::circuit::{CircuitBreaker, CircuitPhase, Signal};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::CircuitStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circuit_row_from_before_the_detail_reads_as_before() {
    let Some(schema) = common::TestSchema::new("a_circuit_row_from_before_the_detail_reads") else {
        return;
    };
    let store = schema.store().await;
    let t = TenantId::default_tenant();
    // What the migration leaves of a row written before it: the detail's default.
    admin_insert(&schema, &t).await;
    let old = store.circuit(&t, "old").await.unwrap().unwrap();
    assert_eq!(
        (old.version, old.state.phase, old.state.failures),
        (4, CircuitPhase::Open, 5)
    );
    assert_eq!(old.state.why().as_deref(), Some("5 consecutive failures"));
    assert!(old.state.detail.window.is_empty());

    let at = Timestamp::from_millis(5_000);
    let counted = CircuitBreaker::default()
        .record(None, Signal::Failure, false, at)
        .unwrap();
    assert!(store.swap_circuit(&t, "new", None, counted).await.unwrap());
    let read = store.circuit(&t, "new").await.unwrap().unwrap();
    assert_eq!(read.state, counted);
    assert_eq!(read.state.detail.window.tally(at).failures, 1);
}

async fn admin_insert(schema: &common::TestSchema, t: &TenantId) {
    schema
        .admin()
        .await
        .execute(
            "INSERT INTO circuits
                 (tenant, destination, phase, failures, window_started, until, version)
             VALUES ($1, 'old', 'open', 5, 1000, 31000, 4)",
            &[&t.as_str()],
        )
        .await
        .unwrap();
}

/// The pruner's row-finding queries (as in `admin_store`) go through an index: with
/// sequential scans priced out, a plan without a usable index still scans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retention_queries_read_their_indexes() {
    let Some(schema) = common::TestSchema::new("the_retention_queries_read_their_indexes") else {
        return;
    };
    let _store = schema.store().await;
    let client = schema.admin().await;
    client
        .batch_execute("SET enable_seqscan = off")
        .await
        .unwrap();
    for (table, column, index) in [
        ("sessions", "expires_at", "sessions_expiry"),
        ("audit_log", "at", "audit_log_at"),
        ("metric_points", "minute", "metric_points_minute"),
        ("portal_links", "expires_at", "portal_links_expiry"),
    ] {
        let sql = format!(
            "EXPLAIN WITH doomed AS (
                 SELECT ctid FROM {table} WHERE {column} < 1700000000000 LIMIT 500
                 FOR UPDATE SKIP LOCKED)
             DELETE FROM {table} USING doomed WHERE {table}.ctid = doomed.ctid"
        );
        let plan: Vec<String> = client
            .query(&sql, &[])
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        let plan = plan.join("\n");
        assert!(plan.contains(index), "{table}: {plan}");
        assert!(
            !plan.contains(&format!("Seq Scan on {table}")),
            "{table}: {plan}"
        );
    }
}
