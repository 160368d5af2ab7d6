//! Measures ingest throughput on PostgreSQL: N events with 2 deliveries each, inserted from
//! many concurrent tasks through one `PgStore` (group commit), then the same number of rows
//! written by a raw loop of batched INSERTs (one transaction of three multi-row INSERTs per
//! batch, no dedup check, no per-event answer) on one connection, for comparison. Both build
//! their events inside the timing. The pair runs `ROUNDS` times (default 3), alternating, so
//! both see the same machine. Everything happens in a scratch schema dropped at the end.
//!
//! Run with: `cargo run --release -p relay-store-postgres --example pg_insert_throughput -- [EVENTS] [TASKS] [URL]`
//! (URL defaults to `$RELAY_TEST_POSTGRES_URL`; `WRITERS` and `MAX_BATCH` in the environment
//! override the store's group-commit settings, `RAW_BATCH` the raw loop's batch, default 512).

use relay_core::store::EventIngest;
use std::sync::Arc;
use std::time::{Duration, Instant};

use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::codec::encode_headers;
use relay_core::store::conformance::{T0, new_event};
use relay_core::store::{InsertOutcome, NewEvent};
use relay_store_postgres::{PgOptions, PgStore};

fn env_or(name: &str, default: usize) -> Result<usize, std::num::ParseIntError> {
    std::env::var(name).map_or(Ok(default), |v| v.parse())
}

fn event(tenant: &TenantId, key: &str) -> NewEvent {
    // Received now: realistic (increasing) due and dedup-expiry times.
    let offset = Timestamp::now().as_millis() - T0.as_millis();
    new_event(tenant, "bench", key, offset, &["a", "b"])
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let tasks: usize = args.next().map_or(Ok(256), |a| a.parse())?;
    let url = match args.next() {
        Some(url) => url,
        None => std::env::var("RELAY_TEST_POSTGRES_URL")
            .map_err(|_| "give a URL or set RELAY_TEST_POSTGRES_URL")?,
    };
    let schema = format!("relay_bench_{}", std::process::id());
    let options = PgOptions::default()
        .schema(&schema)
        .writers(env_or("WRITERS", 2)?)
        .max_batch(env_or("MAX_BATCH", 512)?);
    let store = Arc::new(PgStore::connect(&url, options).await?);
    let result = run(&store, events, tasks).await;
    let client = store.pool().get().await?;
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await?;
    result
}

async fn run(
    store: &Arc<PgStore>,
    events: usize,
    tasks: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    for round in 0..env_or("ROUNDS", 3)?.max(1) {
        run_store(store, events, tasks, round).await?;
        let total = events.div_ceil(tasks) * tasks;
        let batch = env_or("RAW_BATCH", 512)?.max(1);
        let elapsed = raw_inserts(store, total, batch, round).await?;
        println!(
            "raw   #{round}: {total} events (2 deliveries each), batched INSERTs of {batch} on one \
             connection: {elapsed:.2?}, {:.0} events/s",
            total as f64 / elapsed.as_secs_f64(),
        );
    }
    Ok(())
}

async fn run_store(
    store: &Arc<PgStore>,
    events: usize,
    tasks: usize,
    round: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let tenant = TenantId::default_tenant();
    let commits_before = store.commit_count();
    let per_task = events.div_ceil(tasks);
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (store, tenant) = (Arc::clone(store), tenant.clone());
            tokio::spawn(async move {
                for i in 0..per_task {
                    let outcome = store
                        .insert_event(event(&tenant, &format!("{round}-{task}-{i}")))
                        .await?;
                    assert_eq!(outcome, InsertOutcome::Inserted);
                }
                Ok::<_, relay_core::store::StoreError>(())
            })
        })
        .collect();
    for handle in handles {
        handle.await??;
    }
    let total = per_task * tasks;
    let elapsed = started.elapsed();
    let commits = (store.commit_count() - commits_before).max(1);
    println!(
        "store #{round}: {total} events (2 deliveries each), {tasks} tasks: {elapsed:.2?}, \
         {:.0} events/s, {commits} group commits ({:.0} events/commit)",
        total as f64 / elapsed.as_secs_f64(),
        total as f64 / commits as f64,
    );
    Ok(())
}

