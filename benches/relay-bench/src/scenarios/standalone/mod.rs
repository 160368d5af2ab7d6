//! `standalone`: the `relay` binary's `relay serve` against bare axum, both as child
//! processes driven by the same closed-loop generator in the same run (issue 29's "standalone
//! vs bare axum").
//!
//! A receiver child (`--serve receiver`) takes the deliveries for the whole run. Then,
//! `--runs` times, alternating: bare axum in a child (`--serve bare`, `bare.rs`'s app), and
//! `relay serve` (the binary at `--relay-bin`) on a configuration written to a fresh temp dir
//! ([`config::toml`]: SQLite `synchronous=FULL`, or NORMAL with `--synchronous normal`, one `github` source, two HTTP destinations on
//! the receiver, a route sending `push` to both), checked first with `relay config check`,
//! with its default logging (`RUST_LOG` unset, stderr to a file). Each is driven for
//! `--duration` seconds by `--connections` keep-alive connections sending signed 1 KiB GitHub
//! pushes (`load.rs`; this process runs nothing else), then killed (SIGKILL). Server CPU comes
//! from `/proc/PID/stat`, the client's from this process; the ratio is relay / bare of the
//! medians.
//!
//! ```text
//! relay-bench standalone --relay-bin target/release/relay --connections 64 --duration 10 --runs 3
//! ```

mod config;
mod procs;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::call;
use crate::cli::{Args, Serve};
use crate::error::BenchError;
use crate::load::{self, Load};
use crate::proc;
use crate::sample::Sample;

pub use procs::serve;
use procs::{Served, spawn_serving};

/// Microseconds in a clock tick of `/proc/PID/stat` (`USER_HZ` = 100).
const TICK_US: f64 = 10_000.0;

/// One run against one server.
#[derive(Debug, Clone, Default)]
struct Run {
    /// Accepted requests, latencies, failures.
    load: Sample,
    /// CPU-µs the server process used per accepted request.
    server_us: f64,
    /// CPU-µs this process (the load generator) used per accepted request.
    client_us: f64,
    /// Cores the server kept busy.
    server_cores: f64,
    /// Deliveries the receiver got while the load ran.
    delivered: u64,
    /// Cores the receiver kept busy.
    receiver_cores: f64,
}

/// Runs the comparison; the markdown report.
pub async fn compare(args: &Args) -> Result<String, BenchError> {
    let bin = (args.relay_bin.as_deref())
        .ok_or_else(|| BenchError::Setup("standalone needs --relay-bin PATH".into()))?;
    let mut receiver = spawn_serving(Serve::Receiver)?;
    let runs = args.runs.max(1);
    let (mut bare, mut relay) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        for is_relay in [false, true] {
            let name = if is_relay { "relay serve" } else { "bare axum" };
            let mut tries = 0;
            let measured = loop {
                tries += 1;
                eprintln!("run {run}/{runs}: {name} …");
                proc::wait_quiet(Duration::from_secs(args.quiet_wait)).await;
                let (measured, others) = match is_relay {
                    true => measure_relay(args, bin, &mut receiver).await?,
                    false => measure_bare(args, &mut receiver).await?,
                };
                eprintln!(
                    "  => {} (others {:.0}% CPU)",
                    line(&measured),
                    others * 100.0
                );
                if let Some(why) = &measured.load.first_failure {
                    eprintln!("  first failure: {why}");
                }
                if others < proc::QUIET || tries > args.retries {
                    break measured;
                }
                eprintln!(
                    "  disturbed by other processes ({:.0}% CPU); measuring again",
                    others * 100.0
                );
            };
            if is_relay { &mut relay } else { &mut bare }.push(measured);
        }
    }
    Ok(report(args, &bare, &relay))
}

/// Bare axum in a fresh child.
async fn measure_bare(args: &Args, receiver: &mut Served) -> Result<(Run, f64), BenchError> {
    let server = spawn_serving(Serve::Bare)?;
    drive(args, &server, receiver).await
}

/// `relay serve` on a fresh configuration and store.
async fn measure_relay(
    args: &Args,
    bin: &Path,
    receiver: &mut Served,
) -> Result<(Run, f64), BenchError> {
    let dir = tempfile::tempdir_in(args.dir())?;
    let config = dir.path().join("relay.toml");
    let receiver_url = format!("http://{}", receiver.addr);
    let synchronous = args.modes().first().copied().unwrap_or_default();
    let text = config::toml(&dir.path().join("relay.db"), &receiver_url, synchronous);
    std::fs::write(&config, text)?;
    check_config(bin, &config)?;
    let log = std::fs::File::create(dir.path().join("relay.log"))?;
    let mut command = Command::new(bin);
    command
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .env_remove("RUST_LOG")
        .current_dir(dir.path())
        .stderr(Stdio::from(log));
    let server = Served::spawn(command, "relay listening on ")?;
    let healthy = call::wait_healthy(server.addr, Duration::from_secs(60)).await;
    if let Err(error) = healthy {
        let log = std::fs::read_to_string(dir.path().join("relay.log")).unwrap_or_default();
        return Err(BenchError::Setup(format!("{error}; its log: {log}")));
    }
    drive(args, &server, receiver).await
}

