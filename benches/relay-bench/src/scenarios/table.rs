//! The report of the scenarios beyond `ingest`: a table of medians and every run, then the
//! ratios and where each target of issues 12 and 29 stands.

use std::fmt::Write as _;

use super::{Plan, label};
use crate::child::Job;
use crate::cli::{Args, Scenario, StoreChoice, Which};
use crate::report::{Results, machine, median_rate, median_sample, millis, notes, thousands};
use crate::sample::Sample;

/// `deliver` targets of issue 29 (issue 12 asked for 0.60): the worker at least this share of
/// the raw client's rate, on SQLite (`synchronous=FULL`) and on PostgreSQL.
const DELIVER_TARGET: f64 = 0.45;
const DELIVER_POSTGRES_TARGET: f64 = 0.30;
/// `end-to-end` targets: median ingest-to-delivered latency at 1k/s, in µs, on SQLite
/// (issue 12) and on PostgreSQL (issue 29).
const E2E_TARGET_US: u32 = 5_000;
const E2E_POSTGRES_TARGET_US: u32 = 3_000;

/// The markdown report of a scenario run.
pub fn markdown(args: &Args, plan: &Plan, results: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", machine());
    let _ = writeln!(out, "{}\n", setup(args));
    out.push_str(
        "| measurement | median rate | every run | done (median run) | p50 / p99 / p999 (median over runs) | CPU cores (median run) | peak RSS | notes (median run) |\n",
    );
    out.push_str("|---|---:|---|---|---|---:|---:|---|\n");
    for (job, samples) in results.rows() {
        let _ = writeln!(out, "{}", row(args, *job, samples));
    }
    for skipped in &plan.skipped {
        let _ = writeln!(out, "\n- {skipped}");
    }
    out.push('\n');
    out.push_str("| ratio / target | value |\n|---|---:|\n");
    for line in verdicts(args, results) {
        let _ = writeln!(out, "{line}");
    }
    out
}

fn setup(args: &Args) -> String {
    let common = format!(
        "store `{}`, {} runs each (medians shown), each run in a fresh process; client, server \
         and receiver share one process and its cores, so CPU and RSS include them",
        args.store.name(),
        args.runs
    );
    match args.scenario {
        Scenario::Ingest => format!("Scenario `ingest`: {common}."),
        Scenario::Load => format!("Scenario `load`: a running gateway at `--url`; {common}."),
        Scenario::Standalone => {
            format!("Scenario `standalone`: see `standalone::compare`; {common}.")
        }
        Scenario::IngestLatency => format!(
            "Scenario `ingest-latency`: open loop, {} s per rate, latency from each request's \
             intended send time (no coordinated omission), {} connections; {common}.",
            args.duration().as_secs(),
            args.connections
        ),
        Scenario::Deliver => format!(
            "Scenario `deliver`: {} pushes ingested with the worker stopped, then {} deliveries \
             timed from starting the worker (concurrency {}) until the receiver has them all and \
             the queue is empty; raw hyper client: the same bodies over {} keep-alive \
             connections; raw rusqlite delivery loop (SQLite): the same deliveries leased and \
             completed {} per pair of transactions, straight SQL; receiver answering after {} \
             ms; {common}.",
            args.events(),
            2 * args.events(),
            args.concurrency,
            args.concurrency,
            args.batch,
            args.receiver_delay_ms
        ),
        Scenario::EndToEnd => format!(
            "Scenario `end-to-end`: open-loop ingest for {} s, worker running, latency = arrival \
             at the receiver - intended send time, per delivery (2 per push); {common}.",
            args.duration().as_secs()
        ),
        Scenario::Publish => format!(
            "Scenario `publish`: {} 1 KiB push payloads per measurement, each with an \
             idempotency key and routed to both destinations, worker running: in process from \
             {} tasks calling `relay.publish(..)` in a closed loop, and over `POST /api/v1/events` \
             (operator key) on {} keep-alive connections, the event type's JSON Schema off and \
             on; baselines: HTTP ingest of the same pushes (signed, through `RelayLayer`), the \
             raw rusqlite loop, bare axum; {common}.",
            args.events(),
            args.connections,
            args.connections
        ),
        Scenario::Backlog => format!(
            "Scenario `backlog`: N pushes stored first (worker stopped), then a closed-loop burst \
             of {} over {} connections, then the worker started for {} s while RSS is sampled; \
             {common}.",
            args.events(),
            args.connections,
            args.drain_secs
        ),
    }
}

fn row(args: &Args, job: Job, samples: &[Sample]) -> String {
    let mid = median_sample(samples);
    let rate = median_rate(samples).unwrap_or(0.0);
    let every: Vec<String> = samples.iter().map(|s| thousands(s.rate)).collect();
    let latency = [
        median_of(samples, |s| s.p50_us),
        median_of(samples, |s| s.p99_us),
        median_of(samples, |s| s.p999_us),
    ]
    .map(|q| q.map_or("n/a".into(), millis))
    .join(" / ");
    let done = mid.map_or("n/a".into(), |s| {
        format!(
            "{}/{}",
            s.completed,
            s.expected.unwrap_or(s.completed + s.failed)
        )
    });
    let cpu = mid
        .and_then(|s| s.cpu)
        .map_or("n/a".into(), |c| format!("{c:.2}"));
    let rss = samples.iter().filter_map(|s| s.peak_rss_kib).max();
    let rss = rss.map_or("n/a".into(), |kib| format!("{} MiB", kib / 1024));
    let mut note = mid.map_or(String::new(), notes);
    if let Some(s) = mid
        && let (Some(a), Some(b)) = (s.rss_start_kib, s.rss_end_kib)
    {
        let _ = write!(
            note,
            ", RSS {} MiB when the worker started, {} MiB after draining",
            a / 1024,
            b / 1024
        );
    }
    format!(
        "| {} | **{} {}** | {} | {done} | {latency} | {cpu} | {rss} | {note} |",
        label(args, job),
        thousands(rate),
        unit(args.scenario, job.which),
        every.join(" · ")
    )
}

