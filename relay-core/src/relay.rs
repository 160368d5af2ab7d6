//! [`Relay`]: the pipeline assembled from a store, a catalog and a limiter.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};

use arc_swap::ArcSwap;
use ipnet::IpNet;
use tokio::sync::Notify;

use crate::catalog::{Catalog, CatalogError};
use crate::control::alert::AlertConfig;
use crate::control::alert::observer::{AlertObserver, AlertSink};
use crate::control::credentials::Keyring;
use crate::control::manage::ObjectState;
use crate::control::readiness::{NotReady, WriteHealth};
use crate::control::tenancy::registry::TenantRelays;
use crate::deliver::circuit_view::CircuitViews;
use crate::deliver::destination::{Destination, Target};
use crate::deliver::guard::{AddressGuard, BlockedAddress, GuardedResolver};
use crate::deliver::http::HttpTransport;
use crate::deliver::throttle::Throttles;
use crate::ingest::limit::{RateLimiter, SlidingWindowLimiter};
use crate::ingest::source::Source;
use crate::observe::{Observer, Observers};
use crate::route::Route;
use crate::store::memory::MemoryStore;
use crate::store::{InsertOutcome, NewEvent, Store, StoreError};
use crate::transform::Transformer;

/// The webhook gateway pipeline: ingest, delivery worker, replay. Cheap to clone (shared state).
///
/// ```
/// use relay_core::{Relay, route::EventRoute, ingest::source::WebhookSource, ingest::signature::GitHub};
/// use relay_core::deliver::destination::{Destination, HandlerError, Message};
///
/// let relay = Relay::builder()
///     .source(WebhookSource::new("github", GitHub).secret("It's a Secret to Everybody"))
///     .destination(Destination::handler("app", |m: Message| async move {
///         println!("got {} ({} bytes)", m.event_type, m.body.len());
///         Ok::<(), HandlerError>(())
///     }))
///     .route(EventRoute::new("pushes").source("github").event_types(["push"]).to(["app"]))
///     .build()
///     .expect("valid configuration");
/// ```
#[derive(Clone)]
pub struct Relay {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    limiter: Arc<dyn RateLimiter>,
    catalog: ArcSwap<Catalog>,
    objects: Mutex<ObjectState>,
    object_writes: tokio::sync::Mutex<()>,
    transport: HttpTransport,
    wake: Arc<Notify>,
    disabled: Mutex<HashSet<String>>,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
    throttles: Throttles,
    circuit_views: CircuitViews,
    keyring: Option<Arc<Keyring>>,
    rollup: Arc<crate::control::admin::rollup::Rollup>,
    /// What observes the pipeline (shared with the tenant relays).
    observers: Observers,
    agents: crate::control::agent::AgentHub,
    /// Shared with the tenant relays, so their writes count for readiness too.
    write_health: Arc<WriteHealth>,
    /// The tenant this relay's catalog belongs to (`default` for the one built).
    tenant: crate::model::ids::TenantId,
    /// The relays of the other tenants (see [`crate::control::tenancy`]); empty in those.
    tenants: TenantRelays<Relay>,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}

/// A [`Relay`] that does not keep it alive (what its own observers hold).
#[derive(Clone)]
pub(crate) struct WeakRelay(Weak<Inner>);

impl WeakRelay {
    /// The relay, unless it is gone.
    pub(crate) fn upgrade(&self) -> Option<Relay> {
        self.0.upgrade().map(|inner| Relay { inner })
    }
}

#[async_trait::async_trait]
impl AlertSink for WeakRelay {
    fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }

    fn disable_destination(&self, destination: &str) {
        if let Some(relay) = self.upgrade() {
            relay.disable_destination(destination);
        }
    }

    fn has_destination(&self, destination: &str) -> Option<bool> {
        Some(self.upgrade()?.catalog().destination(destination).is_some())
    }

    async fn commit(&self, new: NewEvent) -> Option<Result<InsertOutcome, StoreError>> {
        let relay = self.upgrade()?;
        let outcome = relay.store().insert_event(new).await;
        if matches!(outcome, Ok(InsertOutcome::Inserted)) {
            relay.wake_workers();
        }
        Some(outcome)
    }
}

impl fmt::Debug for WeakRelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WeakRelay")
    }
}

