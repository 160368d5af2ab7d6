//! The scenarios beyond `ingest`: what each measures (its jobs), how one job runs in a child,
//! and the report.

mod backlog;
mod deliver;
mod e2e;
mod latency;
mod publish;
pub mod standalone;
mod table;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use relay_store_sqlite::Synchronous;

use crate::child::Job;
use crate::cli::{Args, Scenario, StoreChoice, Which};
use crate::error::BenchError;
use crate::gateway::Gateway;
use crate::load::{self, Load};
use crate::proc;
use crate::sample::Sample;

pub use table::markdown;

/// Disk a stored push takes, as measured on SQLite while seeding 10M (24 GB: the 1 KiB body,
/// its headers, two deliveries and their index entries), rounded up.
const BYTES_PER_STORED_EVENT: u64 = 2_560;

/// A scenario's measurements, and what it left out and why.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The measurements, in order.
    pub jobs: Vec<Job>,
    /// Measurements left out (a backlog the disk has no room for), with the reason.
    pub skipped: Vec<String>,
}

/// The measurements of `args.scenario` (not `ingest`, which `main` plans itself).
pub fn plan(args: &Args) -> Plan {
    let mut plan = Plan::default();
    let wanted = |which: Which| args.only.contains(&which);
    match args.scenario {
        Scenario::Ingest | Scenario::Load | Scenario::Standalone => {}
        Scenario::Publish => plan.jobs = publish::jobs(args),
        Scenario::IngestLatency => {
            for rate in args.rates() {
                for which in [Which::Bare, Which::Gateway]
                    .into_iter()
                    .filter(|w| wanted(*w))
                {
                    plan.jobs.push(Job {
                        rate: Some(rate),
                        ..Job::of(which)
                    });
                }
            }
        }
        Scenario::Deliver => {
            // The raw rusqlite delivery loop is the SQLite store's floor.
            let sqlite = args.store == StoreChoice::Sqlite;
            for which in [Which::Client, Which::Raw, Which::Gateway]
                .into_iter()
                .filter(|w| wanted(*w) && (sqlite || *w != Which::Raw))
            {
                plan.jobs.push(Job::of(which));
            }
        }
        Scenario::EndToEnd => {
            for rate in args.rates() {
                plan.jobs.push(Job {
                    rate: Some(rate),
                    ..Job::of(Which::Gateway)
                });
            }
        }
        Scenario::Backlog => {
            let free = proc::free_bytes(&data_dir(args));
            for &backlog in &args.backlog {
                let need = (backlog + args.events()) * BYTES_PER_STORED_EVENT;
                let keep = args.min_free_gb * 1_000_000_000;
                match free {
                    Some(free) if free < need + keep => plan.skipped.push(format!(
                        "backlog {backlog}: skipped, it needs ~{:.1} GB and the disk has {:.1} GB \
                         free, of which {} GB must stay free (--min-free-gb)",
                        need as f64 / 1e9,
                        free as f64 / 1e9,
                        args.min_free_gb
                    )),
                    _ => plan.jobs.push(Job {
                        backlog: Some(backlog),
                        ..Job::of(Which::Gateway)
                    }),
                }
            }
        }
    }
    // The gateway's SQLite durability: the first of `--synchronous` (`both` means FULL here).
    if args.store == StoreChoice::Sqlite {
        let stored = [
            Which::Gateway,
            Which::Publish,
            Which::PublishHttp,
            Which::Raw,
        ];
        for job in plan.jobs.iter_mut().filter(|j| stored.contains(&j.which)) {
            job.sync = args.modes().first().copied();
        }
    }
    plan
}

/// Where the store's data goes: the temp dir for SQLite, PostgreSQL's data directory.
fn data_dir(args: &Args) -> PathBuf {
    match args.store {
        StoreChoice::Sqlite => args.dir(),
        StoreChoice::Postgres => PathBuf::from("/var/lib/postgresql"),
    }
}

/// What `job` is, for progress lines and the table.
pub fn label(args: &Args, job: Job) -> String {
    let store = args.store.name();
    let mut label = match job.which {
        Which::Gateway if args.scenario == Scenario::Publish => format!("HTTP ingest ({store})"),
        Which::Gateway => format!("gateway ({store})"),
        Which::Bare => "bare axum".into(),
        Which::Raw if args.scenario == Scenario::Deliver => "raw rusqlite delivery loop".into(),
        Which::Raw => "raw rusqlite loop".into(),
        Which::Client => "raw hyper client".into(),
        Which::Publish => format!("in-process publish ({store})"),
        Which::PublishHttp => format!("POST /api/v1/events ({store})"),
    };
    if job.schema {
        label.push_str(" with schema");
    }
    let shown =
        |sync: &Synchronous| args.scenario == Scenario::Ingest || *sync != Synchronous::Full;
    if let Some(sync) = job.sync.filter(shown) {
        label.push_str(&format!(" {sync:?}"));
    }
    if let Some(rate) = job.rate {
        label.push_str(&format!(" at {rate}/s"));
    }
    if let Some(backlog) = job.backlog {
        label.push_str(&format!(", {backlog} stored"));
    }
    label
}

