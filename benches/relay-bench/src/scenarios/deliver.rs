//! `deliver`: a backlog of pushes ingested with the worker stopped, then the worker started
//! and timed until the receiver has every delivery; baselines: a raw hyper client posting the
//! same bodies to the same kind of receiver with the same concurrency, and (SQLite) the raw
//! rusqlite delivery loop writing the store's rows for the same deliveries
//! ([`crate::raw_deliver`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use relay_core::deliver::WorkerConfig;
use tokio::task::JoinSet;

use crate::child::Job;
use crate::cli::{Args, Which};
use crate::error::BenchError;
use crate::gateway::{FAN_OUT, Gateway, Setup};
use crate::load::{self, LoadReport};
use crate::payload::Pushes;
use crate::proc;
use crate::sample::Sample;
use crate::server::Receiver;
use crate::store::BenchStore;

/// One run of `job`: the gateway's worker, the raw store loop, or the raw client.
pub async fn measure(args: &Args, job: Job) -> Result<Sample, BenchError> {
    match job.which {
        Which::Gateway => worker(args, job).await,
        Which::Raw => {
            let sync = job.sync.unwrap_or_default();
            let (events, limit) = (args.events(), args.time_limit());
            crate::raw_deliver::measure(&args.dir(), sync, events, args.batch, limit).await
        }
        _ => client(args).await,
    }
}

async fn worker(args: &Args, job: Job) -> Result<Sample, BenchError> {
    let n = args.events();
    let store = BenchStore::open(args.store, &args.dir(), crate::sqlite_options(args, job)).await?;
    let setup = Setup {
        worker: false,
        metrics: args.metrics,
        record_arrivals: false,
        receiver_delay: args.receiver_delay(),
        publish: None,
    };
    let mut gateway = Gateway::start(store, setup).await?;
    eprintln!("  ingesting {n} pushes with the worker stopped");
    let seeded = super::seed(&gateway, n, args.connections, args.time_limit()).await?;
    let target = FAN_OUT * seeded;
    eprintln!(
        "  starting the worker (concurrency {}, per destination {}) to deliver {target}",
        args.concurrency,
        args.per_destination.unwrap_or(args.concurrency)
    );
    proc::reset_peak_rss();
    let cpu = proc::CpuClock::start();
    let started = Instant::now();
    let deadline = started + args.time_limit();
    gateway.start_worker(
        WorkerConfig::default()
            .concurrency(args.concurrency.max(1))
            .per_destination(args.per_destination.unwrap_or(args.concurrency).max(1)),
    );
    let mut next_progress = started + Duration::from_secs(5);
    while gateway.receiver.received() < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
        if Instant::now() >= next_progress {
            next_progress += Duration::from_secs(5);
            eprintln!("  delivered {} of {target}", gateway.receiver.received());
        }
    }
    // Delivered means recorded as delivered too: wait for the queue to empty.
    while gateway
        .relay
        .store()
        .queue_depth()
        .await
        .unwrap_or(u64::MAX)
        > 0
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();
    let (cpu, peak) = (cpu.cores(), proc::peak_rss_kib());
    let delivered = gateway.receiver.received();
    let commits = gateway.store.commit_count();
    gateway.stop().await?;
    let expected = FAN_OUT * n;
    let mut sample = Sample {
        rate: delivered as f64 / elapsed.as_secs_f64().max(1e-9),
        completed: delivered,
        failed: expected.saturating_sub(delivered),
        expected: Some(expected),
        elapsed,
        cpu,
        peak_rss_kib: peak,
        commits: Some(commits),
        delivered: Some(delivered),
        ..Sample::default()
    };
    if delivered < expected {
        sample.first_failure = Some(format!(
            "{delivered} of {expected} delivered within {:?} ({seeded} of {n} ingested)",
            args.time_limit()
        ));
    }
    Ok(sample)
}

/// The baseline: 2 x N POSTs of the same bodies (to `/a` and `/b`, as the two destinations)
/// over `--concurrency` keep-alive connections.
async fn client(args: &Args) -> Result<Sample, BenchError> {
    let requests = FAN_OUT * args.events();
    let receiver = Receiver::answering_after(false, args.receiver_delay()).await?;
    let mut senders = Vec::with_capacity(args.concurrency.max(1));
    for _ in 0..args.concurrency.max(1) {
        senders.push(load::connect(receiver.addr).await?);
    }
    eprintln!(
        "  posting {requests} bodies over {} connections",
        senders.len()
    );
    proc::reset_peak_rss();
    let cpu = proc::CpuClock::start();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + args.time_limit();
    let mut tasks = JoinSet::new();
    for sender in senders {
        let next = Arc::clone(&next);
        tasks.spawn(post_loop(sender, receiver.addr, next, requests, deadline));
    }
    let mut report = LoadReport::default();
    while let Some(done) = tasks.join_next().await {
        report.merge(done?);
    }
    report.elapsed = started.elapsed();
    let (cpu, peak) = (cpu.cores(), proc::peak_rss_kib());
    let delivered = receiver.received();
    Ok(Sample {
        expected: Some(requests),
        cpu,
        peak_rss_kib: peak,
        delivered: Some(delivered),
        ..Sample::from_load(report)
    })
}

async fn post_loop(
    mut sender: SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    next: Arc<AtomicU64>,
    requests: u64,
    deadline: Instant,
) -> LoadReport {
    let mut report = LoadReport::default();
    let host = HeaderValue::from_str(&addr.to_string()).ok();
    loop {
        let j = next.fetch_add(1, Ordering::Relaxed);
        if j >= requests || Instant::now() >= deadline {
            return report;
        }
        let path = if j.is_multiple_of(2) { "/a" } else { "/b" };
        let mut request = match Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Pushes::body(j / 2)))
        {
            Ok(request) => request,
            Err(error) => {
                report.fail(format!("building request: {error}"));
                return report;
            }
        };
        if let Some(host) = &host {
            request.headers_mut().insert(HOST, host.clone());
        }
        if let Err(error) = sender.ready().await {
            report.fail(format!("connection closed: {error}"));
            return report;
        }
        let sent = Instant::now();
        let answer = async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            response.into_body().collect().await?;
            Ok::<_, hyper::Error>(status)
        };
        match answer.await {
            Ok(status) if status.is_success() => {
                report.accepted += 1;
                let micros = sent.elapsed().as_micros();
                report
                    .latencies_us
                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
            }
            Ok(status) => report.fail(format!("status {status}")),
            Err(error) => {
                report.fail(format!("request failed: {error}"));
                return report;
            }
        }
    }
}