impl Relay {
    /// Starts building a relay.
    pub fn builder() -> RelayBuilder {
        RelayBuilder::default()
    }

    /// A handle that does not keep this relay alive.
    #[cfg(test)]
    pub(crate) fn downgrade(&self) -> WeakRelay {
        WeakRelay(Arc::downgrade(&self.inner))
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.inner.catalog.load_full()
    }

    /// Makes `catalog` the live one.
    pub(crate) fn replace_catalog(&self, catalog: Catalog) {
        self.inner.catalog.store(Arc::new(catalog));
    }

    /// The configured catalog and the stored objects (see [`crate::control::manage`]).
    pub(crate) fn object_state(&self) -> std::sync::MutexGuard<'_, ObjectState> {
        self.inner
            .objects
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Held while an admin change of sources, destinations or routes is checked, stored and
    /// applied, so changes on this node apply one at a time.
    pub(crate) async fn object_write_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.object_writes.lock().await
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub(crate) fn limiter(&self) -> &dyn RateLimiter {
        self.inner.limiter.as_ref()
    }

    pub(crate) fn transport(&self) -> &HttpTransport {
        &self.inner.transport
    }

    /// Wakes idle delivery workers (new deliveries are due).
    pub(crate) fn wake_workers(&self) {
        self.inner.wake.notify_waiters();
    }

