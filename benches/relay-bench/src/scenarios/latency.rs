//! `ingest-latency`: open-loop load at a fixed rate against the gateway (worker running) or
//! bare axum; latency from each request's intended send time.

use crate::bare;
use crate::child::Job;
use crate::cli::{Args, Which};
use crate::error::BenchError;
use crate::gateway::{Gateway, Setup};
use crate::openloop::{self, Plan};
use crate::proc;
use crate::sample::Sample;
use crate::store::BenchStore;

/// One open-loop run of `job` (its rate, `--duration` seconds).
pub async fn measure(args: &Args, job: Job) -> Result<Sample, BenchError> {
    let rate = job.rate.unwrap_or(1_000);
    let plan = Plan {
        rate,
        requests: rate * args.duration().as_secs(),
        first: 0,
        connections: args.connections,
        drain: args.time_limit(),
    };
    eprintln!(
        "  {} requests at {rate}/s over {} connections, open loop",
        plan.requests, plan.connections
    );
    let (report, cpu, peak) = match job.which {
        Which::Gateway => {
            let store =
                BenchStore::open(args.store, &args.dir(), crate::sqlite_options(args, job)).await?;
            let setup = Setup {
                worker: !args.no_worker,
                metrics: args.metrics,
                record_arrivals: false,
                receiver_delay: args.receiver_delay(),
                publish: None,
            };
            let gateway = Gateway::start(store, setup).await?;
            proc::reset_peak_rss();
            let cpu = proc::CpuClock::start();
            let report = openloop::run(gateway.server.addr, plan).await?;
            let measured = (report, cpu.cores(), proc::peak_rss_kib());
            gateway.stop().await?;
            measured
        }
        _ => {
            let server = bare::start().await?;
            proc::reset_peak_rss();
            let cpu = proc::CpuClock::start();
            let report = openloop::run(server.addr, plan).await?;
            let measured = (report, cpu.cores(), proc::peak_rss_kib());
            server.stop().await?;
            measured
        }
    };
    Ok(Sample {
        expected: Some(plan.requests),
        cpu,
        peak_rss_kib: peak,
        ..Sample::from_load(report.load)
    })
}
