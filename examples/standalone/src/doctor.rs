//! `relay doctor`: checks what a gateway needs before (or while) it runs and prints what is
//! wrong: the configuration, the store and its schema, the credential key, Redis, free disk
//! space beside a SQLite file, and the clock against PostgreSQL's and Redis's. It changes
//! nothing (it neither migrates nor creates a key file).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use relay_core::control::credentials::Keyring;

use crate::config::{self, Config};
use crate::keys::{self, Backing};
use crate::store;

/// Below this much free space beside the database, the disk check fails.
const MIN_FREE_BYTES: u64 = 512 << 20;

/// A clock further than this from the database's fails the check (leases, dedup windows and
/// signature tolerances all compare times across machines).
const MAX_SKEW: Duration = Duration::from_secs(2);

/// How long Redis has to answer.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// One check's outcome: what was found, or what is wrong.
type Outcome = Result<String, String>;

fn print(name: &str, outcome: &Outcome) {
    match outcome {
        Ok(found) => println!("ok    {name}: {found}"),
        Err(wrong) => println!("FAIL  {name}: {wrong}"),
    }
}

/// Runs every check and prints one line each; whether all passed.
pub async fn doctor(file: &Path, database_url: Option<String>) -> bool {
    let (config, assembled) = match config::check(file) {
        Ok(checked) => checked,
        Err(error) => {
            print("config", &Err(error.to_string()));
            return false;
        }
    };
    let mut outcomes = vec![(
        "config",
        Ok(format!(
            "{}: {} sources, {} destinations, {} routes",
            file.display(),
            assembled.sources.len(),
            assembled.destinations.len(),
            assembled.routes.len()
        )),
    )];
    let url = database_url.unwrap_or_else(|| config.server.database_url.clone());
    outcomes.extend(store_checks(&config, &url).await);
    if let Some(redis) = &config.server.redis_url {
        let connect = relay_store_redis::connect(redis);
        let (outcome, clock) = match tokio::time::timeout(REDIS_TIMEOUT, connect).await {
            Ok(Ok(mut connection)) => (
                Ok(format!("{} reachable", store::redact(redis))),
                Some(redis_clock(&mut connection).await),
            ),
            Ok(Err(error)) => (Err(format!("{}: {error}", store::redact(redis))), None),
            Err(_) => (
                Err(format!(
                    "{}: no answer within {} s",
                    store::redact(redis),
                    REDIS_TIMEOUT.as_secs()
                )),
                None,
            ),
        };
        outcomes.push(("redis", outcome));
        if let Some(clock) = clock {
            outcomes.push(("redis clock", clock));
        }
    }
    report(&outcomes)
}

/// An error and its sources, `: `-separated.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn report(outcomes: &[(&str, Outcome)]) -> bool {
    for (name, outcome) in outcomes {
        print(name, outcome);
    }
    outcomes.iter().all(|(_, outcome)| outcome.is_ok())
}

/// Where the key comes from, without creating anything.
fn key(config: &Config, backing: Backing<'_>) -> Outcome {
    match Keyring::from_env() {
        Ok(Some(keyring)) => {
            return Ok(format!(
                "RELAY_CREDENTIALS_KEY (sealing with {:?})",
                keyring.primary_id()
            ));
        }
        Ok(None) => {}
        Err(error) => return Err(format!("RELAY_CREDENTIALS_KEY: {error}")),
    }
    match keys::key_file(&config.delivery, backing) {
        Err(error) => Err(error.to_string()),
        Ok(None) => Ok("a key kept in memory (memory:// store)".into()),
        Ok(Some(path)) if path.exists() => match Keyring::load_or_create(&path) {
            Ok(keyring) => Ok(format!(
                "{} (sealing with {:?})",
                path.display(),
                keyring.primary_id()
            )),
            Err(error) => Err(format!("{}: {error}", path.display())),
        },
        Ok(Some(path)) => Ok(format!("{} (created at the first start)", path.display())),
    }
}

