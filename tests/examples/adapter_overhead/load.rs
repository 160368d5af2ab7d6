//! The load generator: `concurrency` tasks posting until `requests` are answered.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::cpu;

const WARM_UP: usize = 1_000;

/// One round's result.
#[derive(Debug, Clone)]
pub struct Stats {
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// Server CPU time per request.
    pub cpu: Duration,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (p50, p99) = (self.p50.as_micros(), self.p99.as_micros());
        let cpu = self.cpu.as_secs_f64() * 1e6;
        write!(
            f,
            "server CPU {cpu:>5.1} µs/req  {:>7.0} req/s  p50 {p50:>5} µs  p99 {p99:>5} µs",
            self.per_second
        )
    }
}

/// A 1 KiB JSON body.
fn body() -> Vec<u8> {
    let pad = "x".repeat(1024 - 40);
    format!(r#"{{"type":"order.created","pad":"{pad}"}}"#).into_bytes()
}

pub async fn run(addr: SocketAddr, requests: usize, concurrency: usize) -> Stats {
    let target = Target {
        client: relay_core::tls::client(),
        url: format!("http://{addr}/webhooks/raw"),
        body: bytes::Bytes::from(body()),
    };
    target.round("warm", WARM_UP, concurrency).await;
    let (started, before) = (Instant::now(), cpu::Sample::now());
    let mut latencies = target.round("key", requests, concurrency).await;
    let (elapsed, cpu) = (started.elapsed(), cpu::Sample::now().since(&before));
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    Stats {
        per_second: requests as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        cpu: cpu / requests as u32,
    }
}

#[derive(Clone)]
struct Target {
    client: reqwest::Client,
    url: String,
    body: bytes::Bytes,
}

impl Target {
    /// Sends `requests` posts from `concurrency` tasks; each latency.
    async fn round(
        &self,
        keys: &'static str,
        requests: usize,
        concurrency: usize,
    ) -> Vec<Duration> {
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (target, next) = (self.clone(), next.clone());
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        return latencies;
                    }
                    latencies.push(target.post(&format!("{keys}-{i}")).await);
                }
            });
        }
        tasks.join_all().await.into_iter().flatten().collect()
    }

    async fn post(&self, key: &str) -> Duration {
        let started = Instant::now();
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(self.body.clone())
            .send()
            .await
            .expect("server answers");
        assert_eq!(response.status(), 200, "{}", self.url);
        response.bytes().await.expect("reply body");
        started.elapsed()
    }
}
