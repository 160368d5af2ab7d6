//! Command-line options.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use relay_store_sqlite::Synchronous;

/// Measures the gateway against a raw rusqlite loop and bare axum, in one run.
#[derive(Debug, Clone, Parser)]
#[command(name = "relay-bench", version, about)]
pub struct Args {
    /// Events (requests) per measurement.
    #[arg(long, default_value_t = 50_000)]
    pub events: u64,

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
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Which::Bare, Which::Raw, Which::Gateway])]
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

    /// Internal: measure once in this process and print the sample line.
    #[arg(long, hide = true)]
    pub child: bool,

    /// Where the temporary databases go (default: the system temp dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

impl Args {
    /// [`Args::time_limit`] as a duration.
    pub fn time_limit(&self) -> Duration {
        Duration::from_secs(self.time_limit.max(1))
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

/// One kind of measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ValueEnum)]
pub enum Which {
    /// Bare axum answering 200.
    Bare,
    /// The raw rusqlite loop.
    Raw,
    /// The real gateway.
    Gateway,
}
