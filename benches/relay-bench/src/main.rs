//! # relay-bench
//!
//! The load harness of issue 4 ("Measure"): in ONE run on one machine it measures
//!
//! 1. **gateway**: events/s accepted (`200 {"status":"accepted",…}`) by the real gateway, an
//!    axum app with `relay_axum::RelayLayer` over a `Relay` on a fresh `SqliteStore` (group
//!    commit, `synchronous=FULL` by default), one `github` source, two HTTP destinations on a
//!    loopback receiver and a route sending `push` to both, with the delivery worker running;
//! 2. **raw rusqlite loop**: the same rows (event, dedup entry, two deliveries) on the store's
//!    schema, written directly, `--batch` events per transaction, the same WAL and
//!    `synchronous`;
//! 3. **bare axum**: the same POSTs answered with 200 and a small JSON body;
//!
//! each `--runs` times (interleaved, every measurement in a fresh child process, started once
//! other processes leave the machine at least 90% idle and repeated when they disturbed it),
//! and prints a markdown table of the medians and the ratios gateway / raw loop and
//! gateway / bare axum to stdout (progress goes to stderr).
//!
//! The load: signed 1 KiB GitHub `push` payloads (`X-Hub-Signature-256`, `X-GitHub-Event:
//! push`, a unique `X-GitHub-Delivery`), `--events` of them over `--connections` keep-alive
//! HTTP/1.1 connections on 127.0.0.1, stopping early after `--time-limit` seconds. The client
//! runs in the same process and on the same cores as the server: its CPU is inside every HTTP
//! number. Only loopback traffic.
//!
//! Run with (release mode matters):
//!
//! ```text
//! cargo run --release -p relay-bench -- --events 50000 --connections 256 --runs 3
//! cargo run --release -p relay-bench -- --synchronous both     # FULL, then NORMAL
//! cargo run --release -p relay-bench -- --only gateway --runs 1 # one measurement
//! cargo run --release -p relay-bench -- --only gateway --metrics  # with the Prometheus recorder
//! ```

mod agent;
mod bare;
mod child;
mod cli;
mod error;
mod gateway;
mod load;
mod payload;
mod proc;
mod raw;
mod report;
mod sample;
mod server;

use std::time::Duration;

use clap::Parser;

use crate::cli::{Args, Which};
use crate::error::BenchError;
use crate::load::Load;
use crate::report::{Kind, Results};
use crate::sample::Sample;
use relay_store_sqlite::SqliteOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Some(relay) = &args.agent_via {
        let table = runtime.block_on(agent::compare(
            relay,
            args.events,
            args.runs,
            args.time_limit(),
        ))?;
        print!("{table}");
        return Ok(());
    }
    if args.child {
        let kind = kinds(&args)
            .into_iter()
            .next()
            .ok_or("nothing to measure")?;
        let sample = runtime.block_on(measure_here(&args, kind))?;
        println!("{}", sample.to_line());
        return Ok(());
    }
    let results = runtime.block_on(measure_all(&args))?;
    print!("{}", results.markdown(&args));
    Ok(())
}

/// The measurements `--only` and `--synchronous` select, in order.
fn kinds(args: &Args) -> Vec<Kind> {
    let mut kinds = Vec::new();
    for which in [Which::Bare, Which::Raw, Which::Gateway] {
        if !args.only.contains(&which) {
            continue;
        }
        match which {
            Which::Bare => kinds.push(Kind { which, sync: None }),
            _ => kinds.extend(args.modes().into_iter().map(|s| Kind {
                which,
                sync: Some(s),
            })),
        }
    }
    kinds
}

/// Runs every measurement `--runs` times, interleaved (run 1 of each, then run 2, …) so that
/// drift on the machine spreads over all of them; each in a fresh child process, after the
/// machine is quiet, again when other processes disturbed it.
async fn measure_all(args: &Args) -> Result<Results, BenchError> {
    let mut results = Results::default();
    for run in 1..=args.runs.max(1) {
        for kind in kinds(args) {
            let mut tries = 0;
            let sample = loop {
                tries += 1;
                eprint!(
                    "run {run}/{}: {:?} {:?} … ",
                    args.runs, kind.which, kind.sync
                );
                proc::wait_quiet(Duration::from_secs(args.quiet_wait)).await;
                let child_args = args.clone();
                let sample =
                    tokio::task::spawn_blocking(move || child::run(&child_args, kind)).await??;
                let others = sample.others.unwrap_or(0.0);
                eprintln!(
                    "{:.0}/s ({} done, {} failed, {:.2} s, others {:.0}% CPU)",
                    sample.rate,
                    sample.completed,
                    sample.failed,
                    sample.elapsed.as_secs_f64(),
                    others * 100.0
                );
                if let Some(why) = &sample.first_failure {
                    eprintln!("  first failure: {why}");
                }
                if others < proc::QUIET || tries > args.retries {
                    break sample;
                }
                eprintln!("  disturbed by other processes; measuring again");
            };
            results.push(kind, sample);
        }
    }
    Ok(results)
}

/// Measures `kind` once, in this process.
async fn measure_here(args: &Args, kind: Kind) -> Result<Sample, BenchError> {
    let before = proc::CpuSnapshot::take();
    let mut sample = measure(args, kind).await?;
    sample.others = before.and_then(|b| b.others_since());
    Ok(sample)
}

async fn measure(args: &Args, kind: Kind) -> Result<Sample, BenchError> {
    let load = Load {
        connections: args.connections,
        requests: args.events,
        time_limit: args.time_limit(),
    };
    let sync = kind.sync.unwrap_or_default();
    match kind.which {
        Which::Bare => bare::measure(load).await,
        Which::Raw => {
            let dir = args.dir();
            raw::measure(&dir, sync, args.events, args.batch, args.time_limit()).await
        }
        Which::Gateway => {
            let options = SqliteOptions::default()
                .synchronous(sync)
                .checkpoint_interval(Duration::from_millis(args.checkpoint_ms));
            let setup = gateway::Setup {
                worker: !args.no_worker,
                metrics: args.metrics,
            };
            gateway::measure(&args.dir(), options, load, setup).await
        }
    }
}
