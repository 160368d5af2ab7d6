//! How the control plane behaves: [`AdminOptions`], and the host's configuration reload hook.

use std::fmt;
use std::sync::Arc;

use relay_core::control::admin::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// How the admin API and the dashboard behave.
#[derive(Debug, Clone)]
pub struct AdminOptions {
    /// Mark the session cookie `Secure` (set it when serving over TLS).
    pub secure_cookies: bool,
    /// The ingest path prefix shown with each source (default `/webhooks`).
    pub ingest_prefix: String,
    /// How `POST /api/v1/config/reload` reloads the host's configuration (none: 409).
    pub reload: Option<ReloadHook>,
    /// Serve the [dashboard](crate::dashboard) (`GET /` and `GET /dashboard/{file}`) with the
    /// API (default `true`). Leave it out to mount the API in an app that has its own `/`.
    pub dashboard: bool,
    /// The gateway's public base URL (e.g. `https://hooks.example.com`), which portal links
    /// start with; none: the scheme and `Host` of the request that creates the link.
    pub public_url: Option<String>,
    /// The path the app mounts the control plane under (e.g. `/ops`, for
    /// `Router::new().nest("/ops", …)` in axum or `web::scope("/ops")` in actix), which the
    /// framework strips before the control plane routes the request. Default empty: at the
    /// root. The dashboard page links its files under it (so it works at `/ops` and `/ops/`)
    /// and portal links and their landing page start with it; the dashboard's scripts find the
    /// API relative to themselves, so they need nothing else.
    pub prefix: String,
}

impl Default for AdminOptions {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            ingest_prefix: "/webhooks".into(),
            reload: None,
            dashboard: true,
            public_url: None,
            prefix: String::new(),
        }
    }
}

impl AdminOptions {
    /// [`prefix`](Self::prefix) without a trailing `/` (`""` at the root).
    pub fn mount_prefix(&self) -> &str {
        self.prefix.trim_end_matches('/')
    }
}

/// What a reload applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReloadSummary {
    /// Sources now configured.
    pub sources: usize,
    /// Destinations now configured.
    pub destinations: usize,
    /// Routes now configured.
    pub routes: usize,
    /// Changed keys that take effect only after a restart (e.g. `server.listen`).
    pub restart_needed: Vec<String>,
}

/// Reads the configuration again and applies it: the summary, or every problem (with its key)
/// when it is refused. It runs on the request's task, so it must be quick (a file read).
pub type Reload = dyn Fn() -> Result<ReloadSummary, Vec<FieldError>> + Send + Sync;

/// How the host reloads its configuration (the standalone gateway: its TOML file).
#[derive(Clone)]
pub struct ReloadHook(pub Arc<Reload>);

impl fmt::Debug for ReloadHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReloadHook")
    }
}
