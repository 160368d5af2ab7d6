//! Command-line options.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use relay_store_sqlite::Synchronous;

use crate::loadgen::sign::Scheme;

/// Measures the gateway against same-run baselines, one scenario at a time.
#[derive(Debug, Clone, Parser)]
#[command(name = "relay-bench", version, about)]
pub struct Args {
    /// What to measure.
    #[arg(value_enum, default_value_t = Scenario::Ingest)]
    pub scenario: Scenario,

    /// The gateway's store: a fresh SQLite file, or a fresh PostgreSQL database on the server
    /// `RELAY_TEST_POSTGRES_URL` names (dropped afterwards).
    #[arg(long, value_enum, default_value_t = StoreChoice::Sqlite)]
    pub store: StoreChoice,

    /// Events (requests) per measurement: the burst of `ingest` and `backlog`, the backlog
    /// `deliver` drains [default: 50000 for ingest, 100000 for deliver, 20000 for backlog].
    #[arg(long)]
    pub events: Option<u64>,

    /// Open-loop send rates in events/s (`ingest-latency`, `end-to-end`), comma-separated
    /// [default: 1000,5000 for ingest-latency, 1000 for end-to-end].
    #[arg(long, value_delimiter = ',')]
    pub rates: Option<Vec<u64>>,

    /// How long each open-loop measurement sends, in seconds (rate x duration events).
    #[arg(long, default_value_t = 10)]
    pub duration: u64,

    /// Attempts in flight at once for `deliver`: the worker's concurrency (and per-destination
    /// cap) and the raw client's connections.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,

    /// How long the delivery receiver (of the gateway and of the raw client) takes to answer
    /// each request, in ms: `deliver --receiver-delay-ms 50` measures a slow receiver.
    #[arg(long, default_value_t = 0)]
    pub receiver_delay_ms: u64,

    /// `deliver`: the worker's per-destination cap (`WorkerConfig::per_destination`)
    /// [default: --concurrency]. The worker's own default is 128 attempts with 32 per
    /// destination (so 64 in flight to the two destinations).
    #[arg(long)]
    pub per_destination: Option<usize>,

    /// Events already stored before the `backlog` burst, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [0, 1_000_000])]
    pub backlog: Vec<u64>,

    /// How long `backlog` lets the worker drain after the burst while it samples RSS, in
    /// seconds.
    #[arg(long, default_value_t = 20)]
    pub drain_secs: u64,

    /// `backlog` skips a backlog that would leave less than this many GB free on the disk.
    #[arg(long, default_value_t = 30)]
    pub min_free_gb: u64,

    /// Concurrent keep-alive HTTP/1.1 client connections.
    #[arg(long, default_value_t = 256)]
    pub connections: usize,

    /// How many times each measurement runs; the table shows the median.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,

    /// Longest a single measurement may send for, in seconds (it stops early, counting what
    /// completed).
    #[arg(long, default_value_t = 60)]
    pub time_limit: u64,

    /// SQLite durability for the gateway and the raw loop.
    #[arg(long, value_enum, default_value_t = SyncChoice::Full)]
    pub synchronous: SyncChoice,

    /// Events per transaction in the raw rusqlite loop.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,

    /// Which measurements to run (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Which::Bare, Which::Raw, Which::Gateway, Which::Client, Which::Publish, Which::PublishHttp])]
    pub only: Vec<Which>,

    /// Runs the gateway without its delivery worker (to see what delivery costs ingest).
    #[arg(long)]
    pub no_worker: bool,

    /// Installs the Prometheus recorder in the gateway and serves `GET /metrics` (to see what
    /// recording metrics costs ingest).
    #[arg(long)]
    pub metrics: bool,

    /// The gateway store's WAL checkpoint interval in ms (the store's default is 1000).
    #[arg(long, default_value_t = 1000)]
    pub checkpoint_ms: u64,

    /// Before each measurement, wait up to this many seconds for the machine to be at least
    /// 90% idle (other processes' builds skew the numbers); then measure anyway, noting it.
    #[arg(long, default_value_t = 300)]
    pub quiet_wait: u64,

    /// How often a measurement disturbed by other processes (over 10% of the CPU) is
    /// measured again.
    #[arg(long, default_value_t = 2)]
    pub retries: usize,

    /// Instead of the table above: deliveries/s through `relay agent` (this `relay` binary)
    /// vs direct HTTP, `--events` each, `--runs` times (see `agent.rs`).
    #[arg(long)]
    pub agent_via: Option<PathBuf>,

    /// With `--agent-via`: run the gateway as this many `relay serve` processes (1 or 2) on a
    /// fresh PostgreSQL database (`RELAY_TEST_POSTGRES_URL`), the agent connected to the
    /// first, the events ingested on the last (see `agent_nodes.rs`), instead of in process on
    /// SQLite.
    #[arg(long, requires = "agent_via", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub agent_nodes: Option<u8>,

    /// With `--agent-nodes`: hold the destination disabled (on the first node) while the events
    /// are ingested, then enable it there and time the backlog's drain (deliveries/s from the
    /// enable to the last arrival) instead of ingest and delivery at once.
    #[arg(long, requires = "agent_nodes")]
    pub agent_backlog: bool,

    /// `load`: the gateway's base URL (`http://127.0.0.1:8080`, `https://hooks.example.com`);
    /// events go to `{url}/webhooks/{source}`.
    #[arg(long, required_if_eq("scenario", "load"))]
    pub url: Option<String>,

    /// `load`: the source's name (`TENANT/SOURCE` for a tenant's source).
    #[arg(long, default_value = "github")]
    pub source: String,

    /// `load`: how the events are signed.
    #[arg(long, value_enum, default_value_t = Scheme::Github)]
    pub scheme: Scheme,