    /// Wakes the workers after `delay`, when a deferred delivery comes due, so it is leased on
    /// time rather than at the next poll. The timer does not keep the relay alive.
    pub(crate) fn wake_workers_after(&self, delay: std::time::Duration) {
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(inner) = inner.upgrade() {
                inner.wake.notify_waiters();
            }
        });
    }

    /// Whether the relay can take events now (`GET /readyz`): the store answers a ping, and
    /// the last write to it did not fail.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let relay = relay_core::Relay::builder().build().unwrap();
    /// assert!(relay.readiness().await.is_ok());
    /// # }
    /// ```
    pub async fn readiness(&self) -> Result<(), NotReady> {
        self.write_health().check(self.store().as_ref()).await
    }

    /// The outcome of the store's last write, for [`Relay::readiness`].
    pub(crate) fn write_health(&self) -> &WriteHealth {
        &self.inner.write_health
    }

    pub(crate) fn wake(&self) -> &Notify {
        &self.inner.wake
    }

    /// Pauses a destination: its deliveries wait (they are not attempted and not lost) until
    /// [`Relay::enable_destination`]. A 410 Gone answer pauses its destination.
    pub fn disable_destination(&self, name: &str) {
        self.disabled().insert(name.to_owned());
    }

    /// Resumes a paused destination.
    pub fn enable_destination(&self, name: &str) {
        self.disabled().remove(name);
        self.wake_workers();
    }

    /// Whether a destination is paused.
    pub fn is_destination_disabled(&self, name: &str) -> bool {
        self.disabled().contains(name)
    }

    /// The keyring sealing saved credentials, if one was given.
    pub(crate) fn keyring(&self) -> Option<&Arc<Keyring>> {
        self.inner.keyring.as_ref()
    }

    /// The address guard outbound deliveries pass.
    pub fn guard(&self) -> &AddressGuard {
        self.inner.transport.resolver().guard()
    }

    /// A slot among the attempts in flight to `destination` (capped at `cap`), if one is free.
    /// The count is per destination, whatever the cap was when a slot was taken, so a cap
    /// lowered while attempts are in flight holds as soon as enough of them end.
    pub(crate) fn in_flight_slot(&self, destination: &str, cap: usize) -> Option<InFlightSlot> {
        let mut counts = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let count = counts.entry(destination.to_owned()).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(InFlightSlot {
            counts: Arc::clone(&self.inner.in_flight),
            destination: destination.to_owned(),
        })
    }

    /// The [agents](crate::control::agent) connected to this process.
    pub fn agents(&self) -> &crate::control::agent::AgentHub {
        &self.inner.agents
    }

    pub(crate) fn throttles(&self) -> &Throttles {
        &self.inner.throttles
    }

    pub(crate) fn circuit_views(&self) -> &CircuitViews {
        &self.inner.circuit_views
    }

    pub(crate) fn rollup(&self) -> &crate::control::admin::rollup::Rollup {
        &self.inner.rollup
    }

    /// What observes the pipeline (see [`crate::observe`]).
    pub(crate) fn observers(&self) -> &Observers {
        &self.inner.observers
    }

    /// The tenant whose catalog this relay serves (`default` for the one built; see
    /// [`Relay::tenant_relay`]).
    pub fn tenant_id(&self) -> &crate::model::ids::TenantId {
        &self.inner.tenant
    }

    pub(crate) fn tenant_relays(&self) -> &TenantRelays<Relay> {
        &self.inner.tenants
    }

    /// A relay for `tenant` sharing everything with this one but the catalog, the stored
    /// objects and the per-destination state (pauses, attempts in flight, throttles, circuit
    /// views).
    pub(crate) fn tenant_view(&self, tenant: crate::model::ids::TenantId) -> Self {
        let inner = &self.inner;
        let base = inner.objects.lock().map_or_else(
            |poison| poison.into_inner().base.transformers_only(),
            |state| state.base.transformers_only(),
        );
        Self {
            inner: Arc::new(Inner {
                store: Arc::clone(&inner.store),
                limiter: Arc::clone(&inner.limiter),
                objects: Mutex::new(ObjectState::new(base.clone())),
                object_writes: tokio::sync::Mutex::new(()),
                catalog: ArcSwap::from_pointee(base),
                transport: inner.transport.clone(),
                wake: Arc::clone(&inner.wake),
                disabled: Mutex::new(HashSet::new()),
                in_flight: Arc::new(Mutex::new(HashMap::new())),
                throttles: Throttles::default(),
                circuit_views: CircuitViews::default(),
                keyring: inner.keyring.clone(),
                rollup: Arc::clone(&inner.rollup),
                // The same observers: the alert observer only acts on the default tenant's
                // events, as before (a tenant relay raised no alerts).
                observers: inner.observers.clone(),
                // Agents authenticate in the default tenant only: a tenant's agent
                // destinations never reach the default tenant's agents (they stay offline).
                agents: Default::default(),
                write_health: Arc::clone(&inner.write_health),
                tenant,
                tenants: Default::default(),
            }),
        }
    }

    fn disabled(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.inner
            .disabled
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// One attempt in flight to a destination; counted out when dropped.
#[derive(Debug)]
pub(crate) struct InFlightSlot {
    counts: Arc<Mutex<HashMap<String, usize>>>,
    destination: String,
}

impl Drop for InFlightSlot {
    fn drop(&mut self) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(count) = counts.get_mut(&self.destination) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.destination);
            }
        }
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
    alerts: Option<AlertConfig>,
    #[cfg(feature = "opentelemetry")]
    tracer: Option<opentelemetry::global::BoxedTracer>,
    observers: Vec<Arc<dyn Observer>>,
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

    /// The keys that seal destination credentials saved with
    /// [`Relay::save_destination`] (see [`credentials`](crate::control::credentials)).
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

    /// Validates the configuration (names, and every HTTP destination's URL against the SSRF
    /// guard) and builds the relay.
    pub fn build(self) -> Result<Relay, BuildError> {
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
        )?;
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
        let tenant = crate::model::ids::TenantId::default();
        let embedders = self.observers;
        Ok(Relay {
            inner: Arc::new_cyclic(|weak| {
                if let Some(config) = alerts {
                    let sink = Arc::new(WeakRelay(weak.clone()));
                    observers.push(Arc::new(AlertObserver::new(config, sink, tenant.clone())));
                }
                observers.extend(embedders);
                Inner {
                    store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
                    limiter: self
                        .limiter
                        .unwrap_or_else(|| Arc::new(SlidingWindowLimiter::new())),
                    objects: Mutex::new(ObjectState::new(catalog.clone())),
                    object_writes: tokio::sync::Mutex::new(()),
                    catalog: ArcSwap::from_pointee(catalog),
                    transport,
                    wake: Arc::new(Notify::new()),
                    disabled: Mutex::new(HashSet::new()),
                    in_flight: Arc::new(Mutex::new(HashMap::new())),
                    throttles: Throttles::default(),
                    circuit_views: CircuitViews::default(),
                    keyring: self.keyring.map(Arc::new),
                    rollup,
                    observers: Observers::new(observers),
                    agents: Default::default(),
                    write_health: Default::default(),
                    tenant,
                    tenants: Default::default(),
                }
            }),
        })
    }
}
