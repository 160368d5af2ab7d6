//! The raw rusqlite delivery loop: what the SQLite store must write to deliver a stored
//! backlog, written directly: per `batch` deliveries one transaction that leases them (the due
//! query, the lease update of each, the read of its event) and one that completes them (the
//! delivery's update and the attempt's insert, with a detail of the size the gateway stores),
//! on the store's own schema, WAL, the same `synchronous`. No HTTP, no worker, no savepoints,
//! no lane/pause/agent conditions in the due query: the floor under the gateway's `deliver`.

use std::path::Path;
use std::time::{Duration, Instant};

use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_store_sqlite::Synchronous;
use rusqlite::{Connection, params};

use crate::error::BenchError;
use crate::payload::Pushes;
use crate::proc;
use crate::sample::Sample;

/// Attempt detail bytes per attempt: about what the gateway stores for a delivery of a push
/// (its request headers, redacted, and the receiver's short answer's headers).
const DETAIL: usize = 400;

/// One run: `events` pushes (two deliveries each) stored untimed, then every delivery leased
/// and completed, timed. The database in a fresh directory under `dir`.
pub async fn measure(
    dir: &Path,
    sync: Synchronous,
    events: u64,
    batch: usize,
    time_limit: Duration,
) -> Result<Sample, BenchError> {
    let (tmp, path) = crate::raw::fresh_database(dir).await?;
    let sample = tokio::task::spawn_blocking(move || {
        let mut conn = crate::raw::connect(&path, sync)?;
        seed(&mut conn, events)?;
        proc::reset_peak_rss();
        let cpu = proc::CpuClock::start();
        let mut sample = deliver(&mut conn, batch.max(1), time_limit)?;
        sample.cpu = cpu.cores();
        sample.expected = Some(2 * events);
        sample.peak_rss_kib = proc::peak_rss_kib();
        Ok::<_, BenchError>(sample)
    })
    .await??;
    drop(tmp);
    Ok(sample)
}

/// Stores `events` pushes as the raw ingest loop does, 256 per transaction.
fn seed(conn: &mut Connection, events: u64) -> Result<(), BenchError> {
    let pushes = Pushes::new("127.0.0.1:8080")?;
    let mut written = 0;
    while written < events {
        let tx = conn.transaction()?;
        let end = (written + 256).min(events);
        for i in written..end {
            crate::raw::insert(&tx, &pushes, i)?;
        }
        tx.commit()?;
        written = end;
    }
    Ok(())
}

fn deliver(
    conn: &mut Connection,
    batch: usize,
    time_limit: Duration,
) -> Result<Sample, BenchError> {
    let detail = "x".repeat(DETAIL);
    let started = Instant::now();
    let deadline = started + time_limit;
    let (mut delivered, mut commits) = (0u64, 0u64);
    while Instant::now() < deadline {
        let now = Timestamp::now().as_millis();
        let tx = conn.transaction()?;
        let leased = lease(&tx, now, batch)?;
        tx.commit()?;
        if leased.is_empty() {
            break;
        }
        let tx = conn.transaction()?;
        for (id, token) in &leased {
            complete(&tx, id, *token, &detail)?;
        }
        tx.commit()?;
        commits += 2;
        delivered += leased.len() as u64;
    }
    let elapsed = started.elapsed();
    Ok(Sample {
        rate: delivered as f64 / elapsed.as_secs_f64().max(1e-9),
        completed: delivered,
        elapsed,
        commits: Some(commits),
        delivered: Some(delivered),
        ..Sample::default()
    })
}

/// Leases up to `batch` due deliveries and reads each one's event; their ids and tokens.
fn lease(conn: &Connection, now: i64, batch: usize) -> Result<Vec<(Vec<u8>, i64)>, BenchError> {
    let due: Vec<i64> = conn
        .prepare_cached(
            "SELECT seq FROM deliveries WHERE status IN ('pending', 'in_flight')
                 AND next_attempt_at <= ?1 ORDER BY next_attempt_at, seq LIMIT ?2",
        )?
        .query_map(params![now, batch as i64], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut leased = Vec::with_capacity(due.len());
    for seq in due {
        let (id, token, event): (Vec<u8>, i64, Vec<u8>) = conn
            .prepare_cached(
                "UPDATE deliveries SET status = 'in_flight', next_attempt_at = ?2,
                     lease_token = lease_token + 1, updated_at = ?3
                 WHERE seq = ?1 RETURNING id, lease_token, event_id",
            )?
            .query_row(params![seq, now + 60_000, now], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
        let body: Vec<u8> = conn
            .prepare_cached("SELECT body FROM events WHERE id = ?1 AND tenant = ?2")?
            .query_row(params![event, TenantId::DEFAULT], |row| row.get(0))?;
        std::hint::black_box(body);
        leased.push((id, token));
    }
    Ok(leased)
}

/// Records a delivered first attempt of delivery `id` under lease `token`.
fn complete(conn: &Connection, id: &[u8], token: i64, detail: &str) -> Result<(), BenchError> {
    let now = Timestamp::now().as_millis();
    conn.prepare_cached(
        "UPDATE deliveries SET status = 'delivered', next_attempt_at = ?1, attempts = attempts + 1,
             cycle_attempts = cycle_attempts + 1, last_error = NULL, updated_at = ?1
         WHERE id = ?2 AND tenant = ?3 AND lease_token = ?4 AND status = 'in_flight'",
    )?
    .execute(params![now, id, TenantId::DEFAULT, token])?;
    conn.prepare_cached(
        "INSERT INTO attempts (tenant, delivery_id, number, started_at, latency_ms, status_code,
             error, response_excerpt, outcome, detail, request_body)
         VALUES (?1, ?2, 1, ?3, 0, 200, NULL, 'ok', 'delivered', ?4, NULL)",
    )?
    .execute(params![TenantId::DEFAULT, id, now, detail])?;
    Ok(())
}
