//! `backlog`: the ingest rate with N pushes already stored (undelivered, the worker stopped),
//! then the RSS while the worker works through them.

use std::time::{Duration, Instant};

use relay_core::deliver::WorkerConfig;

use crate::child::Job;
use crate::cli::Args;
use crate::error::BenchError;
use crate::gateway::{Gateway, Setup};
use crate::load::{self, Load};
use crate::proc;
use crate::sample::Sample;
use crate::store::BenchStore;

/// The longest seeding may take, whatever `--time-limit` says.
const SEED_BOUND: Duration = Duration::from_secs(1_800);

/// One run with `job.backlog` pushes stored first.
pub async fn measure(args: &Args, job: Job) -> Result<Sample, BenchError> {
    let backlog = job.backlog.unwrap_or(0);
    let store = BenchStore::open(args.store, &args.dir(), crate::sqlite_options(args, job)).await?;
    let setup = Setup {
        worker: false,
        metrics: args.metrics,
        record_arrivals: false,
        receiver_delay: args.receiver_delay(),
        publish: None,
    };
    let mut gateway = Gateway::start(store, setup).await?;
    let seeded = if backlog > 0 {
        eprintln!("  storing a backlog of {backlog} pushes (worker stopped)");
        super::seed(&gateway, backlog, args.connections, SEED_BOUND).await?
    } else {
        0
    };
    let events = args.events();
    eprintln!("  measuring a burst of {events} pushes on top of {seeded} stored");
    let load = Load {
        connections: args.connections,
        requests: events,
        time_limit: args.time_limit(),
        first: backlog,
    };
    let cpu = proc::CpuClock::start();
    let report = load::run(gateway.server.addr, load).await?;
    let cpu = cpu.cores();
    let wal_bytes = gateway.store.wal_bytes();

    let drain = Duration::from_secs(args.drain_secs);
    eprintln!("  starting the worker; sampling RSS for {drain:?}");
    let rss_start = proc::rss_kib();
    proc::reset_peak_rss();
    gateway.start_worker(WorkerConfig::default());
    let started = Instant::now();
    while started.elapsed() < drain {
        tokio::time::sleep(Duration::from_secs(1).min(drain)).await;
        let secs = started.elapsed().as_secs();
        if secs.is_multiple_of(5) {
            eprintln!(
                "  {secs} s: {} delivered, RSS {} MiB",
                gateway.receiver.received(),
                proc::rss_kib().unwrap_or(0) / 1024
            );
        }
    }
    let (rss_end, peak) = (proc::rss_kib(), proc::peak_rss_kib());
    let delivered = gateway.receiver.received();
    gateway.stop().await?;
    let mut sample = Sample {
        expected: Some(events),
        cpu,
        wal_bytes,
        rss_start_kib: rss_start,
        rss_end_kib: rss_end,
        peak_rss_kib: peak,
        delivered: Some(delivered),
        ..Sample::from_load(report)
    };
    if seeded < backlog {
        sample.first_failure.get_or_insert(format!(
            "only {seeded} of the {backlog} backlog stored within {SEED_BOUND:?}"
        ));
    }
    Ok(sample)
}
