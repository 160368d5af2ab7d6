//! The configuration file's shape. Unknown keys are errors.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use relay_core::deliver::guard::IpNet;
use relay_core::store::Retention;

pub use relay_core::control::definition::{DestinationSpec, RateLimitSpec, RouteSpec, SourceSpec};
use serde::Deserialize;
use serde_json::Value;

use super::Problem;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[server]`.
    #[serde(default)]
    pub server: Server,
    /// `[delivery]`.
    #[serde(default)]
    pub delivery: Delivery,
    /// `[[sources]]`.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    /// `[[destinations]]`.
    #[serde(default)]
    pub destinations: Vec<DestinationSpec>,
    /// `[[routes]]`.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// `[[transformers]]`: configured transformers, beside the built-in ones.
    #[serde(default)]
    pub transformers: Vec<TransformerSpec>,
    /// `[[event_types]]`: the event types, with optional JSON Schemas.
    #[serde(default)]
    pub event_types: Vec<EventTypeSpec>,
    /// `[admin]`.
    #[serde(default)]
    pub admin: Admin,
    /// `[alerts]`: operational alerts.
    pub alerts: Option<AlertsSpec>,
    /// `[demo]`: the built-in demo receiver, for a first run.
    #[serde(default)]
    pub demo: Demo,
    /// The folder of the file, which `schema_file` paths are relative to.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// `[[event_types]]`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventTypeSpec {
    /// The type, e.g. `invoice.paid`.
    pub name: String,
    /// Shown in the admin API.
    pub description: Option<String>,
    /// A JSON Schema (2020-12) payloads of this type must match.
    pub schema: Option<Value>,
    /// The same, read from a JSON file (relative to the configuration file).
    pub schema_file: Option<PathBuf>,
}

/// `[demo]`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Demo {
    /// Mounts the demo receiver at `/_demo/receiver` (`?mode=ok|fail|flaky`; `GET` lists what
    /// it got). For trying the gateway out: leave it off in production.
    pub receiver: bool,
}

/// `[admin]`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Admin {
    /// When set (a value or `env:NAME`), `GET /metrics` answers only requests with
    /// `Authorization: Bearer <token>`; unset, it is public.
    pub metrics_token: Option<String>,
}

/// `[alerts]`: the gateway's own signed webhooks about itself, to one of the destinations.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertsSpec {
    /// The destination alerts are delivered to (signed with its `signing_secret`).
    pub destination: String,
    /// Each alert at most once per window (default `1h`).
    pub window: Option<String>,
    /// Dead letters per destination within the window that alert.
    pub dead_letters: Option<u32>,
    /// Signature failures per source within the window that alert.
    pub signature_failures: Option<u32>,
    /// Queue lag that, sustained that long, alerts (e.g. `5m`).
    pub queue_lag: Option<String>,
    /// How long an agent a destination is bound to may be connected to no node before it
    /// alerts (e.g. `10m`).
    pub agent_offline: Option<String>,
    /// Circuit openings within the window that disable a destination (and alert).
    pub breaker_opens: Option<u32>,
}

/// `[server]`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Server {
    /// Where the gateway listens.
    pub listen: SocketAddr,
    /// `sqlite://PATH` (created if missing), `postgres://…` / `postgresql://…` (schema
    /// created and migrated at start) or `memory://`.
    pub database_url: String,
    /// SQLite's durability: `full` (an acknowledged event survives power loss) or `normal`
    /// (it survives a crash of the process; the last commits may be lost on power loss).
    pub sqlite_synchronous: SqliteSynchronous,
    /// Finished events (and their deliveries and attempts) older than this many days are
    /// pruned in the background; never before their dedup window has passed.
    pub retention_days: u32,
    /// Audit entries older than this many days are pruned in the background (default 400).
    pub audit_retention_days: u32,
    /// Per-minute metric points older than this many days are pruned (default 90).
    pub metrics_retention_days: u32,
    /// A dashboard session is pruned this many days after it expired (default 0: at the next
    /// round, within a minute).
    pub expired_session_retention_days: u32,
    /// Whether `relay serve` brings the database schema up to date at start (default
    /// `true`). With `false`, run `relay migrate` before starting a new version.
    pub migrate_on_start: bool,
    /// `redis://…`: several nodes share rate limits and a dedup fast path through it (the
    /// database stays the source of truth for dedup).
    pub redis_url: Option<String>,
    /// The prefix of every key written to Redis (default `relay:`): gateways that share a
    /// database share a prefix; separate deployments on one Redis need different ones.
    pub redis_prefix: String,
    /// How long a request's head may take to arrive, and then its body (each from the start
    /// of the request), before the connection is closed (the body: answered 400
    /// `unreadable_body`); slow senders cannot hold connections open forever. Default 30000.
    pub request_timeout_ms: u64,
    /// PEM certificate chain (the server's certificate first) to serve HTTPS with; needs
    /// `tls_key`. Read again when it changes on disk or on SIGHUP.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`; needs `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Networks (`10.0.0.0/8`, or one address) of reverse proxies whose `X-Forwarded-For` /
    /// `Forwarded: for=` name the client; from other peers they are ignored.
    pub trusted_proxies: Vec<Cidr>,
    /// This node's stable identity, recorded on the leases its delivery worker takes, so that
    /// the node's next life resumes them at once (see `crate::node`). Default: derived from
    /// the host name, the listen address and the configuration file's path.
    pub node_id: Option<String>,
    /// The gateway's public base URL (`https://hooks.example.com`, optionally with a path
    /// prefix), which consumer-portal links start with; unset: the scheme and `Host` of the
    /// request that makes the link.
    pub public_url: Option<String>,
    /// `{ per_minute = N }`: at most N ingest requests from one client address (see
    /// `trusted_proxies`) in any 60 s window, counted before the signature is checked and
    /// answered 429 like a source's limit. Unset (the default): no limit per client.
    pub client_rate_limit: Option<RateLimitSpec>,
    /// Records of refused signatures stored per source and minute on each node (default 10);
    /// the others are only counted. 0 stores none.
    pub signature_failures_per_minute: u32,
    /// Records of refused signatures older than this many days are pruned (default 30).
    pub signature_failure_retention_days: u32,
}

