//! The real gateway, set up as in production: an axum app with `RelayLayer` over a `Relay` on
//! a fresh `SqliteStore` (group commit), one `github` source with a secret, two HTTP
//! destinations on a loopback receiver, a route sending `push` to both, and the delivery
//! worker running.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use relay_axum::RelayLayer;
use relay_core::Relay;
use relay_core::deliver::WorkerConfig;
use relay_core::destination::Destination;
use relay_core::route::EventRoute;
use relay_core::signature::GitHub;
use relay_core::source::WebhookSource;
use relay_store_sqlite::{SqliteOptions, SqliteStore};

use crate::error::BenchError;
use crate::load::{self, Load};
use crate::payload::SECRET;
use crate::proc;
use crate::sample::Sample;
use crate::server::{AppServer, Receiver};

/// The destinations' outbound signing secret (Standard Webhooks).
const OUTBOUND_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What runs beside ingest.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// The delivery worker.
    pub worker: bool,
    /// The Prometheus recorder and `GET /metrics`.
    pub metrics: bool,
}

/// One run against the gateway, its database (opened with `options`) in a fresh directory
/// under `dir`.
pub async fn measure(
    dir: &Path,
    options: SqliteOptions,
    load: Load,
    setup: Setup,
) -> Result<Sample, BenchError> {
    let tmp = tempfile::tempdir_in(dir)?;
    let path = tmp.path().join("relay.db");
    let store = SqliteStore::open(&path, options)?;
    let receiver = Receiver::start().await?;
    let destination = |name: &str, path: &str| {
        Destination::http(name, &format!("{}{path}", receiver.base_url))
            .map(|d| d.signing_secret(OUTBOUND_SECRET))
    };
    // The receiver is on loopback, which the SSRF guard refuses unless allowed.
    let loopback = relay_core::guard::IpNet::from(std::net::IpAddr::from([127, 0, 0, 1]));
    let relay = Relay::builder()
        .allow_cidrs([loopback])
        .store(Arc::new(store.clone()))
        .source(WebhookSource::new("github", GitHub).secret(SECRET))
        .destination(destination("receiver-a", "/a")?)
        .destination(destination("receiver-b", "/b")?)
        .route(
            EventRoute::new("pushes")
                .source("github")
                .event_types(["push"])
                .to(["receiver-a", "receiver-b"]),
        )
        .build()?;
    let worker = setup
        .worker
        .then(|| relay.spawn_worker(WorkerConfig::default()));
    let mut app = Router::new().route("/", get(|| async { "the app" }));
    if setup.metrics {
        let metrics =
            relay_axum::metrics::routes(None).map_err(|e| BenchError::Setup(e.to_string()))?;
        app = app.merge(metrics);
    }
    let app = app.layer(RelayLayer::new(relay.clone()));
    let server = AppServer::start(app).await?;

    proc::reset_peak_rss();
    let commits_before = store.commit_count();
    let report = load::run(server.addr, load).await?;
    let commits = store.commit_count() - commits_before;
    let delivered = receiver.received();
    let wal_bytes = proc::wal_bytes(&path);
    let peak = proc::peak_rss_kib();

    server.stop().await?;
    if let Some(worker) = worker {
        worker.shutdown().await;
    }
    drop((relay, store, receiver));
    proc::wait_store_threads_gone(Duration::from_secs(60)).await;
    drop(tmp);
    Ok(Sample {
        peak_rss_kib: peak,
        commits: Some(commits),
        delivered: Some(delivered),
        wal_bytes,
        ..Sample::from_load(report)
    })
}
