//! `relay serve`: the gateway.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use relay_axum::RelayLayer;
use relay_axum::admin::AdminOptions;
use relay_core::deliver::WorkerConfig;

use relay_core::store::Stores;
use relay_store_redis::RedisRateLimiter;

use crate::config;
pub use crate::error::ServeError;
use crate::http::TrustedProxies;
use crate::keys;
use crate::reload::Reloader;
use crate::store;
use crate::tls::Tls;

/// How often the per-minute metric counts are merged into the store.
const METRICS_FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// How often the sources, destinations and routes stored through the admin API are read
/// again (to follow changes made on other nodes).
const OBJECT_SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Where to serve from, after command-line overrides.
#[derive(Debug)]
pub struct Settings<'a> {
    /// The configuration file.
    pub config: &'a Path,
    /// Overrides `server.listen`.
    pub listen: Option<SocketAddr>,
    /// Overrides `server.database_url`.
    pub database_url: Option<String>,
    /// Overrides `server.redis_url`.
    pub redis_url: Option<String>,
    /// Exports every event's trace through it (see `crate::otlp`).
    pub tracer: Option<opentelemetry::global::BoxedTracer>,
}

/// Runs the gateway until SIGTERM or Ctrl-C, then stops accepting, lets requests in flight
/// finish (their commits included) and lets attempts in flight finish and be recorded.
pub async fn serve(settings: Settings<'_>) -> Result<(), ServeError> {
    let (config, mut assembled) = config::check(settings.config)?;
    let database_url = settings
        .database_url
        .unwrap_or_else(|| config.server.database_url.clone());
    let listen = settings.listen.unwrap_or(config.server.listen);
    let opened = store::open(
        &database_url,
        &config.server,
        config.server.migrate_on_start,
        store::Use::Owner,
    )
    .await?;
    let node = crate::node::node_id(&config.server, settings.config, listen);
    tracing::info!(%node, "node identity (recorded on this node's leases)");
    let keyring = keys::keyring(&config.delivery, opened.backing())?;
    let specs = std::mem::take(&mut assembled.destination_specs);
    let metrics = relay_axum::metrics::routes(assembled.metrics_token.take())?;
    let mut builder = (assembled.into_builder().keyring(keyring).node_id(node))
        .signature_failures_per_minute(config.server.signature_failures_per_minute);
    if let Some(limit) = config.server.client_rate_limit() {
        builder = builder.client_rate_limit(limit);
    }
    let redis_url = settings
        .redis_url
        .or_else(|| config.server.redis_url.clone());
    builder = match redis_url {
        None => builder.store(opened.store),
        Some(url) => {
            let redis = |source| ServeError::Redis {
                url: store::redact(&url),
                source,
            };
            let prefix = &config.server.redis_prefix;
            let connection = relay_store_redis::connect(&url).await.map_err(redis)?;
            let limiter = RedisRateLimiter::new(connection.clone(), prefix).map_err(redis)?;
            let shared =
                relay_store_redis::share(connection, prefix, Stores::from_dyn(opened.store))
                    .map_err(redis)?;
            builder.store(Arc::new(shared)).limiter(Arc::new(limiter))
        }
    };
    if let Some(tracer) = settings.tracer {
        builder = builder.tracer(tracer);
    }
    let relay = builder.build()?;
    if opened.shared {
        keys::check_shared_key(&relay).await?;
    }
    // The configured destinations are saved too (credentials sealed), so the store holds every
    // destination the gateway delivers to.
    for spec in specs {
        relay.objects().save_destination(spec).await?;
    }
    relay
        .objects()
        .sync_objects()
        .await
        .map_err(ServeError::Objects)?;
    crate::access::bootstrap(&relay).await?;
    let worker = relay.spawn_worker(WorkerConfig::default());
    let metrics_flush = relay.metrics().spawn_flush(METRICS_FLUSH_EVERY);
    let object_sync = relay.objects().spawn_object_sync(OBJECT_SYNC_EVERY);
    let request_timeout = std::time::Duration::from_millis(config.server.request_timeout_ms);
    let demo = config.demo.receiver;
    let tls = config.server.tls_files().map(Tls::start).transpose()?;
    let http_options = crate::http::Options {
        request_timeout,
        tls: tls.as_ref().map(|(tls, _)| tls.clone()),
        trusted_proxies: Arc::new(TrustedProxies::new(config.server.trusted_proxies())),
    };
    let public_url = config.server.public_url.clone();
    let reloader = Arc::new(Reloader::new(
        relay.clone(),
        settings.config.to_owned(),
        config,
    ));
    #[cfg(unix)]
    let hangups = reloader.reload_on_sighup();
    let options = AdminOptions {
        reload: Some(reloader.hook()),
        secure_cookies: tls.is_some(),
        public_url,
        ..AdminOptions::default()
    };
    let admin = relay_axum::admin::router(relay.clone(), options);
    let flusher = relay.clone();
    let mut app = Router::new()
        .merge(relay_axum::health::routes(relay.clone()))
        .merge(admin)
        .merge(relay_axum::agent::routes(relay.clone()))
        .merge(metrics);
    if demo {
        tracing::warn!("the demo receiver is on at /_demo/receiver ([demo] receiver = true)");
        app = app.merge(crate::demo::routes());
    }
    let app = app.layer(RelayLayer::new(relay));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServeError::Io {
            context: format!("cannot listen on {listen}"),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| ServeError::Io {
        context: "local address".into(),
        source,
    })?;
    tracing::info!(%local, store = %store::redact(&database_url), "relay listening; POST /webhooks/{{source}}, GET /metrics; SIGHUP reloads the configuration");
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("relay listening on {scheme}://{local}");
    crate::http::serve(listener, app, http_options, shutdown_signal()).await;
    tracing::info!("no longer accepting; finishing deliveries in flight");
    worker.shutdown().await;
    metrics_flush.abort();
    object_sync.abort();
    #[cfg(unix)]
    hangups.abort();
    if let Some((_, follower)) = tls {
        follower.abort();
    }
    if let Err(error) = flusher.metrics().flush().await {
        tracing::warn!(%error, "could not store the last metric points");
    }
    if let Some(pruner) = opened.pruner {
        pruner.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
