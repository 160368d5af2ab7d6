//! [`RelayBuilder`]: assembling a [`Relay`] (store, limiter, catalog, transport, observers)
//! and checking its configuration ([`BuildError`]).

use crate::catalog::{Catalog, CatalogError};
use crate::control::alert::AlertConfig;
use crate::control::alert::observer::AlertObserver;
use crate::control::credentials::Keyring;
use crate::deliver::destination::{Destination, Target};
use crate::deliver::guard::{AddressGuard, BlockedAddress, GuardedResolver};
use crate::deliver::http::HttpTransport;
use crate::deliver::node_leases::NodeLeases;
use crate::ingest::limit::{RateLimit, RateLimiter, SlidingWindowLimiter};
use crate::ingest::sig_failure::SIG_FAILURES_PER_MINUTE;
use crate::ingest::sig_failure::cap::FailureCap;
use crate::ingest::source::Source;
use crate::model::ids::{NodeId, TenantId};
use crate::observe::{Observer, Observers};
use crate::publish::EventType;
use crate::route::Route;
use crate::store::Store;
use crate::store::memory::MemoryStore;
use crate::transform::Transformer;
use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::Notify;

use super::{Relay, Shared, TenantState, WeakRelay};

impl Relay {
    /// Starts building a relay.
    pub fn builder() -> RelayBuilder {
        RelayBuilder::default()
    }
}

/// Why a relay could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The configuration refers to missing or repeated names.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The outbound HTTP client could not be created.
    #[error("outbound HTTP client: {0}")]
    Transport(#[source] reqwest::Error),
    /// The alert destination is not among the destinations.
    #[error("alerts go to destination {0:?}, which does not exist")]
    AlertDestination(String),
    /// A source verifies signatures but was given no secret: it would answer 401 to every
    /// request.
    #[error(
        "source {0:?} verifies signatures but has no secret: add one with WebhookSource::secret \
         (or use the NoSignature scheme for an unsigned source)"
    )]
    SourceWithoutSecret(String),
    /// A destination's URL points at an address the SSRF guard refuses.
    #[error("destination {destination:?}: {source}")]
    BlockedDestination {
        /// The destination.
        destination: String,
        /// The refused address.
        #[source]
        source: BlockedAddress,
    },
}

/// Builds a [`Relay`]. Defaults: the in-memory store, the in-process rate limiter, and an
/// SSRF guard that refuses every non-public destination address.
#[derive(Default)]
pub struct RelayBuilder {
    guard: AddressGuard,
    pinned: Vec<(String, Vec<IpAddr>)>,
    keyring: Option<Keyring>,
    store: Option<Arc<dyn Store>>,
    limiter: Option<Arc<dyn RateLimiter>>,
    sources: Vec<Arc<dyn Source>>,
    destinations: Vec<Destination>,
    routes: Vec<Arc<dyn Route>>,
    transformers: Vec<(String, Arc<dyn Transformer>)>,
    event_types: Vec<EventType>,
    alerts: Option<AlertConfig>,
    #[cfg(feature = "opentelemetry")]
    tracer: Option<opentelemetry::global::BoxedTracer>,
    observers: Vec<Arc<dyn Observer>>,
    node: Option<NodeId>,
    sig_failures_per_minute: Option<u32>,
    client_limit: Option<RateLimit>,
}

impl RelayBuilder {
    /// The store (default: [`MemoryStore`], nothing survives a restart).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The rate limiter (default: in-process [`SlidingWindowLimiter`]).
    pub fn limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The node's stable identity (default: none). Its delivery workers record it on every
    /// lease they take, and the first worker to start reclaims at once the leases its
    /// previous life left under it (see
    /// [`DeliveryQueue::reclaim`](crate::store::DeliveryQueue::reclaim)), instead of waiting
    /// for them to expire. Give every node sharing a store its own identity, the same across
    /// its restarts. Without one, the leases of a crashed process come back when they expire
    /// (a SQLite store, which one process owns, gives them all back when it is opened).
    ///
    /// ```
    /// use relay_core::{Relay, model::ids::NodeId};
    /// let relay = Relay::builder().node_id(NodeId::new("node-a").unwrap()).build().unwrap();
    /// assert_eq!(relay.node_id().map(NodeId::as_str), Some("node-a"));
    /// ```
    pub fn node_id(mut self, node: NodeId) -> Self {
        self.node = Some(node);
        self
    }

    /// How many refused signatures of each source are stored per minute on this node
    /// (default [`SIG_FAILURES_PER_MINUTE`]); the others are only counted (see
    /// [`crate::ingest::sig_failure`]). 0 stores none.
    pub fn signature_failures_per_minute(mut self, per_minute: u32) -> Self {
        self.sig_failures_per_minute = Some(per_minute);
        self
    }