/// Free space on the filesystem of the database file.
fn disk(database: &Path) -> Outcome {
    let dir = database
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stats = rustix::fs::statvfs(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let free = stats.f_bavail.saturating_mul(stats.f_frsize);
    let total = stats.f_blocks.saturating_mul(stats.f_frsize).max(1);
    let found = format!(
        "{} MiB free of {} MiB in {}",
        free >> 20,
        total >> 20,
        dir.display()
    );
    if free < MIN_FREE_BYTES {
        Err(format!(
            "{found}: less than {} MiB (ingest answers 503 when the disk is full)",
            MIN_FREE_BYTES >> 20
        ))
    } else {
        Ok(found)
    }
}

/// How far `theirs` (Unix milliseconds, read right after `before`) is from this clock.
fn skew(before: SystemTime, theirs: i64, whose: &str) -> Outcome {
    let ours = before
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let skew = Duration::from_millis(theirs.abs_diff(ours));
    let found = format!("{} ms from {whose}", skew.as_millis());
    if skew > MAX_SKEW {
        Err(format!(
            "{found}: more than {} s (run NTP)",
            MAX_SKEW.as_secs()
        ))
    } else {
        Ok(found)
    }
}

/// This machine's clock against the Redis server's (`TIME`; rate limits shared through Redis
/// count in its windows).
async fn redis_clock(connection: &mut relay_store_redis::redis::aio::ConnectionManager) -> Outcome {
    let before = SystemTime::now();
    let (seconds, micros): (i64, i64) = relay_store_redis::redis::cmd("TIME")
        .query_async(connection)
        .await
        .map_err(|e| e.to_string())?;
    skew(before, seconds * 1000 + micros / 1000, "Redis's")
}

/// This machine's clock against the PostgreSQL server's.
async fn postgres_clock(url: &str) -> Outcome {
    let options = relay_store_postgres::PgOptions::default().migrate_on_open(false);
    let store = relay_store_postgres::PgStore::connect(url, options)
        .await
        .map_err(|e| e.to_string())?;
    let client = store.pool().get().await.map_err(|e| e.to_string())?;
    let before = SystemTime::now();
    let row = client
        .query_one(
            "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::int8",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    let theirs: i64 = row.try_get(0).map_err(|e| e.to_string())?;
    skew(before, theirs, "the database's")
}

/// The store, its key, its disk and its clock (nothing for a SQLite file not created yet).
async fn store_checks(config: &Config, url: &str) -> Vec<(&'static str, Outcome)> {
    let mut outcomes = Vec::new();
    if let Some(path) = url.strip_prefix("sqlite://")
        && !Path::new(path).exists()
    {
        let fresh = format!("{path} does not exist yet (created at the first start)");
        outcomes.push(("store", Ok(fresh)));
        return outcomes;
    }
    match store::open(url, &config.server, false, store::Use::Beside).await {
        Err(error) => outcomes.push((
            "store",
            Err(format!(
                "{error} (`relay migrate` creates or upgrades the schema)"
            )),
        )),
        Ok(mut opened) => {
            if let Some(pruner) = opened.pruner.take() {
                pruner.abort();
            }
            let failed = |error: &relay_core::store::StoreError| {
                format!(
                    "{}: {} (`relay migrate` creates or upgrades the schema)",
                    store::redact(url),
                    chain(error)
                )
            };
            let reachable = match opened.store.ping().await {
                Ok(()) => match opened.store.queue_depth().await {
                    Ok(depth) => Ok(format!(
                        "{} reachable; {depth} deliveries queued",
                        store::redact(url)
                    )),
                    Err(error) => Err(failed(&error)),
                },
                Err(error) => Err(failed(&error)),
            };
            outcomes.push(("store", reachable));
            outcomes.push(("credential key", key(config, opened.backing())));
            if let Some(file) = &opened.file {
                outcomes.push(("disk", disk(file)));
            }
            if opened.shared {
                outcomes.push(("clock", postgres_clock(url).await));
            }
        }
    }
    outcomes
}