/// Measures `job` once, in this process.
pub async fn measure(args: &Args, job: Job) -> Result<Sample, BenchError> {
    match args.scenario {
        Scenario::Ingest | Scenario::Load | Scenario::Standalone => Err(BenchError::Setup(
            format!("{} is run by main", args.scenario.name()),
        )),
        Scenario::IngestLatency => latency::measure(args, job).await,
        Scenario::Deliver => deliver::measure(args, job).await,
        Scenario::EndToEnd => e2e::measure(args, job).await,
        Scenario::Backlog => backlog::measure(args, job).await,
        Scenario::Publish => publish::measure(args, job).await,
    }
}

/// Pushes `n` events into `gateway` (its worker stopped, so they stay undelivered) through
/// the closed-loop load generator, in chunks with a progress line each, for at most
/// `bound`. Returns how many were accepted.
async fn seed(
    gateway: &Gateway,
    n: u64,
    connections: usize,
    bound: Duration,
) -> Result<u64, BenchError> {
    const CHUNK: u64 = 100_000;
    let started = Instant::now();
    let mut accepted = 0;
    let mut sent = 0;
    while sent < n {
        let left = bound.saturating_sub(started.elapsed());
        if left.is_zero() {
            eprintln!("  seeding stopped at its time bound ({bound:?})");
            break;
        }
        let chunk = CHUNK.min(n - sent);
        let load = Load {
            connections,
            requests: chunk,
            time_limit: left,
            first: sent,
        };
        let report = load::run(gateway.server.addr, load).await?;
        if let Some(why) = &report.first_failure {
            eprintln!("  seeding: {} failed, first: {why}", report.failed);
        }
        accepted += report.accepted;
        sent += chunk;
        eprintln!(
            "  seeded {accepted} of {n} ({:.0}/s so far)",
            accepted as f64 / started.elapsed().as_secs_f64().max(1e-9)
        );
    }
    Ok(accepted)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn each_scenario_plans_the_gateway_and_its_baseline() {
        let whiches = |argv: &[&str]| -> Vec<(Which, Option<u64>)> {
            let args = Args::parse_from(argv);
            plan(&args)
                .jobs
                .iter()
                .map(|j| (j.which, j.rate.or(j.backlog)))
                .collect()
        };
        assert_eq!(
            whiches(&["b", "ingest-latency", "--rates", "10,20"]),
            [
                (Which::Bare, Some(10)),
                (Which::Gateway, Some(10)),
                (Which::Bare, Some(20)),
                (Which::Gateway, Some(20))
            ]
        );
        assert_eq!(
            whiches(&["b", "deliver"]),
            [
                (Which::Client, None),
                (Which::Raw, None),
                (Which::Gateway, None)
            ]
        );
        assert_eq!(
            whiches(&["b", "end-to-end"]),
            [(Which::Gateway, Some(1000))]
        );
        let publish = Args::parse_from(["b", "publish"]);
        let jobs: Vec<(Which, bool)> = (plan(&publish).jobs.iter())
            .map(|j| (j.which, j.schema))
            .collect();
        assert_eq!(
            jobs,
            [
                (Which::Bare, false),
                (Which::Raw, false),
                (Which::Gateway, false),
                (Which::Publish, false),
                (Which::Publish, true),
                (Which::PublishHttp, false),
                (Which::PublishHttp, true)
            ]
        );
        assert_eq!(
            whiches(&["b", "backlog", "--backlog", "0,5", "--min-free-gb", "0"]),
            [(Which::Gateway, Some(0)), (Which::Gateway, Some(5))]
        );
    }

    #[test]
    fn a_backlog_without_room_is_skipped_and_said_so() {
        let args = Args::parse_from(["b", "backlog", "--backlog", "0", "--min-free-gb", "1000000"]);
        let plan = plan(&args);
        assert!(plan.jobs.is_empty());
        assert!(
            plan.skipped[0].starts_with("backlog 0: skipped"),
            "{:?}",
            plan.skipped
        );
    }

    #[test]
    fn the_gateway_gets_the_chosen_durability() {
        let args = Args::parse_from(["b", "deliver", "--synchronous", "normal"]);
        let jobs = plan(&args).jobs;
        assert_eq!(jobs[0].sync, None, "the raw client has no store");
        assert_eq!(
            jobs[1].sync,
            Some(Synchronous::Normal),
            "the raw store loop"
        );
        assert_eq!(jobs[2].sync, Some(Synchronous::Normal));
        assert_eq!(label(&args, jobs[2]), "gateway (sqlite) Normal");
        let args = Args::parse_from(["b", "deliver"]);
        assert_eq!(label(&args, plan(&args).jobs[2]), "gateway (sqlite)");
        let args = Args::parse_from(["b", "deliver", "--store", "postgres"]);
        assert_eq!(
            (plan(&args).jobs.iter().map(|j| j.which)).collect::<Vec<_>>(),
            [Which::Client, Which::Gateway],
            "no raw SQLite loop under PostgreSQL"
        );
    }
}
