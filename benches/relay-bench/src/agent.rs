//! `--agent-via PATH`: deliveries/s through `relay agent` against direct HTTP, in one run.
//!
//! Each measurement: a `Relay` on a fresh `SqliteStore`, one `none`-scheme source routed to
//! one destination on a loopback receiver; `--events` events are ingested in process with the
//! worker stopped, then the worker starts and the time until the receiver has them all is
//! measured. `direct` is an HTTP destination; `agent` is a destination of kind `agent`
//! served by the real `relay agent` binary at PATH (e.g. `target/release/relay`), connected
//! over a loopback WebSocket to the gateway's `/agent/v1/connect`. Runs alternate
//! (direct, agent, direct, …), `--runs` of each; the table shows the medians.
//!
//! ```text
//! cargo build --release -p relay-standalone
//! cargo run --release -p relay-bench -- --agent-via target/release/relay --events 20000 --runs 3
//! ```

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use relay_core::Relay;
use relay_core::control::admin::Principal;
use relay_core::deliver::WorkerConfig;
use relay_core::deliver::destination::Destination;
use relay_core::ingest::IngestRequest;
use relay_core::ingest::signature::NoSignature;
use relay_core::ingest::source::WebhookSource;
use relay_core::model::ids::TenantId;
use relay_core::route::EventRoute;
use relay_store_sqlite::{SqliteOptions, SqliteStore};

use crate::error::BenchError;
use crate::server::Receiver;

/// Kills the agent process when dropped.
struct AgentProcess(Child);

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One measurement: deliveries per second, `via_agent` or direct.
async fn measure(
    bin: &Path,
    events: u64,
    via_agent: bool,
    limit: Duration,
) -> Result<f64, BenchError> {
    let tmp = tempfile::tempdir()?;
    let store = SqliteStore::open(tmp.path().join("relay.db"), SqliteOptions::default())?;
    let receiver = Receiver::start(false).await?;
    let target = format!("{}/a", receiver.base_url);
    let destination = match via_agent {
        true => Destination::agent("out", "bench", vec![format!("{}/", receiver.base_url)]),
        false => Destination::http("out", &target)?,
    };
    let loopback = relay_core::deliver::guard::IpNet::from(std::net::IpAddr::from([127, 0, 0, 1]));
    let relay = Relay::builder()
        .allow_cidrs([loopback])
        .store(Arc::new(store))
        .source(WebhookSource::new("bench", NoSignature))
        .destination(destination.without_circuit_breaker())
        .route(EventRoute::new("all").source("bench").to(["out"]))
        .build()?;
    let _agent = match via_agent {
        false => None,
        true => Some(start_agent(bin, &relay, &target).await?),
    };
    for n in 0..events {
        let mut headers = http::HeaderMap::new();
        headers.insert("idempotency-key", http::HeaderValue::from(n));
        let body = format!(r#"{{"n":{n},"padding":"{}"}}"#, "x".repeat(900));
        relay
            .ingest(IngestRequest::new("bench", headers, body))
            .await;
    }
    let started = Instant::now();
    let worker = relay.spawn_worker(WorkerConfig::default());
    while receiver.received() < events && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let delivered = receiver.received();
    worker.shutdown().await;
    Ok(delivered as f64 / elapsed.as_secs_f64())
}

/// Creates agent `bench`, serves `/agent/v1/connect`, starts `relay agent` and waits until it
/// is connected.
async fn start_agent(bin: &Path, relay: &Relay, target: &str) -> Result<AgentProcess, BenchError> {
    let setup = |e: String| BenchError::Setup(e);
    let credential = relay
        .agents()
        .create(&Principal::system(TenantId::default()), "bench")
        .await
        .map_err(|e| setup(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app: axum::Router = relay_axum::agent::routes(relay.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let child = Command::new(bin)
        .args([
            "agent",
            "--gateway",
            &format!("http://{addr}"),
            "--forward",
            target,
        ])
        .env("RELAY_AGENT_TOKEN", credential.token.expose())
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| setup(format!("cannot start {}: {e}", bin.display())))?;
    let agent = AgentProcess(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while relay.agents().hub().held().is_empty() {
        if Instant::now() > deadline {
            return Err(setup("relay agent did not connect within 30 s".into()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(agent)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Runs both, `runs` times each, alternating; the markdown table.
pub async fn compare(
    bin: &Path,
    events: u64,
    runs: usize,
    limit: Duration,
) -> Result<String, BenchError> {
    let (mut direct, mut agent) = (Vec::new(), Vec::new());
    for run in 1..=runs.max(1) {
        for via_agent in [false, true] {
            let rate = measure(bin, events, via_agent, limit).await?;
            eprintln!(
                "run {run}: {} {rate:.0} deliveries/s",
                if via_agent { "agent" } else { "direct" }
            );
            if via_agent { &mut agent } else { &mut direct }.push(rate);
        }
    }
    let (d, a) = (median(direct), median(agent));
    Ok(format!(
        "| delivery path | deliveries/s (median of {runs}, {events} events) | vs direct |\n\
         |---|---:|---:|\n\
         | direct HTTP | {d:.0} | 1.00 |\n\
         | through `relay agent` (WebSocket) | {a:.0} | {:.2} |\n",
        a / d.max(f64::MIN_POSITIVE)
    ))
}
