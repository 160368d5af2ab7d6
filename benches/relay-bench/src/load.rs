//! The load generator: N keep-alive HTTP/1.1 connections (hyper's low-level client, one
//! handshake per connection) on the same tokio runtime as the server under test, sending a
//! bounded number of signed pushes, bounded in time too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::error::BenchError;
use crate::payload::Pushes;

/// The start of the body an accepted request gets (the gateway's and bare axum's alike), with
/// `200` (ingest) or `202` (`POST /api/v1/events`).
pub const ACCEPTED_PREFIX: &[u8] = b"{\"status\":\"accepted\"";

/// How much load to send.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Concurrent connections.
    pub connections: usize,
    /// Requests in total (shared among the connections).
    pub requests: u64,
    /// Stop sending after this long.
    pub time_limit: Duration,
    /// The index of the first push (pushes already sent to the same gateway come before it,
    /// so that none of these is a duplicate).
    pub first: u64,
}

/// What the load saw.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Answers `200` or `202` `{"status":"accepted"…}`.
    pub accepted: u64,
    /// Any other answer, or a broken connection.
    pub failed: u64,
    /// The first failure, for the report.
    pub first_failure: Option<String>,
    /// From the first request sent to the last answer.
    pub elapsed: Duration,
    /// Latency of every accepted request, in microseconds.
    pub latencies_us: Vec<u32>,
}

impl LoadReport {
    /// Accepted requests per second.
    pub fn rate(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Adds `other`'s counts and latencies to these.
    pub fn merge(&mut self, other: Self) {
        self.accepted += other.accepted;
        self.failed += other.failed;
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
        self.latencies_us.extend(other.latencies_us);
    }

    /// Counts a failure.
    pub fn fail(&mut self, why: String) {
        self.failed += 1;
        self.first_failure.get_or_insert(why);
    }
}

/// Builds the `i`-th request of a measurement.
pub type MakeRequest =
    Arc<dyn Fn(u64) -> Result<http::Request<Full<Bytes>>, http::Error> + Send + Sync>;

/// Sends `load` (signed pushes) to `addr` and waits for every answer.
pub async fn run(addr: SocketAddr, load: Load) -> Result<LoadReport, BenchError> {
    let pushes = Pushes::new(&addr.to_string())?;
    run_requests(addr, load, Arc::new(move |i| pushes.request(i))).await
}

/// Sends `load` to `addr`, the `i`-th request built by `make`, and waits for every answer.
pub async fn run_requests(
    addr: SocketAddr,
    load: Load,
    make: MakeRequest,
) -> Result<LoadReport, BenchError> {
    // Connect every connection before the clock starts.
    let mut senders = Vec::with_capacity(load.connections);
    for _ in 0..load.connections.max(1) {
        senders.push(connect(addr).await?);
    }
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + load.time_limit;
    let mut tasks = JoinSet::new();
    for sender in senders {
        let (make, next) = (Arc::clone(&make), Arc::clone(&next));
        let range = (load.first, load.requests);
        tasks.spawn(connection(sender, make, next, range, deadline));
    }
    let mut report = LoadReport::default();
    while let Some(done) = tasks.join_next().await {
        report.merge(done?);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// A keep-alive HTTP/1.1 connection to `addr`.
pub async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, BenchError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| BenchError::Setup(format!("HTTP/1.1 handshake: {e}")))?;
    tokio::spawn(async move {
        // Ends when the sender is dropped (or the server closes the connection).
        let _ = conn.await;
    });
    Ok(sender)
}

/// One connection's loop: claim the next request number, send, await the answer, repeat.
async fn connection(
    mut sender: SendRequest<Full<Bytes>>,
    make: MakeRequest,
    next: Arc<AtomicU64>,
    (first, requests): (u64, u64),
    deadline: Instant,
) -> LoadReport {
    let mut report = LoadReport::default();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= requests || Instant::now() >= deadline {
            return report;
        }
        let request = match make(first + i) {
            Ok(request) => request,
            Err(error) => {
                report.fail(format!("building request: {error}"));
                return report;
            }
        };
        if let Err(error) = sender.ready().await {
            report.fail(format!("connection closed: {error}"));
            return report;
        }
        let sent = Instant::now();
        if !exchange(&mut sender, request, sent, &mut report).await {
            return report;
        }
    }
}

/// Sends `request` and counts its answer in `report`: accepted (with its latency from
/// `since`), or a failure with the status and the start of the body. `false` when the request
/// itself failed (the connection is gone).
pub(crate) async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
    since: Instant,
    report: &mut LoadReport,
) -> bool {
    let answer = async {
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok::<_, hyper::Error>((status, body))
    };
    match answer.await {
        Ok((status, body))
            if (status == 200 || status == 202) && body.starts_with(ACCEPTED_PREFIX) =>
        {
            report.accepted += 1;
            let micros = since.elapsed().as_micros();
            report
                .latencies_us
                .push(u32::try_from(micros).unwrap_or(u32::MAX));
            true
        }
        Ok((status, body)) => {
            let excerpt = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            report.fail(format!("{status}: {excerpt}"));
            true
        }
        Err(error) => {
            report.fail(format!("request failed: {error}"));
            false
        }
    }
}

/// The `q`-quantile (0..=1) of `values`, which it sorts.
pub fn quantile(values: &mut [u32], q: f64) -> Option<u32> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = ((values.len() - 1) as f64 * q).round() as usize;
    values.get(rank).copied()
}
