//! `end-to-end`: open-loop ingest at a fixed rate with the worker running; the receiver
//! records when each delivery arrives; latency = arrival - the push's intended send time.

use std::time::{Duration, Instant};

use crate::child::Job;
use crate::cli::Args;
use crate::error::BenchError;
use crate::gateway::{FAN_OUT, Gateway, Setup};
use crate::load::quantile;
use crate::openloop::{self, Plan};
use crate::proc;
use crate::sample::Sample;
use crate::store::BenchStore;

/// One run at `job`'s rate for `--duration` seconds.
pub async fn measure(args: &Args, job: Job) -> Result<Sample, BenchError> {
    let rate = job.rate.unwrap_or(1_000);
    let plan = Plan {
        rate,
        requests: rate * args.duration().as_secs(),
        first: 0,
        connections: args.connections,
        drain: args.time_limit(),
    };
    let store = BenchStore::open(args.store, &args.dir(), crate::sqlite_options(args, job)).await?;
    let setup = Setup {
        worker: true,
        metrics: args.metrics,
        record_arrivals: true,
        receiver_delay: args.receiver_delay(),
        publish: None,
    };
    let gateway = Gateway::start(store, setup).await?;
    eprintln!(
        "  {} pushes at {rate}/s, open loop; each delivered to 2 destinations",
        plan.requests
    );
    proc::reset_peak_rss();
    let cpu = proc::CpuClock::start();
    let report = openloop::run(gateway.server.addr, plan).await?;
    let target = FAN_OUT * report.load.accepted;
    let deadline = Instant::now() + args.time_limit();
    while gateway.receiver.received() < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = report.started.elapsed();
    let (cpu, peak) = (cpu.cores(), proc::peak_rss_kib());
    let mut latencies: Vec<u32> = gateway
        .receiver
        .arrivals()
        .into_iter()
        .map(|(i, arrived)| {
            let due = report.started + plan.offset(i.saturating_sub(plan.first));
            let micros = arrived.saturating_duration_since(due).as_micros();
            u32::try_from(micros).unwrap_or(u32::MAX)
        })
        .collect();
    let delivered = latencies.len() as u64;
    gateway.stop().await?;
    let expected = FAN_OUT * plan.requests;
    let mut first_failure = report.load.first_failure;
    if delivered < expected {
        first_failure.get_or_insert(format!(
            "{} of {expected} deliveries arrived within {:?}",
            delivered,
            args.time_limit()
        ));
    }
    Ok(Sample {
        rate: delivered as f64 / elapsed.as_secs_f64().max(1e-9),
        completed: delivered,
        failed: expected - delivered.min(expected),
        expected: Some(expected),
        elapsed,
        p50_us: quantile(&mut latencies, 0.50),
        p99_us: quantile(&mut latencies, 0.99),
        p999_us: quantile(&mut latencies, 0.999),
        cpu,
        peak_rss_kib: peak,
        delivered: Some(delivered),
        first_failure,
        ..Sample::default()
    })
}
