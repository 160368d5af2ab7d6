//! The child process of the outbox's SIGKILL tests (`tests/outbox.rs`). One life per run,
//! killed by the test at the point it prints:
//!
//! ```text
//! outbox_crash DRIVER APP_DB RELAY_DB RECEIVER_URL write N   # prints each id, then COMMITTED; waits
//! outbox_crash DRIVER APP_DB RELAY_DB RECEIVER_URL move K    # after the K-th publish, before its
//!                                                            # delete: prints PAUSED; waits
//! outbox_crash DRIVER APP_DB RELAY_DB RECEIVER_URL deliver   # moves everything and delivers; runs on
//! ```
//!
//! The relay's store is `relay_store_sqlite` at RELAY_DB, so published events survive the
//! kill. Only the `deliver` life runs a delivery worker: what the receiver counts is what the
//! outbox moved, never a delivery retried after a kill.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use relay_outbox::{MoverConfig, OutboxEvent};
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::outbox::{AppDb, Driver, relay};
use serde_json::json;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [driver, app_db, relay_db, receiver, phase, rest @ ..] = args.as_slice() else {
        eprintln!("usage: outbox_crash DRIVER APP_DB RELAY_DB RECEIVER_URL write N|move K|deliver");
        return ExitCode::from(2);
    };
    let driver: Driver = match driver.parse() {
        Ok(driver) => driver,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let number = rest
        .first()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    let db = AppDb {
        driver,
        url: app_db.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        match phase.as_str() {
            "write" => write(&db, number).await,
            "move" | "deliver" => {
                let store =
                    SqliteStore::open(relay_db, SqliteOptions::default()).expect("relay store");
                let relay = relay(Arc::new(store), receiver);
                let worker = (phase == "deliver").then(|| {
                    relay.spawn_worker(
                        relay_core::deliver::WorkerConfig::default()
                            .poll_interval(Duration::from_millis(20)),
                    )
                });
                let config = MoverConfig::default()
                    .batch(4)
                    .poll_interval(Duration::from_millis(20));
                let config = if phase == "move" {
                    pause_after(config, number)
                } else {
                    config
                };
                let _mover = db.mover(relay, config).await;
                let _worker = worker;
                say("MOVING");
                std::future::pending::<()>().await;
            }
            other => panic!("unknown phase {other:?}"),
        }
    });
    ExitCode::SUCCESS
}

/// Writes `n` events in one committed transaction, says their ids, then waits to be killed.
async fn write(db: &AppDb, n: usize) {
    db.migrate().await;
    let events: Vec<OutboxEvent> = (0..n)
        .map(|i| OutboxEvent::new("invoice.paid", json!({"n": i})))
        .collect();
    for id in db.write(&events, true).await {
        say(&format!("ID {id}"));
    }
    say("COMMITTED");
    std::future::pending::<()>().await;
}

/// A hook that, after the `k`-th publish (before its row's delete), says `PAUSED` and blocks
/// the mover for good.
fn pause_after(config: MoverConfig, k: usize) -> MoverConfig {
    let moved = AtomicUsize::new(0);
    config.on_moved(move |id, published| {
        say(&format!("MOVED {id} {published:?}"));
        if moved.fetch_add(1, Ordering::SeqCst) + 1 == k {
            say("PAUSED");
            loop {
                std::thread::park();
            }
        }
    })
}
