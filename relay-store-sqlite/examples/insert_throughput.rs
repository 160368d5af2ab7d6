//! Measures ingest throughput: N events with 2 deliveries each, inserted from many concurrent
//! tasks through one `SqliteStore` (group commit, `synchronous=FULL` unless `NORMAL` is given).
//!
//! Run with: `cargo run --release -p relay-store-sqlite --example insert_throughput -- [EVENTS] [TASKS] [full|normal] [DIR]`

use relay_core::store::EventIngest;
use std::sync::Arc;
use std::time::Instant;

use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::InsertOutcome;
use relay_core::store::conformance::{T0, new_event};
use relay_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let tasks: usize = args.next().map_or(Ok(256), |a| a.parse())?;
    let sync = match args.next().as_deref() {
        Some("normal") => Synchronous::Normal,
        _ => Synchronous::Full,
    };
    let base = args.next().map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(base)?;
    let store = Arc::new(SqliteStore::open(
        dir.path().join("bench.db"),
        SqliteOptions::default()
            .synchronous(sync)
            .checkpoint_interval(std::time::Duration::from_millis(
                std::env::var("CHECKPOINT_MS").map_or(Ok(1000), |v| v.parse())?,
            )),
    )?);
    let tenant = TenantId::default_tenant();
    let per_task = events.div_ceil(tasks);
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (store, tenant) = (Arc::clone(&store), tenant.clone());
            tokio::spawn(async move {
                for i in 0..per_task {
                    let key = format!("{task}-{i}");
                    // Received now: realistic (increasing) due and dedup-expiry times.
                    let offset = Timestamp::now().as_millis() - T0.as_millis();
                    let new = new_event(&tenant, "bench", &key, offset, &["a", "b"]);
                    let outcome = store.insert_event(new).await?;
                    assert_eq!(outcome, InsertOutcome::Inserted);
                }
                Ok::<_, relay_core::store::StoreError>(())
            })
        })
        .collect();
    for handle in handles {
        handle.await??;
    }
    let elapsed = started.elapsed();
    let total = per_task * tasks;
    let commits = store.commit_count().max(1);
    println!(
        "{total} events (2 deliveries each), {tasks} tasks, synchronous={sync:?}: {:.2?}, \
         {:.0} events/s, {commits} commits ({:.0} events/commit)",
        elapsed,
        total as f64 / elapsed.as_secs_f64(),
        total as f64 / commits as f64,
    );
    Ok(())
}
