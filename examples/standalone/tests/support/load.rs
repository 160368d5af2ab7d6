//! Continuous signed load on gateway processes that get killed, and what the receiver got:
//! shared by the crash loops and the multi-node test.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use relay_tests::{Receiver, eventually, github_signature};

/// What the clients learned: event number → the event id of its 2xx answer.
pub type Acknowledged = Arc<Mutex<BTreeMap<u64, String>>>;

/// What the senders count.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// Events sent (each once, whatever the number of requests).
    pub sent: Arc<AtomicU64>,
    /// Requests that got no HTTP answer (the gateway died).
    pub unanswered: Arc<AtomicU64>,
}

/// Where the senders send, and what they share.
#[derive(Debug, Clone)]
pub struct Load {
    /// The gateway processes; a sender moves to the next one after every request.
    pub nodes: Vec<SocketAddr>,
    /// The `github` source's secret.
    pub secret: &'static str,
    /// Bytes of padding in each body.
    pub padding: usize,
    /// The counts.
    pub counters: Counters,
    /// The acknowledged events.
    pub acknowledged: Acknowledged,
    /// Set to stop the senders.
    pub stop: Arc<AtomicBool>,
}

impl Load {
    /// `clients` senders, numbered events each, until [`Load::stop`] is set.
    pub fn spawn(&self, clients: usize) -> Vec<tokio::task::JoinHandle<()>> {
        (0..clients)
            .map(|client| tokio::spawn(self.clone().send_events(client as u64)))
            .collect()
    }

    /// How many events were acknowledged so far.
    pub fn acknowledged_count(&self) -> usize {
        self.acknowledged.lock().expect("lock").len()
    }

