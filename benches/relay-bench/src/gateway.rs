//! The real gateway, set up as in production: an axum app with `RelayLayer` over a `Relay` on
//! a fresh store (SQLite with group commit, or PostgreSQL), one `github` source with a secret,
//! two HTTP destinations on a loopback receiver, a route sending `push` to both, and the
//! delivery worker (started with the gateway, or later: [`Gateway::start_worker`]).

use axum::Router;
use axum::routing::get;
use relay_axum::RelayLayer;
use relay_core::Relay;
use relay_core::control::admin::{Principal, Role};
use relay_core::deliver::destination::Destination;
use relay_core::deliver::{WorkerConfig, WorkerHandle};
use relay_core::ingest::signature::GitHub;
use relay_core::ingest::source::WebhookSource;
use relay_core::model::ids::TenantId;
use relay_core::publish::{EventType, PUBLISH_SOURCE};
use relay_core::route::EventRoute;

use crate::error::BenchError;
use crate::load::{self, Load, LoadReport};
use crate::payload::SECRET;
use crate::proc;
use crate::sample::Sample;
use crate::server::{AppServer, Receiver};
use crate::store::BenchStore;

/// The destinations' outbound signing secret (Standard Webhooks).
const OUTBOUND_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Deliveries per accepted push (the route sends it to both destinations).
pub const FAN_OUT: u64 = 2;

/// What runs beside ingest.
#[derive(Debug, Clone, Copy, Default)]
pub struct Setup {
    /// The delivery worker, from the start.
    pub worker: bool,
    /// The Prometheus recorder and `GET /metrics`.
    pub metrics: bool,
    /// The receiver records when each push's deliveries arrive (end-to-end latency).
    pub record_arrivals: bool,
    /// How long the receiver takes to answer each delivery.
    pub receiver_delay: std::time::Duration,
    /// Published pushes too: a route from `app` to both destinations, the event type `push`
    /// (with its JSON Schema when `schema`), and the admin API with an operator key.
    pub publish: Option<Publishing>,
}

/// How published pushes are set up.
#[derive(Debug, Clone, Copy, Default)]
pub struct Publishing {
    /// The event type `push` has a JSON Schema every published payload is checked against.
    pub schema: bool,
}

/// The JSON Schema of the bench's push payloads ([`crate::payload::Pushes::body`]).
fn push_schema() -> serde_json::Value {
    let sha = serde_json::json!({"type": "string", "minLength": 40, "maxLength": 40});
    serde_json::json!({
        "type": "object",
        "required": ["ref", "before", "after", "repository", "pusher", "head_commit"],
        "properties": {
            "ref": {"type": "string", "pattern": "^refs/"},
            "before": sha, "after": sha,
            "repository": {"type": "object", "required": ["id", "full_name"],
                "properties": {"id": {"type": "integer"}, "full_name": {"type": "string"}}},
            "pusher": {"type": "object", "required": ["name"]},
            "head_commit": {"type": "object", "properties": {"message": {"type": "string"}}}
        }
    })
}

/// A running gateway, its receiver and its store.
#[derive(Debug)]
pub struct Gateway {
    /// The relay.
    pub relay: Relay,
    /// The app serving `POST /webhooks/github`.
    pub server: AppServer,
    /// The destinations' receiver.
    pub receiver: Receiver,
    /// The store.
    pub store: BenchStore,
    /// An operator API key for `POST /api/v1/events` (with [`Setup::publish`]).
    pub token: Option<String>,
    worker: Option<WorkerHandle>,
}

