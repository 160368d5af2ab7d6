//! # relay-bench
//!
//! The load harness (issues 4 and 12). Each scenario measures the real gateway AND a raw
//! baseline in the same run, on loopback, every measurement in a fresh child process started
//! once other processes leave the machine at least 90% idle (and repeated when they
//! disturbed it), `--runs` times interleaved, and prints a markdown table of the medians,
//! every run, and the ratios to stdout; progress (a line per phase and per run) goes to
//! stderr. Every phase is bounded in time.
//!
//! The gateway: an axum app with `relay_axum::RelayLayer` over a `Relay` on a fresh store
//! (`--store sqlite`: a `SqliteStore` with group commit, `synchronous=FULL` by default;
//! `--store postgres`: a `PgStore` in a fresh database on the server `RELAY_TEST_POSTGRES_URL`
//! names, dropped afterwards), one `github` source, two HTTP destinations on a loopback hyper
//! receiver and a route sending `push` to both. The load: signed 1 KiB GitHub `push`
//! payloads (`X-Hub-Signature-256`, `X-GitHub-Event: push`, a unique `X-GitHub-Delivery`)
//! over keep-alive HTTP/1.1 connections on 127.0.0.1, from a Rust client in the same process
//! and on the same cores as the server: its CPU is inside every HTTP number.
//!
//! Scenarios (the first argument; `ingest` when none is given):
//!
//! - `ingest`: a closed-loop burst of `--events` over `--connections`, against (1) the gateway
//!   with its worker, (2) a raw rusqlite loop writing the same rows (SQLite only) and (3) bare
//!   axum answering 200. events/s, p50/p99, CPU and peak RSS; gateway / bare axum.
//! - `ingest-latency`: open loop at each of `--rates` (default 1000,5000 events/s) for
//!   `--duration` seconds: every request is scheduled at its intended send time and its latency
//!   is measured from that time, so a slow answer cannot hide the requests queued behind it
//!   (no coordinated omission). p50/p99/p999 of the gateway and of bare axum at the same rate.
//! - `deliver`: `--events` (default 100,000) pushes ingested with the worker stopped, then the
//!   worker (concurrency `--concurrency`, per destination `--per-destination`, by default the
//!   same) started and timed until the receiver has all 2 x N
//!   deliveries; baseline: a raw hyper client posting the same bodies to the same receiver
//!   over `--concurrency` keep-alive connections. deliveries/s.
//! - `end-to-end`: open-loop ingest at `--rates` (default 1000/s) with the worker running; the
//!   receiver records each delivery's arrival; latency = arrival - intended send time.
//! - `publish`: in-process `relay.publish(..)` (`--connections` tasks in a closed loop) and
//!   `POST /api/v1/events` (the admin API, an operator key), `--events` 1 KiB push payloads
//!   each with an idempotency key, routed to both destinations like an ingested push, with
//!   the event type's JSON Schema validation off and on; against HTTP ingest of the same
//!   pushes, the raw rusqlite loop and bare axum in the same run.
//! - `backlog`: for each of `--backlog` (default 0 and 1,000,000), that many pushes ingested
//!   with the worker stopped, then a closed-loop burst of `--events` (default 20,000) measured,
//!   then the worker started for `--drain-secs` while RSS is sampled. A backlog that would leave
//!   less than `--min-free-gb` free on the disk is skipped, and the report says so.
//!
//! - `load`: signed events (GitHub, Stripe, Standard Webhooks or unsigned) sent to a running
//!   gateway at `--url` for `--duration` seconds, closed loop over `--connections` or open
//!   loop at `--rate`; throughput, p50/p99/p999 and every non-2xx answer by status (see
//!   `loadgen`).
//! - `standalone`: `relay serve` (the binary at `--relay-bin`) on SQLite FULL vs bare axum,
//!   each a child process, the same closed-loop pushes over `--connections` for `--duration`
//!   seconds, alternating `--runs` times: req/s, p50/p99, server and client CPU per request,
//!   relay / bare (see `scenarios/standalone`).
//!
//! Run with (release mode matters):
//!
//! ```text
//! cargo run --release -p relay-bench -- --events 50000 --connections 256 --runs 3
//! cargo run --release -p relay-bench -- --synchronous both     # FULL, then NORMAL
//! cargo run --release -p relay-bench -- --only gateway --runs 1 # one measurement
//! cargo run --release -p relay-bench -- --only gateway --metrics  # with the Prometheus recorder
//! cargo run --release -p relay-bench -- ingest-latency --rates 1000,5000 --duration 10
//! cargo run --release -p relay-bench -- deliver --events 100000 --concurrency 64
//! cargo run --release -p relay-bench -- end-to-end --rates 1000
//! cargo run --release -p relay-bench -- backlog --backlog 0,1000000 --runs 1
//! cargo run --release -p relay-bench -- publish --events 50000
//! relay-bench load --url http://127.0.0.1:8080 --source github --secret S --rate 500 --duration 30
//! relay-bench standalone --relay-bin target/release/relay --connections 64 --duration 10 --runs 3
//! cargo run --release -p relay-bench -- deliver --store postgres   # after scripts/services.sh
//! relay-bench --agent-via target/release/relay --events 10000       # agent vs direct, in process
//! relay-bench --agent-via target/release/relay --agent-nodes 2      # on 2 `relay serve` nodes
//! relay-bench --agent-via target/release/relay --agent-nodes 2 --agent-backlog  # a held backlog's drain
//! ```