    /// Limits ingest per client address (default: no limit): at most `limit.per_minute`
    /// requests from one address in any 60 s window, counted before the signature is checked
    /// and answered like a source's limit (`429 {"error":"rate_limited"}` with
    /// `Retry-After`). The address is [`IngestRequest::client`](crate::IngestRequest::client),
    /// which the adapter sets; a request without one is not limited. Counted by the relay's
    /// [limiter](Self::limiter) under the key `client:<address>`.
    ///
    /// ```
    /// use relay_core::{IngestOutcome, IngestRequest, NoSignature, Relay, WebhookSource};
    /// use relay_core::ingest::limit::RateLimit;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let relay = Relay::builder()
    ///     .source(WebhookSource::new("forms", NoSignature))
    ///     .client_rate_limit(RateLimit { per_minute: 1 })
    ///     .build()
    ///     .unwrap();
    /// // A body per address: an unsigned source deduplicates equal bodies.
    /// let from = |ip: &str| {
    ///     let body = format!(r#"{{"from":"{ip}"}}"#);
    ///     IngestRequest::new("forms", Default::default(), body).with_client(ip.parse().unwrap())
    /// };
    /// assert!(matches!(relay.ingest(from("192.0.2.1")).await, IngestOutcome::Accepted { .. }));
    /// assert!(matches!(relay.ingest(from("192.0.2.1")).await, IngestOutcome::RateLimited { .. }));
    /// assert!(matches!(relay.ingest(from("192.0.2.2")).await, IngestOutcome::Accepted { .. }));
    /// # }
    /// ```
    pub fn client_rate_limit(mut self, limit: RateLimit) -> Self {
        self.client_limit = Some(limit);
        self
    }

    /// Adds a source.
    pub fn source(mut self, source: impl Source + 'static) -> Self {
        self.sources.push(Arc::new(source));
        self
    }

    /// Adds a destination.
    pub fn destination(mut self, destination: Destination) -> Self {
        self.destinations.push(destination);
        self
    }

    /// Adds a route.
    pub fn route(mut self, route: impl Route + 'static) -> Self {
        self.routes.push(Arc::new(route));
        self
    }

    /// Registers a transformer under a name routes can refer to.
    pub fn transformer(
        mut self,
        name: impl Into<String>,
        transformer: impl Transformer + 'static,
    ) -> Self {
        self.transformers.push((name.into(), Arc::new(transformer)));
        self
    }

    /// Adds an [event type](crate::publish::EventType): listed in the admin API, and, with a
    /// schema, checked against every published payload of that type (and ingested ones where
    /// the source [validates payloads](crate::ingest::source::Source::validates_payload)).
    pub fn event_type(mut self, event_type: EventType) -> Self {
        self.event_types.push(event_type);
        self
    }

    /// Sends operational alerts (see [`alert`](crate::control::alert)) to one of the destinations.
    pub fn alerts(mut self, config: AlertConfig) -> Self {
        self.alerts = Some(config);
        self
    }

    /// Lets deliveries reach addresses in these networks although the SSRF guard would refuse
    /// them (see [`guard`](crate::deliver::guard)): the only way to deliver to private or loopback
    /// addresses.
    ///
    /// ```
    /// use relay_core::{BuildError, Relay, deliver::destination::Destination};
    /// let local = || Destination::http("local", "http://127.0.0.1:9000/hook").unwrap();
    /// let refused = Relay::builder().destination(local()).build();
    /// assert!(matches!(refused, Err(BuildError::BlockedDestination { .. })));
    /// let allowed = Relay::builder()
    ///     .allow_cidrs(["127.0.0.0/8".parse().unwrap()])
    ///     .destination(local())
    ///     .build();
    /// assert!(allowed.is_ok());
    /// ```
    pub fn allow_cidrs(mut self, nets: impl IntoIterator<Item = IpNet>) -> Self {
        self.guard = self.guard.allow_all(nets);
        self
    }

    /// How SSRF refusals say to allow an address (default `RelayBuilder::allow_cidrs`; see
    /// [`AddressGuard::hint`](crate::deliver::guard::AddressGuard::hint)): an app that reads
    /// its allowed networks from its own configuration names its key here.
    pub fn guard_hint(mut self, allow_with: &'static str) -> Self {
        self.guard = self.guard.hint(allow_with);
        self
    }

    /// The keys that seal destination credentials saved with
    /// [`Objects::save_destination`](crate::control::manage::Objects::save_destination) (see [`credentials`](crate::control::credentials)).
    pub fn keyring(mut self, keyring: Keyring) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// Answers `name` with `addrs` instead of asking DNS (like `curl --resolve`), for tests and
    /// split-horizon setups; the SSRF guard still applies to the addresses.
    pub fn resolve_host(
        mut self,
        name: impl Into<String>,
        addrs: impl IntoIterator<Item = IpAddr>,
    ) -> Self {
        self.pinned.push((name.into(), addrs.into_iter().collect()));
        self
    }