/// `relay config check CONFIG` must pass.
fn check_config(bin: &Path, config: &Path) -> Result<(), BenchError> {
    let output = Command::new(bin)
        .args(["config", "check"])
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BenchError::Setup(format!("cannot run {}: {e}", bin.display())))?;
    if !output.status.success() {
        return Err(BenchError::Setup(format!(
            "relay config check refused the bench's configuration: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(())
}

/// Drives `server` for `--duration` seconds; the run and the share of the machine other
/// processes (not this one, the server or the receiver) used meanwhile.
async fn drive(
    args: &Args,
    server: &Served,
    receiver: &mut Served,
) -> Result<(Run, f64), BenchError> {
    let load = Load {
        connections: args.connections,
        requests: u64::MAX,
        time_limit: args.duration(),
        first: 0,
    };
    let ticks = |served: &Served| {
        served
            .ticks()
            .ok_or_else(|| BenchError::Setup(format!("no /proc/{}/stat", served.pid())))
    };
    let delivered = receiver.received()?;
    let (server_start, receiver_start) = (ticks(server)?, ticks(receiver)?);
    let machine = proc::CpuSnapshot::take();
    let client = proc::CpuClock::start();
    let report = load::run(server.addr, load).await?;
    let client_cores = client.cores().unwrap_or(0.0);
    let server_used = ticks(server)?.saturating_sub(server_start);
    let receiver_used = ticks(receiver)?.saturating_sub(receiver_start);
    let others =
        (machine.and_then(|m| m.others_besides(server_used + receiver_used))).unwrap_or(0.0);
    let sample = Sample::from_load(report);
    let seconds = sample.elapsed.as_secs_f64().max(1e-3);
    let per_request = |us: f64| us / sample.completed.max(1) as f64;
    let run = Run {
        server_us: per_request(server_used as f64 * TICK_US),
        client_us: per_request(client_cores * seconds * 1e6),
        server_cores: server_used as f64 * TICK_US / 1e6 / seconds,
        delivered: receiver.received()?.saturating_sub(delivered),
        receiver_cores: receiver_used as f64 * TICK_US / 1e6 / seconds,
        load: sample,
    };
    Ok((run, others))
}

/// A run, for a progress line.
fn line(run: &Run) -> String {
    format!(
        "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, server {:.1} CPU-µs/req ({:.2} cores), \
         client {:.1} CPU-µs/req, {} failed, {} delivered meanwhile",
        run.load.rate,
        ms(run.load.p50_us),
        ms(run.load.p99_us),
        run.server_us,
        run.server_cores,
        run.client_us,
        run.load.failed,
        run.delivered
    )
}

fn ms(us: Option<u32>) -> f64 {
    f64::from(us.unwrap_or(0)) / 1000.0
}

/// The median of `values` (the upper one of an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// The markdown report: medians, the ratio, every run.
fn report(args: &Args, bare: &[Run], relay: &[Run]) -> String {
    let of = |runs: &[Run], f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
    let row = |name: &str, runs: &[Run]| {
        format!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.1} | {:.2} | {:.1} | {:.0} | {:.0} | {:.2} |\n",
            of(runs, |r| r.load.rate),
            of(runs, |r| ms(r.load.p50_us)),
            of(runs, |r| ms(r.load.p99_us)),
            of(runs, |r| r.server_us),
            of(runs, |r| r.server_cores),
            of(runs, |r| r.client_us),
            of(runs, |r| r.load.failed as f64),
            of(runs, |r| r.delivered as f64),
            of(runs, |r| r.receiver_cores),
        )
    };
    let rate = |runs: &[Run]| of(runs, |r| r.load.rate);
    let ratio = rate(relay) / rate(bare).max(f64::MIN_POSITIVE);
    let per_run: Vec<String> = (bare.iter().zip(relay))
        .map(|(b, r)| format!("{:.2}", r.load.rate / b.load.rate.max(f64::MIN_POSITIVE)))
        .collect();
    let mut out = format!(
        "Scenario `standalone`: `relay serve` (SQLite {:?}) vs bare axum, each a child \
         process, {} connections, {} s per run, {} runs alternating (medians shown).\n\n\
         | server | req/s | p50 ms | p99 ms | server CPU-µs/req | server cores | client \
         CPU-µs/req | failed | delivered meanwhile | receiver cores |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        args.modes().first().copied().unwrap_or_default(),
        args.connections,
        args.duration().as_secs(),
        args.runs.max(1)
    );
    out.push_str(&row("bare axum", bare));
    out.push_str(&row("relay serve", relay));
    out.push_str(&format!(
        "\nrelay serve / bare axum (req/s, medians): **{ratio:.2}** (per run: {})\n\nEvery run:\n\n",
        per_run.join(", ")
    ));
    for (i, (b, r)) in bare.iter().zip(relay).enumerate() {
        out.push_str(&format!("- run {}: bare axum {}\n", i + 1, line(b)));
        out.push_str(&format!("- run {}: relay serve {}\n", i + 1, line(r)));
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_report_shows_medians_and_the_ratio() {
        let run = |rate: f64| Run {
            load: Sample {
                rate,
                completed: 10,
                ..Sample::default()
            },
            ..Run::default()
        };
        let args = Args::parse_from(["b", "standalone", "--runs", "3", "--connections", "64"]);
        let text = report(
            &args,
            &[run(100.0), run(300.0), run(200.0)],
            &[run(30.0), run(50.0), run(60.0)],
        );
        assert!(text.contains("| bare axum | 200 |"), "{text}");
        assert!(text.contains("| relay serve | 50 |"), "{text}");
        assert!(
            text.contains("**0.25** (per run: 0.30, 0.17, 0.30)"),
            "{text}"
        );
        assert!(text.contains("64 connections"), "{text}");
    }

    #[test]
    fn median_takes_the_middle() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(Vec::new()), 0.0);
    }
}