mod agent;
mod agent_nodes;
mod bare;
mod call;
mod child;
mod cli;
mod error;
mod gateway;
mod load;
mod loadgen;
mod nodes;
mod openloop;
mod payload;
mod proc;
mod raw;
mod raw_deliver;
mod report;
mod sample;
mod scenarios;
mod server;
mod store;

/// The allocator, as in the `relay` binary: mimalloc, not glibc's malloc (under load glibc's
/// arenas showed up as about a fifth of the CPU: malloc, free, consolidation, arena locks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Duration;

use clap::Parser;

use crate::child::Job;
use crate::cli::{Args, Scenario, StoreChoice, Which};
use crate::error::BenchError;
use crate::load::Load;
use crate::report::Results;
use crate::sample::Sample;
use crate::store::BenchStore;
use relay_store_sqlite::SqliteOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Some(kind) = args.serve {
        runtime.block_on(scenarios::standalone::serve(kind))?;
        return Ok(());
    }
    if args.scenario == Scenario::Standalone {
        print!(
            "{}",
            runtime.block_on(scenarios::standalone::compare(&args))?
        );
        return Ok(());
    }
    if args.scenario == Scenario::Load {
        let summary = runtime.block_on(loadgen::run(&load_options(&args)?))?;
        match args.json {
            true => println!("{}", summary.to_json()),
            false => print!("{}", summary.to_text()),
        }
        return Ok(());
    }
    if let (Some(relay), Some(nodes)) = (&args.agent_via, args.agent_nodes) {
        let plan = agent_nodes::Plan {
            nodes: usize::from(nodes),
            events: args.events(),
            runs: args.runs,
            limit: args.time_limit(),
            backlog: args.agent_backlog,
        };
        let table = runtime.block_on(agent_nodes::compare(relay, plan))?;
        print!("{table}");
        return Ok(());
    }
    if let Some(relay) = &args.agent_via {
        let table = runtime.block_on(agent::compare(
            relay,
            args.events(),
            args.runs,
            args.time_limit(),
        ))?;
        print!("{table}");
        return Ok(());
    }
    if args.child {
        let job = child_job(&args).ok_or("nothing to measure")?;
        let sample = runtime.block_on(measure_here(&args, job))?;
        println!("{}", sample.to_line());
        return Ok(());
    }
    if args.scenario == Scenario::Ingest {
        let results = runtime.block_on(measure_all(&args, ingest_jobs(&args)))?;
        print!("{}", results.markdown(&args));
    } else {
        let plan = scenarios::plan(&args);
        let results = runtime.block_on(measure_all(&args, plan.jobs.clone()))?;
        print!("{}", scenarios::markdown(&args, &plan, &results));
    }
    Ok(())
}

/// `load`'s options, from the command line.
fn load_options(args: &Args) -> Result<loadgen::Options, BenchError> {
    let url = args
        .url
        .clone()
        .ok_or_else(|| BenchError::Setup("load needs --url".into()))?;
    let secret = match (&args.secret, args.scheme) {
        (Some(secret), _) => secret.clone(),
        (None, loadgen::sign::Scheme::None) => String::new(),
        (None, scheme) => {
            return Err(BenchError::Setup(format!(
                "--scheme {} needs --secret (or RELAY_LOAD_SECRET)",
                scheme.name()
            )));
        }
    };
    Ok(loadgen::Options {
        url,
        source: args.source.clone(),
        scheme: args.scheme,
        secret,
        event_type: args.event_type.clone(),
        rate: args.rate,
        connections: args.connections,
        duration: args.duration(),
        timeout: Duration::from_secs(args.request_timeout.max(1)),
    })
}