    /// One sender: numbered signed GitHub pushes, each sent until a node answers 2xx (same
    /// `X-GitHub-Delivery` each time, as a real sender's retry), moving to the next node
    /// after every request. Only 503 may refuse an event.
    async fn send_events(self, client: u64) {
        let http = relay_core::tls::client_builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let padding = "x".repeat(self.padding);
        let mut n = client << 32;
        let mut node = client as usize;
        while !self.stop.load(Ordering::SeqCst) {
            n += 1;
            self.counters.sent.fetch_add(1, Ordering::SeqCst);
            let body = serde_json::json!({ "ref": "refs/heads/main", "n": n, "padding": padding })
                .to_string();
            let signature = github_signature(self.secret, body.as_bytes());
            while !self.stop.load(Ordering::SeqCst) {
                node = (node + 1) % self.nodes.len();
                let answer = http
                    .post(format!("http://{}/webhooks/github", self.nodes[node]))
                    .header("content-type", "application/json")
                    .header("x-github-event", "push")
                    .header("x-github-delivery", format!("delivery-{n}"))
                    .header("x-hub-signature-256", &signature)
                    .body(body.clone())
                    .send()
                    .await;
                let Ok(response) = answer else {
                    self.counters.unanswered.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let status = response.status();
                let Ok(json) = response.json::<serde_json::Value>().await else {
                    self.counters.unanswered.fetch_add(1, Ordering::SeqCst);
                    continue;
                };
                if status.is_success() {
                    let id = json["event_id"].as_str().expect("event_id").to_owned();
                    self.acknowledged.lock().expect("lock").insert(n, id);
                    break;
                }
                assert_eq!(status, 503, "only an unavailable store may refuse: {json}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// The event numbers the receiver has got.
pub fn delivered_numbers(receiver: &Receiver) -> HashSet<u64> {
    numbers(receiver).collect()
}

/// How many events the receiver got more than once.
pub fn delivered_more_than_once(receiver: &Receiver) -> usize {
    let mut seen = HashMap::<u64, usize>::new();
    for n in numbers(receiver) {
        *seen.entry(n).or_default() += 1;
    }
    seen.values().filter(|&&count| count > 1).count()
}

fn numbers(receiver: &Receiver) -> impl Iterator<Item = u64> {
    receiver
        .received()
        .into_iter()
        .filter_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .filter_map(|v| v["n"].as_u64())
}

/// The kills of a crash loop and the seed of their timings: `RELAY_CRASH_KILLS=N` kills,
/// else 20 with `RELAY_LONG_FAULTS=1`, else `short`; `RELAY_CRASH_SEED=S` replays a run.
pub fn crash_plan(test: &str, short: usize) -> (usize, StdRng) {
    let long = std::env::var("RELAY_LONG_FAULTS").as_deref() == Ok("1");
    let kills: usize = std::env::var("RELAY_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if long { 20 } else { short });
    let seed: u64 = std::env::var("RELAY_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    println!("{test}: {kills} kills, RELAY_CRASH_SEED={seed}");
    (kills, StdRng::seed_from_u64(seed))
}

impl Load {
    /// Stops the senders, waits (at most `within`) until the receiver got every acknowledged
    /// event, prints the tally and fails if one never came. Returns the acknowledged events.
    pub async fn finish(
        &self,
        clients: Vec<tokio::task::JoinHandle<()>>,
        receiver: &Receiver,
        test: &str,
        kills: usize,
        within: Duration,
    ) -> BTreeMap<u64, String> {
        self.stop.store(true, Ordering::SeqCst);
        for client in clients {
            client.await.expect("client task");
        }
        let acknowledged = self.acknowledged.lock().expect("lock").clone();
        let sent = self.counters.sent.load(Ordering::SeqCst);
        let delivered = eventually(within, || {
            let numbers = delivered_numbers(receiver);
            let missing = acknowledged.keys().filter(|n| !numbers.contains(n)).count();
            async move { (missing == 0).then_some(numbers) }
        })
        .await;
        let numbers = delivered_numbers(receiver);
        let missing: Vec<_> = acknowledged
            .keys()
            .filter(|n| !numbers.contains(n))
            .collect();
        let twice = delivered_more_than_once(receiver);
        println!(
            "{test}: {kills} kills survived; {sent} events sent, {} requests without an \
             answer (sent again), {} events acknowledged, {} never acknowledged, {} \
             acknowledged events lost, {} distinct delivered, {} deliveries in all ({} \
             duplicates, of {twice} events)",
            self.counters.unanswered.load(Ordering::SeqCst),
            acknowledged.len(),
            sent - acknowledged.len() as u64,
            missing.len(),
            numbers.len(),
            receiver.count(),
            receiver.count() - numbers.len(),
        );
        assert!(
            delivered.is_some(),
            "{} acknowledged events were never delivered: {missing:?}",
            missing.len()
        );
        assert!(
            acknowledged.len() >= kills,
            "too little traffic to mean anything"
        );
        acknowledged
    }
}

/// The bound issue #30 sets: after a restart following `kill -9`, every event acknowledged
/// before the kill is delivered within this long of the restart.
pub const RESUME_BOUND: Duration = Duration::from_secs(5);

/// Times the restarts of a crash loop: for each, from the moment the new process was
/// started until the receiver had every event acknowledged before the kill.
#[derive(Debug, Default)]
pub struct Resumes {
    /// How long each restart took to deliver what was acknowledged before its kill.
    pub times: Vec<Duration>,
}

impl Resumes {
    /// Waits until the receiver has every event of `before` (what was acknowledged when the
    /// last process was killed), counting from `restarted`; records and returns how long it
    /// took. Gives up after a minute (the time is then over a minute, past any bound).
    pub async fn wait(
        &mut self,
        receiver: &Receiver,
        before: &[u64],
        restarted: std::time::Instant,
    ) -> Duration {
        let limit = Duration::from_secs(60);
        loop {
            let numbers = delivered_numbers(receiver);
            let elapsed = restarted.elapsed();
            if before.iter().all(|n| numbers.contains(n)) || elapsed > limit {
                self.times.push(elapsed);
                return elapsed;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Prints the median and the worst time to resume, and fails if one was over
    /// [`RESUME_BOUND`].
    pub fn check(&self, test: &str) {
        let mut sorted = self.times.clone();
        sorted.sort();
        let Some(worst) = sorted.last().copied() else {
            panic!("{test}: no restart was timed");
        };
        let median = sorted[sorted.len() / 2];
        println!(
            "{test}: time to resume after kill -9, {} restarts: median {} ms, worst {} ms \
             (all: {:?} ms)",
            sorted.len(),
            median.as_millis(),
            worst.as_millis(),
            self.times
                .iter()
                .map(Duration::as_millis)
                .collect::<Vec<_>>(),
        );
        assert!(
            worst <= RESUME_BOUND,
            "{test}: a restart took {} ms to deliver what was acknowledged before its kill \
             (bound {} ms)",
            worst.as_millis(),
            RESUME_BOUND.as_millis()
        );
    }
}

/// The numbers of the events acknowledged so far.
pub fn acknowledged_numbers(acknowledged: &Acknowledged) -> Vec<u64> {
    acknowledged.lock().expect("lock").keys().copied().collect()
}
