//! `--agent-via PATH --agent-nodes N`: deliveries/s through `relay agent` against direct HTTP
//! on N real `relay serve` nodes (1 or 2) sharing one PostgreSQL database, in one run.
//!
//! Each measurement: a fresh database (on the server `RELAY_TEST_POSTGRES_URL` names) and N
//! nodes started from the binary at PATH, one unsigned source routed to one destination on a
//! loopback receiver ([`crate::nodes`]). `--events` 1 KiB events are POSTed to the last node
//! over 32 keep-alive connections while the nodes deliver; the rate is the deliveries between
//! the first and the last arrival at the receiver over that time (so it is at most the ingest
//! rate, which is printed beside it: this measures the pipeline, ingest and delivery at once;
//! a disabled destination's held backlog would wait out a recheck once enabled). `direct` is
//! an HTTP destination (every node leases its deliveries); `agent` is a destination of kind `agent`
//! served by the real `relay agent`, connected to the FIRST node: with two nodes, the events
//! are ingested on the second, and only the node holding the agent's connection leases them.
//! Runs alternate (direct, agent, direct, …), `--runs` of each; the table shows the medians.
//!
//! ```text
//! cargo build --release -p relay-standalone -p relay-bench
//! target/release/relay-bench --agent-via target/release/relay --agent-nodes 2 --events 10000
//! ```

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request};
use http_body_util::Full;

use crate::call as api;
use crate::error::BenchError;
use crate::load::{self, Load};
use crate::nodes::{Cluster, SOURCE, Target};
use crate::payload::Pushes;
use crate::server::Receiver;

/// What one measurement saw.
#[derive(Debug, Clone, Copy)]
struct Measured {
    /// Deliveries per second between the first and the last arrival.
    rate: f64,
    /// Requests the receiver got.
    received: u64,
    /// Distinct events among them.
    distinct: u64,
    /// Events accepted per second by the ingest node.
    ingest_rate: f64,
}

/// One measurement on `nodes` fresh nodes, `via_agent` or direct.
async fn measure(
    bin: &Path,
    nodes: usize,
    events: u64,
    via_agent: bool,
    limit: Duration,
) -> Result<Measured, BenchError> {
    let receiver = Receiver::start(true).await?;
    let forward = format!("{}/a", receiver.base_url);
    let target = match via_agent {
        true => Target::Agent(format!("{}/", receiver.base_url)),
        false => Target::Http(forward.clone()),
    };
    let mut cluster = Cluster::start(bin, nodes, &target).await?;
    let measured = drain(&mut cluster, &receiver, &forward, events, via_agent, limit).await;
    let closed = cluster.close().await;
    let measured = measured?;
    closed?;
    Ok(measured)
}

/// Ingests `events` on the last node (the agent, if any, connected to the first) and times
/// the receiver.
async fn drain(
    cluster: &mut Cluster,
    receiver: &Receiver,
    forward: &str,
    events: u64,
    via_agent: bool,
    limit: Duration,
) -> Result<Measured, BenchError> {
    let ingest = *cluster
        .nodes
        .last()
        .ok_or_else(|| BenchError::Setup("no node".into()))?;
    let token = cluster.token.clone();
    if via_agent {
        let create = (Method::POST, "/api/v1/agents");
        let body = Some(r#"{"name":"bench"}"#.to_owned());
        let created = api::expect(cluster.nodes[0], create, &token, body, 201).await?;
        let secret = created["token"]
            .as_str()
            .ok_or_else(|| BenchError::Setup(format!("no agent token in {created}")))?;
        cluster.start_agent(0, secret, forward)?;
        wait_online(cluster, ingest, &token).await?;
    }
    let host = HeaderValue::from_str(&ingest.to_string()).map_err(http::Error::from)?;
    let load = Load {
        connections: 32,
        requests: events,
        time_limit: limit,
        first: 0,
    };
    let started = Instant::now();
    let sent = load::run_requests(ingest, load, Arc::new(move |i| event(&host, i))).await?;
    if sent.accepted != events {
        return Err(BenchError::Setup(format!(
            "{} of {events} events accepted; first failure: {:?}",
            sent.accepted, sent.first_failure
        )));
    }
    while receiver.received() < events && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let arrivals = receiver.arrivals();
    let first = arrivals.iter().map(|a| a.1).min();
    let last = arrivals.iter().map(|a| a.1).max();
    let span = match (first, last) {
        (Some(first), Some(last)) => last.duration_since(first),
        _ => Duration::ZERO,
    };
    let distinct = arrivals.iter().map(|a| a.0).collect::<BTreeSet<_>>().len() as u64;
    Ok(Measured {
        rate: arrivals.len().saturating_sub(1) as f64 / span.as_secs_f64().max(1e-6),
        received: receiver.received(),
        distinct,
        ingest_rate: sent.rate(),
    })
}

/// Waits (at most 30 s) until node `addr` shows the agent online.
async fn wait_online(
    cluster: &Cluster,
    addr: std::net::SocketAddr,
    token: &str,
) -> Result<(), BenchError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let agents = api::expect(addr, (Method::GET, "/api/v1/agents"), token, None, 200).await?;
        if agents[0]["online"] == true {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(BenchError::Setup(format!(
                "the agent did not come online within 30 s: {agents}; {}",
                cluster.log_tail(0)
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `i`-th event: `POST /webhooks/bench` with a 1 KiB body and its own idempotency key.
fn event(host: &HeaderValue, i: u64) -> Result<Request<Full<Bytes>>, http::Error> {
    Request::builder()
        .method(Method::POST)
        .uri(format!("/webhooks/{SOURCE}"))
        .header(HOST, host.clone())
        .header(CONTENT_TYPE, "application/json")
        .header("idempotency-key", format!("bench-{i}"))
        .body(Full::new(Pushes::body(i)))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Runs both on `nodes` nodes, `runs` times each, alternating; the markdown table.
pub async fn compare(
    bin: &Path,
    nodes: usize,
    events: u64,
    runs: usize,
    limit: Duration,
) -> Result<String, BenchError> {
    let (mut direct, mut agent) = (Vec::new(), Vec::new());
    for run in 1..=runs.max(1) {
        for via_agent in [false, true] {
            let m = measure(bin, nodes, events, via_agent, limit).await?;
            eprintln!(
                "run {run}: {nodes} node(s), {} {:.0} deliveries/s ({} received, {} distinct; \
                 ingested at {:.0}/s)",
                if via_agent { "agent" } else { "direct" },
                m.rate,
                m.received,
                m.distinct,
                m.ingest_rate
            );
            if m.distinct < events {
                return Err(BenchError::Setup(format!(
                    "only {} of {events} events arrived within {limit:?}",
                    m.distinct
                )));
            }
            if via_agent { &mut agent } else { &mut direct }.push(m.rate);
        }
    }
    let runs_line = |v: &[f64]| {
        (v.iter().map(|r| format!("{r:.0}")))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let (d, a) = (median(direct.clone()), median(agent.clone()));
    Ok(format!(
        "| {nodes} node(s), PostgreSQL | deliveries/s (median of {runs}, {events} events) | runs | vs direct |\n\
         |---|---:|---|---:|\n\
         | direct HTTP | {d:.0} | {} | 1.00 |\n\
         | through `relay agent` (WebSocket) | {a:.0} | {} | {:.2} |\n",
        runs_line(&direct[..]),
        runs_line(&agent[..]),
        a / d.max(f64::MIN_POSITIVE)
    ))
}