/// The one measurement a child runs, from its command line.
fn child_job(args: &Args) -> Option<Job> {
    Some(Job {
        which: *args.only.first()?,
        sync: args.modes().first().copied(),
        rate: args.rates().first().copied(),
        backlog: args.backlog.first().copied(),
        schema: args.schema,
    })
}

/// `ingest`'s measurements, as `--only` and `--synchronous` select them, in order (the raw
/// rusqlite loop only with SQLite).
fn ingest_jobs(args: &Args) -> Vec<Job> {
    let mut jobs = Vec::new();
    for which in [Which::Bare, Which::Raw, Which::Gateway] {
        if !args.only.contains(&which) || (which == Which::Raw && args.store != StoreChoice::Sqlite)
        {
            continue;
        }
        match which {
            // PostgreSQL has no `synchronous` to choose.
            Which::Gateway if args.store == StoreChoice::Postgres => jobs.push(Job::of(which)),
            Which::Bare => jobs.push(Job::of(which)),
            _ => jobs.extend(args.modes().into_iter().map(|s| Job {
                sync: Some(s),
                ..Job::of(which)
            })),
        }
    }
    jobs
}

/// Runs every job `--runs` times, interleaved (run 1 of each, then run 2, …) so that drift on
/// the machine spreads over all of them; each in a fresh child process, after the machine is
/// quiet, again when other processes disturbed it.
async fn measure_all(args: &Args, jobs: Vec<Job>) -> Result<Results, BenchError> {
    let mut results = Results::default();
    let runs = args.runs.max(1);
    eprintln!(
        "relay-bench {}: {} measurements x {runs} runs, store {}",
        args.scenario.name(),
        jobs.len(),
        args.store.name()
    );
    for run in 1..=runs {
        for &job in &jobs {
            let mut tries = 0;
            let sample = loop {
                tries += 1;
                eprintln!("run {run}/{runs}: {} …", scenarios::label(args, job));
                proc::wait_quiet(Duration::from_secs(args.quiet_wait)).await;
                let child_args = args.clone();
                let sample =
                    tokio::task::spawn_blocking(move || child::run(&child_args, job)).await??;
                let others = sample.others.unwrap_or(0.0);
                eprintln!(
                    "  => {:.0}/s ({} of {} done, {} failed, {:.2} s, others {:.0}% CPU)",
                    sample.rate,
                    sample.completed,
                    sample.expected.unwrap_or(sample.completed + sample.failed),
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
            results.push(job, sample);
        }
    }
    Ok(results)
}

/// Measures `job` once, in this process.
async fn measure_here(args: &Args, job: Job) -> Result<Sample, BenchError> {
    let before = proc::CpuSnapshot::take();
    let mut sample = match args.scenario {
        Scenario::Ingest => measure_ingest(args, job).await?,
        _ => scenarios::measure(args, job).await?,
    };
    sample.others = before.and_then(|b| b.others_since());
    Ok(sample)
}

/// The SQLite options of every gateway measurement.
pub fn sqlite_options(args: &Args, job: Job) -> SqliteOptions {
    SqliteOptions::default()
        .synchronous(job.sync.unwrap_or_default())
        .checkpoint_interval(Duration::from_millis(args.checkpoint_ms))
}

/// `ingest`'s measurement of `job` (a closed-loop burst, or the raw loop): also the
/// baselines of `publish`.
async fn measure_ingest(args: &Args, job: Job) -> Result<Sample, BenchError> {
    let load = Load {
        connections: args.connections,
        requests: args.events(),
        time_limit: args.time_limit(),
        first: 0,
    };
    let mut sample = match job.which {
        Which::Bare | Which::Client | Which::Publish | Which::PublishHttp => {
            bare::measure(load).await?
        }
        Which::Raw => {
            let dir = args.dir();
            let sync = job.sync.unwrap_or_default();
            raw::measure(&dir, sync, args.events(), args.batch, args.time_limit()).await?
        }
        Which::Gateway => {
            let store =
                BenchStore::open(args.store, &args.dir(), sqlite_options(args, job)).await?;
            let setup = gateway::Setup {
                worker: !args.no_worker,
                metrics: args.metrics,
                ..gateway::Setup::default()
            };
            gateway::measure(store, load, setup).await?
        }
    };
    sample.expected = Some(args.events());
    Ok(sample)
}
