//! [`Relay`]: the pipeline assembled from a store, a catalog and a limiter; built by
//! [`RelayBuilder`](crate::RelayBuilder).

pub(crate) mod builder;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use arc_swap::ArcSwap;
use tokio::sync::Notify;

use crate::catalog::Catalog;
use crate::control::alert::observer::AlertSink;
use crate::control::credentials::Keyring;
use crate::control::manage::ObjectState;
use crate::control::readiness::{NotReady, WriteHealth};
use crate::control::tenancy::registry::TenantRelays;
use crate::deliver::circuit_view::CircuitViews;
use crate::deliver::guard::AddressGuard;
use crate::deliver::http::HttpTransport;
use crate::deliver::throttle::Throttles;
use crate::ingest::limit::RateLimiter;
use crate::observe::Observers;
use crate::store::{InsertOutcome, NewEvent, Store, StoreError};

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
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) store: Arc<dyn Store>,
    pub(super) limiter: Arc<dyn RateLimiter>,
    pub(super) catalog: ArcSwap<Catalog>,
    pub(super) objects: Mutex<ObjectState>,
    pub(super) object_writes: tokio::sync::Mutex<()>,
    pub(super) transport: HttpTransport,
    pub(super) wake: Arc<Notify>,
    pub(super) disabled: Mutex<HashSet<String>>,
    pub(super) in_flight: Arc<Mutex<HashMap<String, usize>>>,
    pub(super) throttles: Throttles,
    pub(super) circuit_views: CircuitViews,
    pub(super) keyring: Option<Arc<Keyring>>,
    pub(super) rollup: Arc<crate::control::admin::rollup::Rollup>,
    /// What observes the pipeline (shared with the tenant relays).
    pub(super) observers: Observers,
    pub(super) agents: crate::control::agent::AgentHub,
    /// Shared with the tenant relays, so their writes count for readiness too.
    pub(super) write_health: Arc<WriteHealth>,
    /// The tenant this relay's catalog belongs to (`default` for the one built).
    pub(super) tenant: crate::model::ids::TenantId,
    /// The relays of the other tenants (see [`crate::control::tenancy`]); empty in those.
    pub(super) tenants: TenantRelays<Relay>,
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
pub(crate) struct WeakRelay(pub(super) Weak<Inner>);

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
