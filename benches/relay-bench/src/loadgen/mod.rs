//! `relay-bench load`: signed events sent to any running gateway (`POST
//! {URL}/webhooks/{SOURCE}`, HTTP or HTTPS), for `--duration` seconds, either closed loop
//! (`--connections` requests in flight, each sent when the previous answered) or open loop
//! (`--rate` requests per second on a fixed schedule, latency measured from each request's
//! intended send time so that a slow answer cannot hide the requests queued behind it, at
//! most `--connections` in flight). It prints the throughput, p50/p99/p999 of the 2xx
//! answers, and every other answer by status and every request without an answer by kind.
//!
//! ```text
//! relay-bench load --url https://hooks.example.com --source github --scheme github \
//!     --secret "$GITHUB_WEBHOOK_SECRET" --connections 16 --duration 30
//! relay-bench load --url http://127.0.0.1:8080 --source billing --scheme stripe \
//!     --secret whsec_... --rate 500 --duration 60 --json
//! ```

pub mod sign;
pub mod tally;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::error::BenchError;
use sign::{Scheme, Signer, unix_now};
use tally::{Summary, Tally};

/// What to send, where, and how fast.
#[derive(Debug, Clone)]
pub struct Options {
    /// The gateway's base URL (`https://hooks.example.com`).
    pub url: String,
    /// The source's path after `/webhooks/` (`github`, or `TENANT/SOURCE`).
    pub source: String,
    /// How events are signed.
    pub scheme: Scheme,
    /// The source's signing secret.
    pub secret: String,
    /// The event type sent (default: [`Scheme::default_event_type`]).
    pub event_type: Option<String>,
    /// Open loop at this many requests per second; closed loop without.
    pub rate: Option<u64>,
    /// Requests in flight at most (closed loop: always).
    pub connections: usize,
    /// How long to send.
    pub duration: Duration,
    /// How long one request may take before it counts as `timeout`.
    pub timeout: Duration,
}

/// The outcome of one request: a status, or why there was none; and its latency.
type Outcome = (Result<u16, &'static str>, Duration);

/// Sends the load `options` describe and waits for the answers.
pub async fn run(options: &Options) -> Result<Summary, BenchError> {
    let target = format!(
        "{}/webhooks/{}",
        options.url.trim_end_matches('/'),
        options.source.trim_start_matches('/')
    );
    let connections = options.connections.max(1);
    let client = relay_core::tls::client_builder()
        .pool_max_idle_per_host(connections)
        .timeout(options.timeout)
        .build()
        .map_err(|e| BenchError::Setup(format!("HTTP client: {e}")))?;
    let event_type = (options.event_type.as_deref()).unwrap_or(options.scheme.default_event_type());
    let run_id = format!(
        "{:x}",
        relay_core::model::time::Timestamp::now().as_millis()
    );
    let signer = Signer::new(options.scheme, &options.secret, event_type, &run_id)?;
    let sender = Sender {
        client,
        url: Arc::from(target.as_str()),
        signer: Arc::new(signer),
    };
    let started = Instant::now();
    let (tally, mode) = match options.rate {
        None => (
            closed_loop(&sender, connections, options.duration).await?,
            format!("closed loop, {connections} connections"),
        ),
        Some(rate) => (
            open_loop(&sender, rate.max(1), connections, options).await?,
            format!("open loop, {rate}/s over up to {connections} connections"),
        ),
    };
    Ok(Summary {
        tally,
        elapsed: started.elapsed(),
        url: target,
        scheme: options.scheme.name(),
        mode,
    })
}

/// Sends events: the client, the URL and the signer, shared by every task.
#[derive(Debug, Clone)]
struct Sender {
    client: reqwest::Client,
    url: Arc<str>,
    signer: Arc<Signer>,
}

impl Sender {
    /// Sends the `i`-th event; its status, or why there was none.
    async fn send(&self, i: u64) -> Result<u16, &'static str> {
        let (body, headers) = self.signer.event(i, unix_now()).map_err(|_| "building")?;
        let request = self.client.post(&*self.url).headers(headers).body(body);
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                // Read the answer to the end, so the connection is reused.
                response.bytes().await.map_err(|_| "reading the answer")?;
                Ok(status)
            }
            Err(e) if e.is_timeout() => Err("timeout"),
            Err(e) if e.is_connect() => Err("connect"),
            Err(_) => Err("request"),
        }
    }
}

fn count(tally: &mut Tally, (outcome, latency): Outcome) {
    match outcome {
        Ok(status) => tally.answer(status, latency),
        Err(kind) => tally.error(kind),
    }
}

/// `connections` tasks, each sending the next event as soon as the last was answered.
async fn closed_loop(
    sender: &Sender,
    connections: usize,
    duration: Duration,
) -> Result<Tally, BenchError> {
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..connections {
        let (sender, next) = (sender.clone(), Arc::clone(&next));
        tasks.spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                tally.sent += 1;
                let sent = Instant::now();
                let outcome = sender.send(i).await;
                count(&mut tally, (outcome, sent.elapsed()));
            }
            tally
        });
    }
    let mut tally = Tally::default();
    while let Some(done) = tasks.join_next().await {
        tally.merge(done?);
    }
    Ok(tally)
}

/// Request `n` is due at `start + n / rate`; each waits for one of `connections` slots, its
/// latency measured from its due time. After the schedule, the answers are awaited for at
/// most the request timeout (plus 5 s); those still missing count as `no answer`.
async fn open_loop(
    sender: &Sender,
    rate: u64,
    connections: usize,
    options: &Options,
) -> Result<Tally, BenchError> {
    let slots = Arc::new(Semaphore::new(connections));
    let total = (options.duration.as_secs_f64() * rate as f64).round() as u64;
    let mut tally = Tally {
        sent: total,
        ..Tally::default()
    };
    let mut tasks: JoinSet<Outcome> = JoinSet::new();
    let start = Instant::now() + Duration::from_millis(20);
    for n in 0..total {
        let due = start + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        while let Some(done) = tasks.try_join_next() {
            count(&mut tally, done?);
        }
        let (sender, slots) = (sender.clone(), Arc::clone(&slots));
        tasks.spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else {
                return (Err("no slot"), due.elapsed());
            };
            let outcome = sender.send(n).await;
            (outcome, due.elapsed())
        });
    }
    let drain = tokio::time::Instant::now() + options.timeout + Duration::from_secs(5);
    while let Ok(Some(done)) = tokio::time::timeout_at(drain, tasks.join_next()).await {
        count(&mut tally, done?);
    }
    for _ in 0..tasks.len() {
        tally.error("no answer");
    }
    tasks.abort_all();
    Ok(tally)
}
