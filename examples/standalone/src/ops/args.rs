//! The flags of `relay events`, `relay replay` and `relay dead-letters`: bulk work against a
//! running gateway through its admin API.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// Where the gateway is and how to act in it.
#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// The gateway's base URL.
    #[arg(long, env = "RELAY_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An admin API key (`rk_…`): `viewer` to read, `operator` to replay or discard.
    #[arg(long, env = "RELAY_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Extra trusted CA certificates (PEM) for an `https://` gateway.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Print JSON (one object per line) instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// An event's state, as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum StateArg {
    /// No route matched it.
    NoRoute,
    /// A delivery is pending or in flight.
    Pending,
    /// Every delivery was delivered.
    Delivered,
    /// Nothing pending, a delivery dead-lettered.
    DeadLettered,
}

impl StateArg {
    /// The API's name for it.
    pub fn as_str(self) -> &'static str {
        use relay_core::control::admin::EventState;
        let state = match self {
            Self::NoRoute => EventState::NoRoute,
            Self::Pending => EventState::Pending,
            Self::Delivered => EventState::Delivered,
            Self::DeadLettered => EventState::DeadLettered,
        };
        state.as_str()
    }
}

/// Which events: the filters `events list` and `replay` share.
#[derive(Debug, Clone, Default, Args)]
pub struct EventFilter {
    /// Only events from this source.
    #[arg(long)]
    pub source: Option<String>,
    /// Only events of this type (`replay` also takes globs: `order.*`).
    #[arg(long)]
    pub event_type: Option<String>,
    /// Only events in this state.
    #[arg(long, value_enum)]
    pub state: Option<StateArg>,
    /// Only events received at or after this time (RFC 3339, or an age like `2h`).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events received before this time (RFC 3339, or an age like `30m`).
    #[arg(long)]
    pub until: Option<String>,
}

/// `relay events …`.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Lists events, newest first.
    List {
        #[command(flatten)]
        gateway: GatewayArgs,
        #[command(flatten)]
        filter: EventFilter,
        /// Text the idempotency key contains.
        #[arg(long, short)]
        query: Option<String>,
        /// At most this many events (all pages until then).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One event: its headers (secrets redacted), payload, deliveries and attempts.
    Show {
        #[command(flatten)]
        gateway: GatewayArgs,
        /// The event's id (`evt_…`).
        id: String,
    },
    /// Follows new events, one line each (colored on a terminal unless `NO_COLOR` is set),
    /// until Ctrl-C.
    Tail {
        #[command(flatten)]
        gateway: GatewayArgs,
        /// Only events from this source.
        #[arg(long)]
        source: Option<String>,
        /// Only events of this type.
        #[arg(long)]
        event_type: Option<String>,
        /// How often to ask for new events, in milliseconds.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
        interval_ms: u64,
    },
}

/// `relay replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// These events (`evt_…`); without ids, every event matching the filters.
    pub ids: Vec<String>,
    #[command(flatten)]
    pub filter: EventFilter,
    /// Send only to this destination.
    #[arg(long)]
    pub destination: Option<String>,
    /// Also send to destinations that already delivered the event (not idempotent: each run
    /// sends again).
    #[arg(long)]
    pub force: bool,
    /// Count what would be sent; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Remember progress in this file: an interrupted run started again with the same file
    /// and filters continues where it stopped; the file is removed when the replay finishes.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Events examined per request (1 to 200).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=200))]
    pub page: u64,
}

/// Which dead letters.
#[derive(Debug, Clone, Default, Args)]
pub struct DeadLetterFilter {
    /// Only deliveries to this destination.
    #[arg(long)]
    pub destination: Option<String>,
    /// Only deliveries of events from this source.
    #[arg(long)]
    pub source: Option<String>,
    /// Only deliveries of this event (`evt_…`).
    #[arg(long)]
    pub event_id: Option<String>,
    /// Only dead letters since this time (RFC 3339, or an age like `1d`).
    #[arg(long)]
    pub since: Option<String>,
}

/// `relay dead-letters …`.
#[derive(Debug, Subcommand)]
pub enum DeadLettersCommand {
    /// Lists dead letters, oldest first.
    List {
        #[command(flatten)]
        gateway: GatewayArgs,
        #[command(flatten)]
        filter: DeadLetterFilter,
        /// At most this many (all pages until then).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Sends dead letters again with a fresh retry budget: these (`msg_…`), or every one
    /// matching the filters. Idempotent.
    Replay {
        #[command(flatten)]
        gateway: GatewayArgs,
        /// Dead-lettered deliveries (`msg_…`); without ids, every one matching the filters.
        ids: Vec<String>,
        #[command(flatten)]
        filter: DeadLetterFilter,
    },
    /// Discards dead letters for good: these (`msg_…`), or every one matching the filters.
    Discard {
        #[command(flatten)]
        gateway: GatewayArgs,
        /// Dead-lettered deliveries (`msg_…`); without ids, every one matching the filters.
        ids: Vec<String>,
        #[command(flatten)]
        filter: DeadLetterFilter,
        /// Discard every dead letter when no filter and no id is given.
        #[arg(long)]
        all: bool,
    },
}

/// The bulk commands, as `main` dispatches them.
#[derive(Debug)]
pub enum OpsCommand {
    /// `relay events …`.
    Events(EventsCommand),
    /// `relay replay`.
    Replay(ReplayArgs),
    /// `relay dead-letters …`.
    DeadLetters(DeadLettersCommand),
}