    /// `load`: the source's signing secret (needed unless `--scheme none`).
    #[arg(long, env = "RELAY_LOAD_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// `load`: the event type sent [default: push (github), payment_intent.succeeded
    /// (stripe), load.test].
    #[arg(long)]
    pub event_type: Option<String>,

    /// `load`: open loop at this many requests per second (at most `--connections` in
    /// flight); without it, closed loop over `--connections`.
    #[arg(long)]
    pub rate: Option<u64>,

    /// `load`: seconds one request may take before it counts as a timeout.
    #[arg(long, default_value_t = 30)]
    pub request_timeout: u64,

    /// `load`: print the report as JSON.
    #[arg(long)]
    pub json: bool,

    /// `publish`: validate every published payload against the event type's JSON Schema
    /// (the parent measures with and without; a child gets this for the "with" runs).
    #[arg(long, hide = true)]
    pub schema: bool,

    /// `standalone`: the `relay` binary to run as `relay serve` (e.g. `target/release/relay`).
    #[arg(long)]
    pub relay_bin: Option<PathBuf>,

    /// Internal (`standalone`'s children): serve bare axum or the delivery receiver on a
    /// loopback port, print `listening ADDR`, answer each line on stdin with `received N`,
    /// exit at the end of stdin.
    #[arg(long, value_enum, hide = true)]
    pub serve: Option<Serve>,

    /// Internal: measure once in this process and print the sample line.
    #[arg(long, hide = true)]
    pub child: bool,

    /// Where the temporary databases go (default: the system temp dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

impl Args {
    /// Events per measurement (see [`Args::events`]).
    pub fn events(&self) -> u64 {
        self.events.unwrap_or(match self.scenario {
            Scenario::Deliver => 100_000,
            Scenario::Backlog => 20_000,
            _ => 50_000,
        })
    }

    /// Open-loop rates (see [`Args::rates`]).
    pub fn rates(&self) -> Vec<u64> {
        match (&self.rates, self.scenario) {
            (Some(rates), _) => rates.iter().map(|r| (*r).max(1)).collect(),
            (None, Scenario::EndToEnd) => vec![1_000],
            (None, _) => vec![1_000, 5_000],
        }
    }

    /// [`Args::duration`] as a duration.
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.duration.max(1))
    }

    /// [`Args::time_limit`] as a duration.
    pub fn time_limit(&self) -> Duration {
        Duration::from_secs(self.time_limit.max(1))
    }

    /// [`Args::receiver_delay_ms`] as a duration.
    pub fn receiver_delay(&self) -> Duration {
        Duration::from_millis(self.receiver_delay_ms)
    }

    /// The directory for temporary databases.
    pub fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    /// The `synchronous` settings to measure, in order.
    pub fn modes(&self) -> Vec<Synchronous> {
        match self.synchronous {
            SyncChoice::Full => vec![Synchronous::Full],
            SyncChoice::Normal => vec![Synchronous::Normal],
            SyncChoice::Both => vec![Synchronous::Full, Synchronous::Normal],
        }
    }
}

/// `--synchronous`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncChoice {
    /// `synchronous=FULL` (the store's default).
    Full,
    /// `synchronous=NORMAL`.
    Normal,
    /// Both, one after the other.
    Both,
}

/// The scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Closed-loop burst: gateway vs raw rusqlite loop vs bare axum (events/s).
    Ingest,
    /// Open-loop at fixed rates: gateway vs bare axum latency (p50/p99/p999).
    IngestLatency,
    /// A stored backlog delivered by the worker vs a raw hyper client (deliveries/s).
    Deliver,
    /// Open-loop ingest, latency until the receiver has each delivery.
    EndToEnd,
    /// Ingest rate with 0 vs N events already stored; RSS while the worker drains them.
    Backlog,
    /// In-process publishes and `POST /api/v1/events` vs HTTP ingest, the raw rusqlite loop
    /// and bare axum; schema validation off and on (events/s).
    Publish,
    /// Signed events sent to a running gateway (`--url`): throughput, latency, non-2xx
    /// answers by status.
    Load,
    /// `relay serve` (`--relay-bin`) as a child process vs bare axum in a child process,
    /// closed loop, alternating (req/s, latency, CPU per request).
    Standalone,
}

impl Scenario {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ingest => "ingest",
            Self::IngestLatency => "ingest-latency",
            Self::Deliver => "deliver",
            Self::EndToEnd => "end-to-end",
            Self::Backlog => "backlog",
            Self::Publish => "publish",
            Self::Load => "load",
            Self::Standalone => "standalone",
        }
    }
}

/// What a `--serve` child serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Serve {
    /// Bare axum answering 200 (`bare.rs`).
    Bare,
    /// The delivery receiver (`server.rs`), counting what it got.
    Receiver,
}

/// `--store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreChoice {
    /// SQLite (`relay-store-sqlite`).
    Sqlite,
    /// PostgreSQL (`relay-store-postgres`).
    Postgres,
}

impl StoreChoice {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// One kind of measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ValueEnum)]
pub enum Which {
    /// Bare axum answering 200.
    Bare,
    /// The raw rusqlite loop.
    Raw,
    /// The real gateway.
    Gateway,
    /// A raw hyper client posting the deliveries' bodies (`deliver`'s baseline).
    Client,
    /// `relay.publish(..)` in process (`publish`).
    Publish,
    /// `POST /api/v1/events` on the admin API (`publish`).
    PublishHttp,
}

impl Which {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bare => "bare",
            Self::Raw => "raw",
            Self::Gateway => "gateway",
            Self::Client => "client",
            Self::Publish => "publish",
            Self::PublishHttp => "publish-http",
        }
    }
}
