//! The open-loop load generator: request `i` is due at `start + i / rate` whatever happened
//! to the requests before it, and its latency is measured from that intended time, so a slow
//! answer shows in the latency of every request queued behind it (no coordinated omission).
//! Due requests go to a shared queue that `connections` keep-alive connections take from; when
//! all are busy, the wait in the queue is part of the latency.
//!
//! The schedule runs on a thread of its own that sleeps until each due time. Tokio's timer
//! rounds every wake-up up to its next millisecond tick, which made each request up to 1 ms
//! late before it was sent and added that to every latency (bare axum's median at 1,000/s
//! was 1.5 ms, most of it this lateness); a thread's sleep ends within tens of µs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;

use crate::error::BenchError;
use crate::load::{self, LoadReport};
use crate::payload::Pushes;

/// How much open-loop load to send.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Requests per second.
    pub rate: u64,
    /// Requests in total.
    pub requests: u64,
    /// The index of the first push.
    pub first: u64,
    /// Connections taking due requests.
    pub connections: usize,
    /// How long to wait for the answers after the last request was due.
    pub drain: Duration,
}

impl Plan {
    /// When request `first + n` is due, relative to the start.
    pub fn offset(&self, n: u64) -> Duration {
        Duration::from_secs_f64(n as f64 / self.rate.max(1) as f64)
    }
}

/// What an open-loop run saw, and when it started (request `first + n` was due at
/// `started + plan.offset(n)`).
#[derive(Debug)]
pub struct OpenReport {
    /// Counts and latencies from the intended send times.
    pub load: LoadReport,
    /// The start of the schedule.
    pub started: Instant,
}

type Queue = Arc<Mutex<mpsc::UnboundedReceiver<(u64, Instant)>>>;

/// Sends `plan` to `addr` on schedule and waits (at most `plan.drain` after the last due
/// time) for the answers; requests unanswered by then count as failed.
pub async fn run(addr: SocketAddr, plan: Plan) -> Result<OpenReport, BenchError> {
    let pushes = Arc::new(Pushes::new(&addr.to_string())?);
    let mut senders = Vec::with_capacity(plan.connections.max(1));
    for _ in 0..plan.connections.max(1) {
        senders.push(load::connect(addr).await?);
    }
    let (due, queue) = mpsc::unbounded_channel();
    let queue: Queue = Arc::new(Mutex::new(queue));
    let mut tasks = JoinSet::new();
    for sender in senders {
        tasks.spawn(connection(
            sender,
            addr,
            Arc::clone(&pushes),
            Arc::clone(&queue),
        ));
    }
    let started = Instant::now() + Duration::from_millis(20);
    tokio::task::spawn_blocking(move || schedule(plan, started, &due))
        .await
        .map_err(|error| BenchError::Setup(format!("the schedule thread failed: {error}")))?;
    let mut report = LoadReport::default();
    let deadline = tokio::time::Instant::now() + plan.drain;
    while let Ok(Some(done)) = tokio::time::timeout_at(deadline, tasks.join_next()).await {
        report.merge(done?);
    }
    tasks.abort_all();
    report.elapsed = started.elapsed();
    let unanswered = plan
        .requests
        .saturating_sub(report.accepted + report.failed);
    if unanswered > 0 {
        report.failed += unanswered;
        report.first_failure.get_or_insert(format!(
            "{unanswered} unanswered {:?} after the schedule",
            plan.drain
        ));
    }
    Ok(OpenReport {
        load: report,
        started,
    })
}

/// Queues request `first + n` at `started + offset(n)` for every `n` of `plan`, sleeping the
/// thread until each is due; stops early when no connection is left to take them.
fn schedule(plan: Plan, started: Instant, due: &mpsc::UnboundedSender<(u64, Instant)>) {
    for n in 0..plan.requests {
        let at = started + plan.offset(n);
        if let Some(wait) = at.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if due.send((plan.first + n, at)).is_err() {
            break;
        }
    }
}

/// One connection: take the next due request, send it, record its latency from its due time.
async fn connection(
    mut sender: SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    pushes: Arc<Pushes>,
    queue: Queue,
) -> LoadReport {
    let mut report = LoadReport::default();
    loop {
        let next = queue.lock().await.recv().await;
        let Some((i, due)) = next else {
            return report;
        };
        if sender.ready().await.is_err() {
            // The server closed the connection: open another one.
            match load::connect(addr).await {
                Ok(fresh) => sender = fresh,
                Err(error) => {
                    report.fail(format!("reconnecting: {error}"));
                    continue;
                }
            }
        }
        let request = match pushes.request(i) {
            Ok(request) => request,
            Err(error) => {
                report.fail(format!("building request: {error}"));
                continue;
            }
        };
        // A failed request is counted; the next one reconnects when the connection is gone.
        load::exchange(&mut sender, request, due, &mut report).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_spread_evenly_over_the_second() {
        let plan = Plan {
            rate: 1000,
            requests: 10,
            first: 0,
            connections: 1,
            drain: Duration::ZERO,
        };
        assert_eq!(plan.offset(0), Duration::ZERO);
        assert_eq!(plan.offset(1), Duration::from_millis(1));
        assert_eq!(plan.offset(1500), Duration::from_millis(1500));
    }
}