impl Server {
    /// The TLS files, when both are set.
    pub fn tls_files(&self) -> Option<TlsFiles> {
        Some(TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
        })
    }

    /// What is wrong with the TLS keys: one of `tls_cert` and `tls_key` without the other.
    pub fn tls_problems(&self) -> Vec<Problem> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => vec![Problem::new(
                "server.tls_key",
                "missing: `tls_cert` is set, and HTTPS needs its private key too",
            )],
            (None, Some(_)) => vec![Problem::new(
                "server.tls_cert",
                "missing: `tls_key` is set, and HTTPS needs its certificate chain too",
            )],
            _ => Vec::new(),
        }
    }

    /// What is wrong with `node_id` (see `crate::node`): empty, too long, or with control
    /// characters.
    pub fn node_id_problems(&self) -> Vec<Problem> {
        match self
            .node_id
            .as_deref()
            .map(relay_core::model::ids::NodeId::new)
        {
            Some(Err(error)) => vec![Problem::new("server.node_id", error.to_string())],
            _ => Vec::new(),
        }
    }

    /// What is wrong with `public_url`: not an absolute `http`/`https` URL with a host, or
    /// one with a query or fragment.
    pub fn public_url_problems(&self) -> Vec<Problem> {
        let Some(text) = &self.public_url else {
            return Vec::new();
        };
        let reason = match url::Url::parse(text) {
            Err(e) => Some(format!("not a URL: {e}")),
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                Some("must be http or https".into())
            }
            Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("needs a host".into()),
            Ok(u) if u.query().is_some() || u.fragment().is_some() => {
                Some("must not have a query or fragment".into())
            }
            Ok(_) => None,
        };
        reason
            .map(|r| Problem::new("server.public_url", r))
            .into_iter()
            .collect()
    }

    /// How long each kind of record is kept.
    pub fn retention(&self) -> Retention {
        let days = |d: u32| Duration::from_secs(u64::from(d) * 86_400);
        Retention::default()
            .events(days(self.retention_days))
            .audit(days(self.audit_retention_days))
            .metrics(days(self.metrics_retention_days))
            .expired_sessions(days(self.expired_session_retention_days))
            .signature_failures(days(self.signature_failure_retention_days))
    }

    /// What is wrong with the retention keys: an audit or metrics retention of 0 days would
    /// empty the audit log (or the metrics history) every minute.
    pub fn retention_problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (key, days, what) in [
            (
                "server.audit_retention_days",
                self.audit_retention_days,
                "the audit log",
            ),
            (
                "server.metrics_retention_days",
                self.metrics_retention_days,
                "the metrics history",
            ),
        ] {
            if days == 0 {
                problems.push(Problem::new(
                    key,
                    format!("must be at least 1 (0 would empty {what} every minute)"),
                ));
            }
        }
        problems
    }

    /// `trusted_proxies` as networks.
    pub fn trusted_proxies(&self) -> Vec<IpNet> {
        self.trusted_proxies.iter().map(|cidr| cidr.0).collect()
    }
}