impl Gateway {
    /// Starts a gateway on `store`.
    pub async fn start(store: BenchStore, setup: Setup) -> Result<Self, BenchError> {
        let receiver =
            Receiver::answering_after(setup.record_arrivals, setup.receiver_delay).await?;
        let destination = |name: &str, path: &str| {
            Destination::http(name, &format!("{}{path}", receiver.base_url))
                .map(|d| d.signing_secret(OUTBOUND_SECRET))
        };
        // The receiver is on loopback, which the SSRF guard refuses unless allowed.
        let loopback =
            relay_core::deliver::guard::IpNet::from(std::net::IpAddr::from([127, 0, 0, 1]));
        let mut builder = Relay::builder()
            .allow_cidrs([loopback])
            .store(store.dyn_store())
            .source(WebhookSource::new("github", GitHub).secret(SECRET))
            .destination(destination("receiver-a", "/a")?)
            .destination(destination("receiver-b", "/b")?)
            .route(
                EventRoute::new("pushes")
                    .source("github")
                    .event_types(["push"])
                    .to(["receiver-a", "receiver-b"]),
            );
        if let Some(publishing) = setup.publish {
            let mut push = EventType::new("push").description("A bench push");
            if publishing.schema {
                push = push
                    .schema(push_schema())
                    .map_err(|e| BenchError::Setup(e.to_string()))?;
            }
            builder = builder.event_type(push).route(
                EventRoute::new("published")
                    .source(PUBLISH_SOURCE)
                    .event_types(["push"])
                    .to(["receiver-a", "receiver-b"]),
            );
        }
        let relay = builder.build()?;
        let mut app = Router::new().route("/", get(|| async { "the app" }));
        if setup.metrics {
            let metrics =
                relay_axum::metrics::routes(None).map_err(|e| BenchError::Setup(e.to_string()))?;
            app = app.merge(metrics);
        }
        let mut token = None;
        if setup.publish.is_some() {
            let system = Principal::system(TenantId::default());
            let key = (relay.access())
                .create_api_key(&system, "bench", Role::Operator)
                .await
                .map_err(|e| BenchError::Setup(e.to_string()))?;
            token = Some(key.token.expose().to_owned());
            let options = relay_axum::admin::AdminOptions {
                dashboard: false,
                ..Default::default()
            };
            app = app.merge(relay_axum::admin::router(relay.clone(), options));
        }
        let app = app.layer(RelayLayer::new(relay.clone()));
        let server = AppServer::start(app).await?;
        let mut gateway = Self {
            relay,
            server,
            receiver,
            store,
            token,
            worker: None,
        };
        if setup.worker {
            gateway.start_worker(WorkerConfig::default());
        }
        Ok(gateway)
    }

    /// Starts the delivery worker (once; later calls do nothing).
    pub fn start_worker(&mut self, config: WorkerConfig) {
        if self.worker.is_none() {
            self.worker = Some(self.relay.spawn_worker(config));
        }
    }

    /// Stops the server and the worker, and removes the store's data.
    pub async fn stop(self) -> Result<(), BenchError> {
        let Self {
            relay,
            server,
            receiver,
            store,
            worker,
            ..
        } = self;
        server.stop().await?;
        if let Some(worker) = worker {
            worker.shutdown().await;
        }
        drop((relay, receiver));
        store.close().await
    }
}

/// The `ingest` scenario's measurement: a closed-loop burst of `load` at a fresh gateway.
pub async fn measure(store: BenchStore, load: Load, setup: Setup) -> Result<Sample, BenchError> {
    measure_with(store, setup, async |gateway: &Gateway| {
        load::run(gateway.server.addr, load).await
    })
    .await
}

/// One measurement of a fresh gateway: what `drive` does to it, with the CPU, commits, WAL,
/// deliveries and peak RSS it cost.
pub async fn measure_with<F>(
    store: BenchStore,
    setup: Setup,
    drive: F,
) -> Result<Sample, BenchError>
where
    F: AsyncFnOnce(&Gateway) -> Result<LoadReport, BenchError>,
{
    let gateway = Gateway::start(store, setup).await?;
    proc::reset_peak_rss();
    let cpu = proc::CpuClock::start();
    let commits_before = gateway.store.commit_count();
    let report = drive(&gateway).await?;
    let commits = gateway.store.commit_count() - commits_before;
    let cpu = cpu.cores();
    let delivered = gateway.receiver.received();
    let wal_bytes = gateway.store.wal_bytes();
    let peak = proc::peak_rss_kib();
    gateway.stop().await?;
    Ok(Sample {
        peak_rss_kib: peak,
        commits: Some(commits),
        delivered: Some(delivered),
        wal_bytes,
        cpu,
        ..Sample::from_load(report)
    })
}
