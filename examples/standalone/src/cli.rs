//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The default configuration file, relative to the working directory.
pub const DEFAULT_CONFIG: &str = "examples/standalone/relay.toml";

/// Relay: a webhook gateway that verifies, deduplicates, stores, routes and delivers webhooks.
#[derive(Debug, Parser)]
#[command(name = "relay", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options of `serve` when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (the default).
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(StoreArgs),
    /// Configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Dashboard users.
    #[command(subcommand)]
    User(UserCommand),
    /// Admin API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Check the configuration, the store, the credential key, Redis, disk space and the clock,
    /// and print what is wrong (exit 1 if anything is). Changes nothing.
    Doctor(StoreArgs),
    /// Forward deliveries to an app the gateway cannot reach: connect out to the gateway,
    /// receive the deliveries of the destinations bound to this agent, POST each to
    /// `--forward`, report the outcome.
    Agent(AgentArgs),
    /// Development: mirror a source's events to a local URL through a temporary agent (its
    /// agent, destination and route are created with an admin API key and removed on
    /// Ctrl-C), with one colored line per event.
    Listen(ListenArgs),
    /// Stored events of a running gateway: list, show one, or follow new ones.
    #[command(subcommand)]
    Events(crate::ops::args::EventsCommand),
    /// Send stored events of a running gateway again: by id, or every event matching filters
    /// (with a dry run, a progress bar and a resume file).
    Replay(crate::ops::args::ReplayArgs),
    /// Dead letters of a running gateway: list, replay or discard.
    #[command(subcommand, name = "dead-letters")]
    DeadLetters(crate::ops::args::DeadLettersCommand),
}

/// `relay agent`.
#[derive(Debug, Clone, clap::Args)]
pub struct AgentArgs {
    /// The gateway's base URL (`https://gw.example.com`; `http://` on a trusted network).
    #[arg(long, env = "RELAY_GATEWAY")]
    pub gateway: String,
    /// The agent's token (`rag_…`, from `POST /api/v1/agents`).
    #[arg(long, env = "RELAY_AGENT_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Where deliveries are POSTed: `URL` for every destination bound to the agent, or
    /// `DESTINATION=URL` for one (repeat the flag); each must be inside its destination's
    /// `allow_targets`.
    #[arg(long, required = true, num_args = 1)]
    pub forward: Vec<String>,
    /// Extra trusted CA certificates (PEM) for an `https://` gateway.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
}

/// `relay listen`.
#[derive(Debug, Clone, clap::Args)]
pub struct ListenArgs {
    /// The gateway's base URL.
    #[arg(long, env = "RELAY_GATEWAY")]
    pub gateway: String,
    /// An admin API key (`rk_…`): it creates the agent, the destination and the route.
    #[arg(long, env = "RELAY_ADMIN_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The source whose events are mirrored.
    #[arg(long)]
    pub source: String,
    /// The local URL events are POSTed to.
    #[arg(long)]
    pub forward: String,
    /// Extra trusted CA certificates (PEM) for an `https://` gateway.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
}

/// `relay user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates a dashboard user; prints a generated password unless `--password-env` is given.
    Add {
        /// The login name.
        username: String,
        /// `viewer`, `operator` or `admin`.
        #[arg(long, default_value = "admin")]
        role: relay_core::control::admin::Role,
        /// Read the password from this environment variable instead of generating one.
        #[arg(long)]
        password_env: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `relay key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Creates an API key and prints its token (shown only now).
    Add {
        /// A label for the key.
        name: String,
        /// `viewer`, `operator` or `admin`.
        #[arg(long, default_value = "viewer")]
        role: relay_core::control::admin::Role,
        /// The tenant the key acts in (default: `default`); it must exist (see
        /// `POST /api/v1/tenants`).
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `relay config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file: exit 0 when valid, 2 with the reasons when not.
    Check {
        /// The file to check.
        file: PathBuf,
    },
    /// Make a running gateway read its configuration file again (`POST
    /// /api/v1/config/reload` with the admin key in `RELAY_ADMIN_TOKEN`; or send it SIGHUP).
    /// The file is checked here first; exit 0 when applied, 2 with the reasons when refused.
    Reload {
        /// The configuration file the gateway runs with (its `server.listen` is where to ask).
        #[arg(long, short, env = "RELAY_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// The gateway's base URL, overriding `http://<server.listen>` (`https://…` when
        /// `tls_cert` is set; its certificate must be trusted and name the host).
        #[arg(long)]
        url: Option<String>,
    },
}

/// Where the configuration and the store are.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The configuration file.
    #[arg(long, short, env = "RELAY_CONFIG", default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,

    /// The store, overriding `server.database_url` (`sqlite://PATH`, `postgres://…` to share
    /// one PostgreSQL database between several nodes, or `memory://` for an ephemeral store
    /// that keeps nothing across restarts).
    #[arg(long)]
    pub database_url: Option<String>,
}

/// `relay serve` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Configuration file and store.
    #[command(flatten)]
    pub store: StoreArgs,

    /// The address to listen on, overriding `server.listen`.
    #[arg(long)]
    pub listen: Option<SocketAddr>,

    /// Shared rate limits and dedup fast path across nodes (`redis://…`), overriding
    /// `server.redis_url`.
    #[arg(long)]
    pub redis_url: Option<String>,

    /// How log lines are written to stderr: `text` for people, `json` (one object a line,
    /// with the span fields such as `request_id`) for log collectors.
    #[arg(long, env = "RELAY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}
