//! Every measurement runs in a fresh child process (this binary with `--child`), so that
//! its peak RSS, allocator state and threads are its own; the child prints one
//! [`Sample`] line, which the parent reads.

use std::process::{Command, Stdio};

use relay_store_sqlite::Synchronous;

use crate::cli::{Args, Which};
use crate::error::BenchError;
use crate::sample::Sample;

/// One measurement to run in a child: what, and at which rate / backlog / durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// What runs.
    pub which: Which,
    /// The SQLite durability (`ingest`'s gateway and raw loop).
    pub sync: Option<Synchronous>,
    /// The open-loop rate (`ingest-latency`, `end-to-end`).
    pub rate: Option<u64>,
    /// Events stored before the measurement (`backlog`).
    pub backlog: Option<u64>,
    /// Published payloads are validated against a JSON Schema (`publish`).
    pub schema: bool,
}

impl Job {
    /// A job with no rate, backlog or durability of its own.
    pub fn of(which: Which) -> Self {
        Self {
            which,
            sync: None,
            rate: None,
            backlog: None,
            schema: false,
        }
    }
}

/// Runs `job` once in a child process and returns its sample.
pub fn run(args: &Args, job: Job) -> Result<Sample, BenchError> {
    let exe = std::env::current_exe()?;
    let output = Command::new(exe)
        .args(child_args(args, job))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(BenchError::Setup(format!(
            "measurement {job:?} failed ({}): {stdout}",
            output.status
        )));
    }
    Sample::from_output(&stdout)
        .ok_or_else(|| BenchError::Setup(format!("no sample from the child: {stdout}")))
}

/// The command line of a child measuring `job` once.
fn child_args(args: &Args, job: Job) -> Vec<String> {
    let sync = match job.sync {
        Some(Synchronous::Normal) => "normal",
        _ => "full",
    };
    let mut out: Vec<String> = [
        args.scenario.name(),
        "--child",
        "--runs",
        "1",
        "--only",
        job.which.name(),
        "--synchronous",
        sync,
        "--store",
        args.store.name(),
    ]
    .map(String::from)
    .into();
    for (flag, value) in [
        ("--events", args.events().to_string()),
        ("--connections", args.connections.to_string()),
        ("--time-limit", args.time_limit.to_string()),
        ("--batch", args.batch.to_string()),
        ("--checkpoint-ms", args.checkpoint_ms.to_string()),
        ("--duration", args.duration.to_string()),
        ("--concurrency", args.concurrency.to_string()),
        ("--receiver-delay-ms", args.receiver_delay_ms.to_string()),
        ("--drain-secs", args.drain_secs.to_string()),
    ] {
        out.push(flag.into());
        out.push(value);
    }
    if let Some(cap) = args.per_destination {
        out.extend(["--per-destination".into(), cap.to_string()]);
    }
    if let Some(rate) = job.rate {
        out.extend(["--rates".into(), rate.to_string()]);
    }
    if let Some(backlog) = job.backlog {
        out.extend(["--backlog".into(), backlog.to_string()]);
    }
    if job.schema {
        out.push("--schema".into());
    }
    if args.no_worker {
        out.push("--no-worker".into());
    }
    if args.metrics {
        out.push("--metrics".into());
    }
    if let Some(dir) = &args.dir {
        out.push("--dir".into());
        out.push(dir.display().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Scenario, StoreChoice};

    #[test]
    fn a_child_parses_what_its_parent_passes() {
        let parent =
            Args::parse_from(["relay-bench", "--events", "10", "--no-worker", "--metrics"]);
        let job = Job {
            sync: Some(Synchronous::Normal),
            ..Job::of(Which::Gateway)
        };
        let child =
            Args::parse_from(std::iter::once("relay-bench".into()).chain(child_args(&parent, job)));
        assert!(child.child && child.no_worker && child.metrics);
        assert_eq!((child.events(), child.runs), (10, 1));
        assert_eq!(child.only, vec![Which::Gateway]);
        assert_eq!(child.modes(), vec![Synchronous::Normal]);
        assert_eq!(child.scenario, Scenario::Ingest);
    }

    #[test]
    fn a_scenario_child_gets_its_rate_backlog_and_store() {
        let parent = Args::parse_from([
            "relay-bench",
            "backlog",
            "--store",
            "postgres",
            "--backlog",
            "0,500",
            "--per-destination",
            "7",
            "--receiver-delay-ms",
            "50",
        ]);
        let job = Job {
            rate: Some(700),
            backlog: Some(500),
            schema: true,
            ..Job::of(Which::Client)
        };
        let child =
            Args::parse_from(std::iter::once("relay-bench".into()).chain(child_args(&parent, job)));
        assert_eq!(child.scenario, Scenario::Backlog);
        assert_eq!(child.store, StoreChoice::Postgres);
        assert_eq!(
            (child.rates(), child.backlog.clone()),
            (vec![700], vec![500])
        );
        assert_eq!(child.events(), 20_000);
        assert_eq!(child.receiver_delay_ms, 50);
        assert_eq!(child.only, vec![Which::Client]);
        assert_eq!(child.per_destination, Some(7));
        assert!(child.schema);
    }
}