fn unit(scenario: Scenario, which: Which) -> &'static str {
    match (scenario, which) {
        (Scenario::Deliver | Scenario::EndToEnd, _) => "deliveries/s",
        (_, Which::Bare | Which::Client) => "req/s",
        _ => "events/s",
    }
}

/// The median over runs of one optional figure.
fn median_of(samples: &[Sample], f: impl Fn(&Sample) -> Option<u32>) -> Option<u32> {
    let mut values: Vec<u32> = samples.iter().filter_map(f).collect();
    values.sort_unstable();
    values.get(values.len().checked_sub(1)? / 2).copied()
}

fn find(results: &Results, pick: impl Fn(&Job) -> bool) -> Option<&[Sample]> {
    results
        .rows()
        .iter()
        .find(|(job, _)| pick(job))
        .map(|(_, samples)| samples.as_slice())
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

fn verdicts(args: &Args, results: &Results) -> Vec<String> {
    let mut lines = Vec::new();
    match args.scenario {
        Scenario::Ingest | Scenario::Load | Scenario::Standalone => {}
        Scenario::Publish => lines = super::publish::verdicts(results),
        Scenario::IngestLatency => {
            for rate in args.rates() {
                let at = |which: Which| find(results, |j| j.which == which && j.rate == Some(rate));
                if let (Some(g), Some(b)) = (at(Which::Gateway), at(Which::Bare)) {
                    for (name, q) in [
                        (
                            "p50",
                            median_of(g, |s| s.p50_us).zip(median_of(b, |s| s.p50_us)),
                        ),
                        (
                            "p99",
                            median_of(g, |s| s.p99_us).zip(median_of(b, |s| s.p99_us)),
                        ),
                        (
                            "p999",
                            median_of(g, |s| s.p999_us).zip(median_of(b, |s| s.p999_us)),
                        ),
                    ] {
                        if let Some((g, b)) = q {
                            lines.push(format!(
                                "| gateway {name} / bare axum {name} at {rate}/s | {:.1}x ({} vs {}) |",
                                f64::from(g) / f64::from(b.max(1)),
                                millis(g),
                                millis(b)
                            ));
                        }
                    }
                }
            }
        }
        Scenario::Deliver => {
            let rate = |which: Which| find(results, |j| j.which == which).and_then(median_rate);
            let deliver_target = match args.store {
                StoreChoice::Postgres => DELIVER_POSTGRES_TARGET,
                StoreChoice::Sqlite => DELIVER_TARGET,
            };
            if let (Some(g), Some(c)) = (rate(Which::Gateway), rate(Which::Client)) {
                lines.push(format!(
                    "| worker / raw hyper client (target >= {:.0}%: {}) | {:.0}% |",
                    100.0 * deliver_target,
                    met(g / c >= deliver_target),
                    100.0 * g / c
                ));
            }
            if let (Some(r), Some(c)) = (rate(Which::Raw), rate(Which::Client)) {
                lines.push(format!(
                    "| raw rusqlite delivery loop / raw hyper client (the store's ceiling) | {:.0}% |",
                    100.0 * r / c
                ));
            }
            if let (Some(g), Some(r)) = (rate(Which::Gateway), rate(Which::Raw)) {
                lines.push(format!(
                    "| worker / raw rusqlite delivery loop | {:.0}% |",
                    100.0 * g / r
                ));
            }
        }
        Scenario::EndToEnd => {
            for (job, samples) in results.rows() {
                if let Some(p50) = median_of(samples, |s| s.p50_us) {
                    let rate = job.rate.unwrap_or(0);
                    let target = match args.store {
                        StoreChoice::Postgres => E2E_POSTGRES_TARGET_US,
                        StoreChoice::Sqlite => E2E_TARGET_US,
                    };
                    let target = if rate == 1_000 {
                        format!(
                            " (target <= {} at 1k/s: {})",
                            millis(target),
                            met(p50 <= target)
                        )
                    } else {
                        String::new()
                    };
                    lines.push(format!(
                        "| ingest-to-delivered median at {rate}/s{target} | {} |",
                        millis(p50)
                    ));
                }
            }
        }
        Scenario::Backlog => {
            let empty = find(results, |j| j.backlog == Some(0));
            for (job, samples) in results.rows() {
                let backlog = job.backlog.unwrap_or(0);
                if backlog == 0 {
                    continue;
                }
                if let (Some(e), Some(b)) = (empty.and_then(median_rate), median_rate(samples)) {
                    lines.push(format!(
                        "| ingest rate with {backlog} stored / with 0 stored | {:.0}% |",
                        100.0 * b / e
                    ));
                }
                let peak = |s: &[Sample]| s.iter().filter_map(|s| s.peak_rss_kib).max();
                if let (Some(e), Some(b)) = (empty.and_then(peak), peak(samples)) {
                    lines.push(format!(
                        "| peak RSS while draining, {backlog} stored vs 0 (target: flat) | {} vs {} MiB |",
                        b / 1024,
                        e / 1024
                    ));
                }
            }
        }
    }
    if lines.is_empty() {
        lines.push("| (no baseline in this run) | n/a |".into());
    }
    lines
}
