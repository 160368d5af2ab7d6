//! `publish`: the app's own events into the pipeline, in process (`relay.publish(..)` from
//! `--connections` tasks in a closed loop) and over `POST /api/v1/events`, each push with an
//! idempotency key and routed to both destinations (as an ingested push is), the event type's
//! JSON Schema validation off or on. The baselines (HTTP ingest of the same pushes, the raw
//! rusqlite loop, bare axum) are `ingest`'s measurements, run beside these.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request};
use http_body_util::Full;
use relay_core::Relay;
use relay_core::publish::{Publish, Published};
use tokio::task::JoinSet;

use crate::child::Job;
use crate::cli::{Args, Which};
use crate::error::BenchError;
use crate::gateway::{self, Gateway, Publishing};
use crate::load::{self, Load, LoadReport};
use crate::payload::Pushes;
use crate::report::{Results, median_rate, median_sample};
use crate::sample::Sample;
use crate::store::BenchStore;

/// The measurements of `publish`, as `--only` selects them: the baselines, then in-process
/// and HTTP publishing, each without and with schema validation.
pub fn jobs(args: &Args) -> Vec<Job> {
    let wanted = |which: Which| args.only.contains(&which);
    let mut jobs = Vec::new();
    for which in [Which::Bare, Which::Raw, Which::Gateway] {
        let sqlite_only = which == Which::Raw && args.store != crate::cli::StoreChoice::Sqlite;
        if wanted(which) && !sqlite_only {
            jobs.push(Job::of(which));
        }
    }
    for which in [Which::Publish, Which::PublishHttp] {
        if wanted(which) {
            for schema in [false, true] {
                jobs.push(Job {
                    schema,
                    ..Job::of(which)
                });
            }
        }
    }
    jobs
}

/// Measures `job` once.
pub async fn measure(args: &Args, job: Job) -> Result<Sample, BenchError> {
    let (Which::Publish | Which::PublishHttp) = job.which else {
        return crate::measure_ingest(args, job).await;
    };
    let store = BenchStore::open(args.store, &args.dir(), crate::sqlite_options(args, job)).await?;
    let setup = gateway::Setup {
        worker: !args.no_worker,
        metrics: args.metrics,
        publish: Some(Publishing { schema: job.schema }),
        ..gateway::Setup::default()
    };
    let load = Load {
        connections: args.connections,
        requests: args.events(),
        time_limit: args.time_limit(),
        first: 0,
    };
    let in_process = job.which == Which::Publish;
    let sample = gateway::measure_with(store, setup, async |gateway: &Gateway| {
        if in_process {
            in_process_load(&gateway.relay, load).await
        } else {
            over_http(gateway, load).await
        }
    })
    .await?;
    Ok(Sample {
        expected: Some(args.events()),
        ..sample
    })
}

/// The `i`-th published push: the same 1 KiB payload `ingest` posts, keyed like its
/// `X-GitHub-Delivery`.
fn publish_of(i: u64) -> Result<Publish, BenchError> {
    let payload = serde_json::from_slice(&Pushes::body(i))
        .map_err(|e| BenchError::Setup(format!("push payload: {e}")))?;
    Ok(Publish::new("push", payload).idempotency_key(Pushes::delivery_id(i)))
}