    /// Exports every event's trace through `tracer` (feature `opentelemetry`): see
    /// [`crate::observe::otel`] for the spans and the id generator the provider needs.
    #[cfg(feature = "opentelemetry")]
    pub fn tracer(mut self, tracer: opentelemetry::global::BoxedTracer) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// Adds an observer of the pipeline (see [`crate::observe`]): it is told of every ingest,
    /// attempt, circuit change and queue count, after the built-in observers (metrics,
    /// per-minute rollups, alerts, traces), in the order added. Pass an `Arc` to keep a handle.
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicU32, Ordering}};
    /// use relay_core::{Relay, observe::{AttemptSeen, Observer}};
    ///
    /// struct Attempts(AtomicU32);
    /// impl Observer for Attempts {
    ///     fn on_attempt(&self, _attempt: &AttemptSeen<'_>) {
    ///         self.0.fetch_add(1, Ordering::Relaxed);
    ///     }
    /// }
    ///
    /// let attempts = Arc::new(Attempts(AtomicU32::new(0)));
    /// let relay = Relay::builder().observer(Arc::clone(&attempts)).build().unwrap();
    /// assert_eq!(attempts.0.load(Ordering::Relaxed), 0);
    /// # drop(relay);
    /// ```
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observers.push(Arc::new(observer));
        self
    }

    /// Validates the configuration (names, a secret for every source that verifies
    /// signatures, and every HTTP destination's URL against the SSRF guard) and builds the
    /// relay.
    ///
    /// ```
    /// use relay_core::{BuildError, GitHub, NoSignature, Relay, WebhookSource};
    ///
    /// let unsigned = Relay::builder().source(WebhookSource::new("forms", NoSignature)).build();
    /// assert!(unsigned.is_ok());
    /// let forgot = Relay::builder().source(WebhookSource::new("github", GitHub)).build();
    /// assert!(matches!(forgot, Err(BuildError::SourceWithoutSecret(name)) if name == "github"));
    /// ```
    pub fn build(self) -> Result<Relay, BuildError> {
        if let Some(source) = self.sources.iter().find(|s| s.lacks_secrets()) {
            return Err(BuildError::SourceWithoutSecret(source.name().to_owned()));
        }
        for destination in &self.destinations {
            if let Target::Http { url, .. } = destination.target() {
                self.guard
                    .check_url(url)
                    .map_err(|source| BuildError::BlockedDestination {
                        destination: destination.name().to_owned(),
                        source,
                    })?;
            }
        }
        if let Some(alerts) = &self.alerts
            && !self
                .destinations
                .iter()
                .any(|d| d.name() == alerts.destination)
        {
            return Err(BuildError::AlertDestination(alerts.destination.clone()));
        }
        let resolver = self.pinned.iter().fold(
            GuardedResolver::new(self.guard.clone()),
            |r, (name, addrs)| r.pin(name, addrs.iter().copied()),
        );
        let catalog = Catalog::new(
            self.sources,
            self.destinations,
            self.routes,
            self.transformers,
        )?
        .with_event_types(self.event_types)?;
        let transport = HttpTransport::new(resolver).map_err(BuildError::Transport)?;
        let rollup = Arc::new(crate::control::admin::rollup::Rollup::default());
        // The built-in observers first, then the embedder's.
        let mut observers: Vec<Arc<dyn Observer>> = vec![
            Arc::new(crate::observe::telemetry::Metrics),
            Arc::clone(&rollup) as Arc<dyn Observer>,
        ];
        #[cfg(feature = "opentelemetry")]
        if let Some(tracer) = self.tracer {
            observers.push(Arc::new(crate::observe::otel::Spans::new(tracer)));
        }
        let alerts = self.alerts;
        let embedders = self.observers;
        let tenant = Arc::new(TenantState::new(TenantId::default(), catalog));
        let shared = Arc::new_cyclic(|weak| {
            if let Some(config) = alerts {
                let sink = Arc::new(WeakRelay {
                    shared: weak.clone(),
                    tenant: Arc::downgrade(&tenant),
                });
                observers.push(Arc::new(AlertObserver::new(
                    config,
                    sink,
                    tenant.id.clone(),
                )));
            }
            observers.extend(embedders);
            Shared {
                store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
                limiter: self
                    .limiter
                    .unwrap_or_else(|| Arc::new(SlidingWindowLimiter::new())),
                transport,
                wake: Arc::new(Notify::new()),
                keyring: self.keyring.map(Arc::new),
                rollup,
                observers: Observers::new(observers),
                write_health: Default::default(),
                tenants: Default::default(),
                node_leases: NodeLeases::new(self.node),
                sig_failures: (
                    (self.sig_failures_per_minute).unwrap_or(SIG_FAILURES_PER_MINUTE),
                    FailureCap::default(),
                ),
                client_limit: self.client_limit,
                client_lockouts: Default::default(),
                agents: crate::control::agent::AgentHub::default(),
            }
        });
        Ok(Relay { shared, tenant })
    }
}
