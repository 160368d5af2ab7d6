//! Reloading the configuration file while serving, on SIGHUP or `POST /api/v1/config/reload`
//! (`relay config reload`): sources, destinations, routes and transformers are swapped in
//! whole; requests and deliveries in flight finish with the configuration they started with.
//! An invalid file is refused with every problem, and the configuration in effect stays.
//! The other sections (`[server]`, `[delivery]`, `[admin]`, `[alerts]`, `[demo]`) take effect at the
//! next start; a reload names those that changed.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use relay_axum::admin::{ReloadHook, ReloadSummary};
use relay_core::Relay;
use relay_core::control::admin::FieldError;

use crate::config::{self, Config, ConfigError, Problem};
use crate::error::ServeError;

/// Reloads one file into one relay.
pub struct Reloader {
    relay: Relay,
    file: PathBuf,
    /// The file as last applied (to tell which start-only sections changed).
    applied: Mutex<Config>,
}

/// The keys of the start-only sections that differ.
fn restart_needed(old: &Config, new: &Config) -> Vec<String> {
    [
        ("server", old.server != new.server),
        ("delivery", old.delivery != new.delivery),
        ("admin", old.admin != new.admin),
        ("alerts", old.alerts != new.alerts),
        ("demo", old.demo != new.demo),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(section, _)| section.to_owned())
    .collect()
}

impl Reloader {
    /// A reloader for `relay`, started from `config` read from `file`.
    pub fn new(relay: Relay, file: PathBuf, config: Config) -> Self {
        Self {
            relay,
            file,
            applied: Mutex::new(config),
        }
    }

    /// Reads the file again and applies it, or refuses it (logged and counted either way).
    pub fn reload(&self) -> Result<ReloadSummary, ConfigError> {
        let outcome = self.try_reload();
        relay_core::observe::telemetry::record_config_reload(outcome.is_ok());
        match &outcome {
            Ok(summary) => tracing::info!(
                file = %self.file.display(),
                sources = summary.sources,
                destinations = summary.destinations,
                routes = summary.routes,
                restart_needed = ?summary.restart_needed,
                "configuration reloaded"
            ),
            Err(error) => tracing::error!(
                %error,
                "configuration reload refused; the configuration in effect stays"
            ),
        }
        outcome
    }

    fn try_reload(&self) -> Result<ReloadSummary, ConfigError> {
        let (config, assembled) = config::check(&self.file)?;
        let summary = ReloadSummary {
            sources: assembled.sources.len(),
            destinations: assembled.destinations.len(),
            routes: assembled.routes.len(),
            restart_needed: Vec::new(),
        };
        let catalog = assembled.catalog().map_err(|error| ConfigError::Invalid {
            file: self.file.clone(),
            problems: vec![Problem::new("(file)", error.to_string())],
        })?;
        self.relay.objects().swap_catalog(catalog);
        let mut applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        let restart_needed = restart_needed(&applied, &config);
        *applied = config;
        Ok(ReloadSummary {
            restart_needed,
            ..summary
        })
    }

    /// The admin API's hook: problems as field errors keyed like the file.
    pub fn hook(self: &Arc<Self>) -> ReloadHook {
        let reloader = Arc::clone(self);
        ReloadHook(Arc::new(move || {
            reloader.reload().map_err(|error| match error {
                ConfigError::Invalid { problems, .. } => (problems.into_iter())
                    .map(|p| FieldError::new(p.key, p.reason))
                    .collect(),
                other => vec![FieldError::new("(file)", other.to_string())],
            })
        }))
    }

    /// Reloads on every SIGHUP until the returned task is aborted.
    #[cfg(unix)]
    pub fn reload_on_sighup(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let reloader = Arc::clone(self);
        tokio::spawn(async move {
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                tracing::warn!("cannot listen for SIGHUP; reload with `relay config reload`");
                return;
            };
            while hangups.recv().await.is_some() {
                let reloader = Arc::clone(&reloader);
                // The file is read and checked off the async threads.
                let _ = tokio::task::spawn_blocking(move || reloader.reload()).await;
            }
        })
    }
}

/// The environment variable `relay config reload` reads the admin API key from.
pub const TOKEN_ENV: &str = "RELAY_ADMIN_TOKEN";

/// `relay config reload`: checks `file`, then asks the gateway at `url` (default: its
/// `server.listen`) to reload it, and prints what it applied. A refusal is a configuration
/// error (exit 2) with the gateway's reasons.
pub async fn request(file: &std::path::Path, url: Option<String>) -> Result<(), ServeError> {
    let (config, _) = config::check(file)?;
    let remote = |message: String| ServeError::Remote(message);
    let token = std::env::var(TOKEN_ENV).map_err(|_| {
        remote(format!(
            "set {TOKEN_ENV} to an admin API key (`relay key add NAME --role admin`), or send \
             the gateway SIGHUP"
        ))
    })?;
    let base = url.unwrap_or_else(|| {
        let mut listen = config.server.listen;
        if listen.ip().is_unspecified() {
            listen.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        // With TLS on, the gateway answers HTTPS only: its certificate must be trusted here
        // and name this address, else pass `--url https://<name in the certificate>:<port>`.
        let scheme = if config.server.tls_files().is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{listen}")
    });
    let endpoint = format!("{}/api/v1/config/reload", base.trim_end_matches('/'));
    let response = relay_core::tls::client()
        .post(&endpoint)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| remote(format!("{endpoint}: {e}")))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| remote(format!("{endpoint}: {status}, not JSON: {e}")))?;
    if status.is_success() {
        println!("{}: reloaded: {body}", file.display());
        return Ok(());
    }
    let fields = body["fields"].as_array().cloned().unwrap_or_default();
    if status.as_u16() == 422 && !fields.is_empty() {
        let problems = (fields.iter())
            .map(|f| {
                let text = |key: &str| f[key].as_str().unwrap_or_default().to_owned();
                Problem::new(text("field"), text("message"))
            })
            .collect();
        return Err(ServeError::Config(ConfigError::Invalid {
            file: file.to_owned(),
            problems,
        }));
    }
    Err(remote(format!("{endpoint}: {status}: {body}")))
}
