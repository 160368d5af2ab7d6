//! The raw rusqlite loop: the rows the store writes for one accepted push (the event, its
//! dedup entry and two deliveries), written directly, `batch` events per transaction, on
//! the store's own schema (created by opening a `SqliteStore` once), WAL, the same
//! `synchronous`. No HTTP, no verification, no dedup lookup, no savepoints, no worker.

use std::path::Path;
use std::time::{Duration, Instant};

use relay_core::ingest::source::WebhookSource;
use relay_core::model::event::EventStatus;
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::codec::encode_headers;
use relay_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};
use rusqlite::{Connection, params};

use crate::error::BenchError;
use crate::payload::Pushes;
use crate::proc;
use crate::sample::Sample;

/// One run of the raw loop, its database in a fresh directory under `dir`.
pub async fn measure(
    dir: &Path,
    sync: Synchronous,
    events: u64,
    batch: usize,
    time_limit: Duration,
) -> Result<Sample, BenchError> {
    let (tmp, path) = fresh_database(dir).await?;
    let sample = tokio::task::spawn_blocking(move || {
        let mut conn = connect(&path, sync)?;
        proc::reset_peak_rss();
        let mut sample = write(&mut conn, events, batch.max(1), time_limit)?;
        sample.wal_bytes = proc::wal_bytes(&path);
        sample.peak_rss_kib = proc::peak_rss_kib();
        Ok::<_, BenchError>(sample)
    })
    .await??;
    drop(tmp);
    Ok(sample)
}

/// A fresh database with the store's own schema (from its real migrations), in a new temp
/// directory under `dir` (kept as long as the returned guard).
pub(crate) async fn fresh_database(
    dir: &Path,
) -> Result<(tempfile::TempDir, std::path::PathBuf), BenchError> {
    let tmp = tempfile::tempdir_in(dir)?;
    let path = tmp.path().join("raw.db");
    drop(SqliteStore::open(&path, SqliteOptions::default())?);
    proc::wait_store_threads_gone(Duration::from_secs(10)).await;
    Ok((tmp, path))
}

/// A plain rusqlite connection to `path`, in WAL mode with the given `synchronous`.
pub(crate) fn connect(path: &Path, sync: Synchronous) -> Result<Connection, BenchError> {
    let conn = Connection::open(path)?;
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    let level = match sync {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", level)?;
    Ok(conn)
}

fn write(
    conn: &mut Connection,
    events: u64,
    batch: usize,
    time_limit: Duration,
) -> Result<Sample, BenchError> {
    let pushes = Pushes::new("127.0.0.1:8080")?;
    let started = Instant::now();
    let deadline = started + time_limit;
    let (mut written, mut commits) = (0u64, 0u64);
    while written < events && Instant::now() < deadline {
        let tx = conn.transaction()?;
        let end = (written + batch as u64).min(events);
        for i in written..end {
            insert(&tx, &pushes, i)?;
        }
        tx.commit()?;
        commits += 1;
        written = end;
    }
    let elapsed = started.elapsed();
    Ok(Sample {
        rate: written as f64 / elapsed.as_secs_f64().max(1e-9),
        completed: written,
        elapsed,
        commits: Some(commits),
        ..Sample::default()
    })
}

/// The `i`-th event's rows, as `relay-store-sqlite`'s `insert_event` writes them.
pub(crate) fn insert(conn: &Connection, pushes: &Pushes, i: u64) -> Result<(), BenchError> {
    let body = Pushes::body(i);
    let headers = encode_headers(&pushes.received_headers(i, &body)?);
    let (event, now) = (EventId::new(), Timestamp::now());
    let key = Pushes::delivery_id(i);
    conn.prepare_cached(
        "INSERT OR REPLACE INTO dedup (tenant, source, idempotency_key, event_id, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        TenantId::DEFAULT,
        "github",
        key,
        event.as_bytes(),
        now.plus(WebhookSource::DEFAULT_DEDUP_WINDOW).as_millis()
    ])?;
    conn.prepare_cached(
        "INSERT INTO events (id, tenant, source, event_type, idempotency_key, headers, body,
             received_at, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        event.as_bytes(),
        TenantId::DEFAULT,
        "github",
        "push",
        key,
        headers,
        &body[..],
        now.as_millis(),
        EventStatus::Routed.as_str()
    ])?;
    for destination in ["receiver-a", "receiver-b"] {
        conn.prepare_cached(
            "INSERT INTO deliveries (id, tenant, event_id, destination, route, status,
                 next_attempt_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?6)",
        )?
        .execute(params![
            DeliveryId::new().as_bytes(),
            TenantId::DEFAULT,
            event.as_bytes(),
            destination,
            "pushes",
            now.as_millis()
        ])?;
    }
    Ok(())
}