/// A network (`10.0.0.0/8`, `2001:db8::/32`) or one address (`10.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(pub IpNet);

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let text = text.trim();
        text.parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
            .map(Cidr)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "{text:?} is neither a network like 10.0.0.0/8 nor an address"
                ))
            })
    }
}

impl Default for Server {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://relay.db".into(),
            sqlite_synchronous: SqliteSynchronous::Full,
            retention_days: 30,
            audit_retention_days: 400,
            metrics_retention_days: 90,
            expired_session_retention_days: 0,
            migrate_on_start: true,
            redis_url: None,
            redis_prefix: "relay:".into(),
            request_timeout_ms: 30_000,
            tls_cert: None,
            tls_key: None,
            trusted_proxies: Vec::new(),
            node_id: None,
            public_url: None,
            client_rate_limit: None,
            signature_failures_per_minute: 10,
            signature_failure_retention_days: 30,
        }
    }
}

/// `[delivery]`.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    /// Networks the SSRF guard lets deliveries reach although they are not public (e.g.
    /// `["127.0.0.0/8"]` for receivers on this machine).
    pub allow_cidrs: Vec<String>,
    /// The key file sealing destination credentials at rest (created with mode 0600 on first
    /// run). Default: `relay.key` beside the SQLite file; a `memory://` store keeps a key in
    /// memory. A `postgres://` database has no default: every node sharing it needs the same
    /// key, so either this names a file every node has (created by the first start if
    /// missing; copy it to the other nodes), or `RELAY_CREDENTIALS_KEY` is set; without both,
    /// `relay serve` refuses to start, and a key that cannot open the credentials already saved
    /// in the database is refused too. `RELAY_CREDENTIALS_KEY` in the environment takes
    /// precedence.
    pub key_file: Option<String>,
}

/// `server.sqlite_synchronous`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqliteSynchronous {
    /// `synchronous=FULL`, the default.
    #[default]
    Full,
    /// `synchronous=NORMAL`.
    Normal,
}

/// `[[transformers]]`: a named transformer routes refer to with `transformer = "NAME"`,
/// selected by `kind = "…"`. A name must not shadow a built-in transformer.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TransformerSpec {
    /// A JSON body with `{{ $.json.path }}` placeholders, plus static headers.
    Template {
        /// The name routes use.
        name: String,
        /// The body template.
        body: Value,
        /// Static headers.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// A form submission as an email message (`to`, `from`, `subject`, `reply_to`, `text`).
    FormToEmail {
        /// The name routes use.
        name: String,
        /// Recipient.
        to: String,
        /// Sender.
        from: String,
        /// Subject line.
        subject: String,
    },
}

impl TransformerSpec {
    /// The name routes use.
    pub fn name(&self) -> &str {
        match self {
            Self::Template { name, .. } | Self::FormToEmail { name, .. } => name,
        }
    }
}

/// The certificate chain and private key files of `[server] tls_cert` and `tls_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM: the server's certificate, then its intermediates.
    pub cert: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}