/// The same rows as plain batched INSERTs: per batch one transaction with one multi-row
/// INSERT into each of dedup, events and deliveries.
async fn raw_inserts(
    store: &PgStore,
    total: usize,
    batch: usize,
    round: usize,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let tenant = TenantId::default_tenant();
    let mut client = store.pool().get().await?;
    let dedup = client
        .prepare(
            "INSERT INTO dedup (tenant, source, idempotency_key, event_id, received_at, expires_at)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::uuid[], $5::int8[], $6::int8[])",
        )
        .await?;
    let events = client
        .prepare(
            "INSERT INTO events (id, tenant, source, event_type, idempotency_key, headers, body,
                 received_at, status)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                 $6::bytea[], $7::bytea[], $8::int8[], $9::text[])",
        )
        .await?;
    let deliveries = client
        .prepare(
            "INSERT INTO deliveries (id, tenant, event_id, destination, route, status,
                 next_attempt_at, created_at, updated_at)
             SELECT id, tenant, event_id, destination, route, 'pending', at, at, at
             FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::int8[])
                 AS u(id, tenant, event_id, destination, route, at)",
        )
        .await?;
    let started = Instant::now();
    for first in (0..total).step_by(batch) {
        let chunk: Vec<NewEvent> = (first..total.min(first + batch))
            .map(|i| event(&tenant, &format!("raw-{round}-{i}")))
            .collect();
        let e: Vec<_> = chunk.iter().map(|n| &n.event).collect();
        let ids: Vec<_> = e.iter().map(|e| e.id.as_uuid()).collect();
        let tenants: Vec<_> = e.iter().map(|e| e.tenant.as_str()).collect();
        let sources: Vec<_> = e.iter().map(|e| e.source.as_str()).collect();
        let types: Vec<_> = e.iter().map(|e| e.event_type.as_str()).collect();
        let keys: Vec<_> = e.iter().map(|e| e.idempotency_key.as_str()).collect();
        let headers: Vec<_> = e.iter().map(|e| encode_headers(&e.headers)).collect();
        let bodies: Vec<_> = e.iter().map(|e| &e.body[..]).collect();
        let received: Vec<_> = e.iter().map(|e| e.received_at.as_millis()).collect();
        let statuses: Vec<_> = e.iter().map(|e| e.status.as_str()).collect();
        let until: Vec<_> = chunk.iter().map(|n| n.dedup_until.as_millis()).collect();
        let (mut d_ids, mut d_tenants, mut d_events) = (Vec::new(), Vec::new(), Vec::new());
        let (mut d_dests, mut d_routes, mut d_at) = (Vec::new(), Vec::new(), Vec::new());
        for n in &chunk {
            for d in &n.deliveries {
                d_ids.push(d.id.as_uuid());
                d_tenants.push(n.event.tenant.as_str());
                d_events.push(n.event.id.as_uuid());
                d_dests.push(d.destination.as_str());
                d_routes.push(d.route.as_str());
                d_at.push(n.event.received_at.as_millis());
            }
        }
        let tx = client.transaction().await?;
        tx.execute(
            &dedup,
            &[&tenants, &sources, &keys, &ids, &received, &until],
        )
        .await?;
        tx.execute(
            &events,
            &[
                &ids, &tenants, &sources, &types, &keys, &headers, &bodies, &received, &statuses,
            ],
        )
        .await?;
        tx.execute(
            &deliveries,
            &[&d_ids, &d_tenants, &d_events, &d_dests, &d_routes, &d_at],
        )
        .await?;
        tx.commit().await?;
    }
    Ok(started.elapsed())
}