/// `load.connections` tasks publishing in a closed loop until `load.requests` are done (or
/// the time limit). The payload is parsed outside the timed call, as an app holds a value.
async fn in_process_load(relay: &Relay, load: Load) -> Result<LoadReport, BenchError> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + load.time_limit;
    let mut tasks = JoinSet::new();
    for _ in 0..load.connections.max(1) {
        let (relay, next) = (relay.clone(), Arc::clone(&next));
        tasks.spawn(async move {
            let mut report = LoadReport::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= load.requests || Instant::now() >= deadline {
                    return report;
                }
                let publish = match publish_of(load.first + i) {
                    Ok(publish) => publish,
                    Err(error) => {
                        report.fail(error.to_string());
                        return report;
                    }
                };
                let sent = Instant::now();
                match relay.publish(publish).await {
                    Ok(Published::Accepted { .. }) => {
                        report.accepted += 1;
                        let micros = sent.elapsed().as_micros();
                        report
                            .latencies_us
                            .push(u32::try_from(micros).unwrap_or(u32::MAX));
                    }
                    Ok(other) => report.fail(format!("not accepted: {other:?}")),
                    Err(error) => report.fail(error.to_string()),
                }
            }
        });
    }
    let mut report = LoadReport::default();
    while let Some(done) = tasks.join_next().await {
        report.merge(done?);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// `POST /api/v1/events` with the gateway's operator key, over keep-alive connections.
async fn over_http(gateway: &Gateway, load: Load) -> Result<LoadReport, BenchError> {
    let token = (gateway.token.as_deref()).ok_or_else(|| BenchError::Setup("no key".into()))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(http::Error::from)?;
    let host =
        HeaderValue::from_str(&gateway.server.addr.to_string()).map_err(http::Error::from)?;
    let make = move |i: u64| {
        let body = format!(
            "{{\"event_type\":\"push\",\"idempotency_key\":\"{}\",\"payload\":{}}}",
            Pushes::delivery_id(i),
            String::from_utf8_lossy(&Pushes::body(i))
        );
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/events")
            .body(Full::new(Bytes::from(body)))?;
        let headers = request.headers_mut();
        headers.insert(HOST, host.clone());
        headers.insert(AUTHORIZATION, bearer.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(request)
    };
    load::run_requests(gateway.server.addr, load, Arc::new(make)).await
}

/// CPU time per completed event in the median run, in µs (holds up better than a rate on a
/// shared machine).
fn cpu_per_event(samples: &[Sample]) -> Option<f64> {
    let s = median_sample(samples)?;
    Some(s.cpu? * s.elapsed.as_secs_f64() * 1e6 / s.completed.max(1) as f64)
}

/// The ratios of a `publish` run, and where the target stands: publishing in process
/// costs no more CPU per event than HTTP ingest minus what bare axum spends on a request.
pub fn verdicts(results: &Results) -> Vec<String> {
    let samples = |which: Which, schema: bool| {
        (results.rows().iter())
            .find(|(j, _)| j.which == which && j.schema == schema)
            .map(|(_, samples)| samples.as_slice())
    };
    let rate = |which, schema| samples(which, schema).and_then(median_rate);
    let cpu = |which, schema| samples(which, schema).and_then(cpu_per_event);
    let mut lines = Vec::new();
    for (which, name) in [
        (Which::Publish, "in-process publish"),
        (Which::PublishHttp, "POST /api/v1/events"),
    ] {
        for schema in [false, true] {
            let with = if schema { " with schema" } else { "" };
            if let (Some(p), Some(r)) = (rate(which, schema), rate(Which::Raw, false)) {
                lines.push(format!(
                    "| {name}{with} / raw rusqlite loop | {:.2} |",
                    p / r
                ));
            }
        }
        if let (Some(off), Some(on)) = (rate(which, false), rate(which, true)) {
            lines.push(format!(
                "| {name}: rate with schema / without | {:.0}% |",
                100.0 * on / off
            ));
        }
    }
    if let (Some(h), Some(b)) = (rate(Which::PublishHttp, false), rate(Which::Bare, false)) {
        lines.push(format!(
            "| POST /api/v1/events / bare axum | {:.2} |",
            h / b
        ));
    }
    if let (Some(p), Some(i)) = (rate(Which::Publish, false), rate(Which::Gateway, false)) {
        lines.push(format!(
            "| in-process publish / HTTP ingest (rate) | {:.2} |",
            p / i
        ));
    }
    let costs = (cpu(Which::Publish, false), cpu(Which::Gateway, false));
    if let ((Some(p), Some(i)), Some(b)) = (costs, cpu(Which::Bare, false)) {
        let budget = i - b;
        lines.push(format!(
            "| CPU per event: in-process publish vs HTTP ingest minus bare axum's request \
             (target <=: {}) | {p:.0} µs vs {budget:.0} µs ({i:.0} - {b:.0}) |",
            if p <= budget { "met" } else { "NOT met" }
        ));
    }
    lines
}
