//! [`Relay`]: the pipeline assembled from a store, a catalog and a limiter; built by
//! [`RelayBuilder`](crate::RelayBuilder).

pub(crate) mod background;
pub(crate) mod builder;
mod tenant;

use std::fmt;
use std::sync::{Arc, Weak};

use arc_swap::ArcSwapOption;
use tokio::sync::Notify;

use crate::catalog::Catalog;
use crate::control::alert::observer::AlertSink;
use crate::control::credentials::Keyring;
use crate::control::manage::ObjectState;
use crate::control::readiness::{NotReady, WriteHealth};
use crate::control::tenancy::gate::TenantGate;
use crate::control::tenancy::registry::TenantRelays;
use crate::deliver::circuit_view::CircuitViews;
use crate::deliver::guard::AddressGuard;
use crate::deliver::http::HttpTransport;
use crate::deliver::node_leases::NodeLeases;
use crate::deliver::throttle::Throttles;
use crate::ingest::limit::{RateLimit, RateLimiter};
use crate::ingest::sig_failure::cap::FailureCap;
use crate::model::ids::NodeId;
use crate::observe::Observers;
use crate::store::{InsertOutcome, NewEvent, Store, StoreError};

pub(crate) use tenant::{InFlightSlot, TenantState};

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
    pub(super) shared: Arc<Shared>,
    pub(super) tenant: Arc<TenantState>,
}

/// What every tenant's handles share: the store, the limiter, the outbound client, the
/// workers' wake-ups, the keyring, the observers and the other tenants' state.
pub(super) struct Shared {
    pub(super) store: Arc<dyn Store>,
    pub(super) limiter: Arc<dyn RateLimiter>,
    pub(super) transport: HttpTransport,
    pub(super) wake: Arc<Notify>,
    pub(super) keyring: Option<Arc<Keyring>>,
    pub(super) rollup: Arc<crate::control::admin::rollup::Rollup>,
    /// What observes the pipeline.
    pub(super) observers: Observers,
    /// So every tenant's writes count for readiness.
    pub(super) write_health: Arc<WriteHealth>,
    /// The state of the tenants other than the built relay's (see [`crate::control::tenancy`]).
    pub(super) tenants: TenantRelays<Arc<TenantState>>,
    /// The identity on this node's leases, and whether its previous life's were reclaimed.
    pub(super) node_leases: NodeLeases,
    /// How many refused signatures of each source are stored per minute, and the count.
    pub(super) sig_failures: (u32, FailureCap),
    /// The per-client-address ingest rate limit, if any.
    pub(super) client_limit: Option<RateLimit>,
    /// Failed logins per client address.
    pub(super) client_lockouts: crate::control::admin::lockout::ClientLockouts,
    /// The agents connected to this process, of every tenant.
    pub(super) agents: crate::control::agent::AgentHub,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("store", &self.shared.store)
            .field("tenant", &self.tenant.id)
            .finish_non_exhaustive()
    }
}

/// A [`Relay`] that does not keep it alive (what its own observers hold).
#[derive(Clone)]
pub(crate) struct WeakRelay {
    pub(super) shared: Weak<Shared>,
    pub(super) tenant: Weak<TenantState>,
}

impl WeakRelay {
    /// The relay, unless it is gone.
    pub(crate) fn upgrade(&self) -> Option<Relay> {
        Some(Relay {
            shared: self.shared.upgrade()?,
            tenant: self.tenant.upgrade()?,
        })
    }
}

#[async_trait::async_trait]
impl AlertSink for WeakRelay {
    fn is_alive(&self) -> bool {
        self.shared.strong_count() > 0
    }

    fn disable_destination(&self, destination: &str, reason: String) {
        if let Some(relay) = self.upgrade() {
            relay.hold_destination(crate::store::CHANGED_BY_BREAKER, destination, reason);
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
        WeakRelay {
            shared: Arc::downgrade(&self.shared),
            tenant: Arc::downgrade(&self.tenant),
        }
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.tenant.catalog.load_full()
    }

    /// Makes `catalog` the live one.
    pub(crate) fn replace_catalog(&self, catalog: Catalog) {
        self.tenant.catalog.store(Arc::new(catalog));
    }

    /// The configured catalog and the stored objects (see [`crate::control::manage`]).
    pub(crate) fn object_state(&self) -> std::sync::MutexGuard<'_, ObjectState> {
        self.tenant.objects()
    }

    /// Held while an admin change of sources, destinations or routes is checked, stored and
    /// applied, so changes on this node apply one at a time.
    pub(crate) async fn object_write_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.tenant.object_writes.lock().await
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.store
    }

    /// The stable identity recorded on the leases this relay's workers take (see
    /// [`RelayBuilder::node_id`](crate::RelayBuilder::node_id)), if it has one.
    pub fn node_id(&self) -> Option<&NodeId> {
        self.shared.node_leases.node()
    }

    pub(crate) fn node_leases(&self) -> &NodeLeases {
        &self.shared.node_leases
    }

    /// The records of refused signatures stored per source and minute, and their count.
    pub(crate) fn sig_failure_cap(&self) -> (u32, &FailureCap) {
        (self.shared.sig_failures.0, &self.shared.sig_failures.1)
    }

    /// The per-client-address ingest rate limit, if any.
    pub(crate) fn client_limit(&self) -> Option<RateLimit> {
        self.shared.client_limit
    }

    /// Failed logins per client address.
    pub(crate) fn client_lockouts(&self) -> &crate::control::admin::lockout::ClientLockouts {
        &self.shared.client_lockouts
    }

    pub(crate) fn limiter(&self) -> &dyn RateLimiter {
        self.shared.limiter.as_ref()
    }

    pub(crate) fn transport(&self) -> &HttpTransport {
        &self.shared.transport
    }

    /// Wakes idle delivery workers (new deliveries are due).
    pub(crate) fn wake_workers(&self) {
        self.shared.wake.notify_waiters();
    }

    /// Wakes the workers after `delay`, when a deferred delivery comes due, so it is leased on
    /// time rather than at the next poll. The timer does not keep the relay alive.
    pub(crate) fn wake_workers_after(&self, delay: std::time::Duration) {
        let wake = Arc::downgrade(&self.shared.wake);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(wake) = wake.upgrade() {
                wake.notify_waiters();
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

    /// Commits `new` (one store operation: the event, its dedup entry, its deliveries),
    /// records the outcome for readiness, and wakes the workers when new deliveries are due.
    /// What ingest and publishing share.
    pub(crate) async fn commit_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        let has_deliveries = !new.deliveries.is_empty();
        let inserted = self.store().insert_event(new).await;
        self.write_health()
            .record(inserted.as_ref().map(|_| ()).map_err(|e| e as _));
        if has_deliveries && matches!(inserted, Ok(InsertOutcome::Inserted)) {
            self.wake_workers();
        }
        inserted
    }

    /// The outcome of the store's last write, for [`Relay::readiness`].
    pub(crate) fn write_health(&self) -> &WriteHealth {
        &self.shared.write_health
    }

    pub(crate) fn wake(&self) -> &Notify {
        &self.shared.wake
    }

    /// Pauses a destination in this process only: its deliveries wait (they are not
    /// attempted and not lost) until [`Relay::enable_destination`]. To pause it on every node
    /// and across restarts, store the state with
    /// [`Objects::set_enabled`](crate::control::manage::Objects::set_enabled) (a 410 Gone
    /// answer and the circuit breaker's alert do so).
    pub fn disable_destination(&self, name: &str) {
        self.tenant.disabled().insert(name.to_owned());
    }

    /// Resumes a paused destination.
    pub fn enable_destination(&self, name: &str) {
        self.tenant.disabled().remove(name);
        self.wake_workers();
    }

    /// Whether a destination is paused.
    pub fn is_destination_disabled(&self, name: &str) -> bool {
        self.tenant.disabled().contains(name)
    }

    /// When this tenant's stored pauses were last read again for a leased delivery of a
    /// destination this node holds paused.
    pub(crate) fn pause_reread(&self) -> &tokio::sync::Mutex<Option<std::time::Instant>> {
        &self.tenant.pause_reread
    }

    /// The keyring sealing saved credentials, if one was given.
    pub(crate) fn keyring(&self) -> Option<&Arc<Keyring>> {
        self.shared.keyring.as_ref()
    }

    /// The address guard outbound deliveries pass.
    pub fn guard(&self) -> &AddressGuard {
        self.shared.transport.resolver().guard()
    }

    /// A slot among the attempts in flight to `destination` in this relay's tenant (capped at
    /// `cap`), if one is free.
    pub(crate) fn in_flight_slot(&self, destination: &str, cap: usize) -> Option<InFlightSlot> {
        self.tenant.in_flight_slot(destination, cap)
    }

    /// The [agents](crate::control::agent) connected to this process, of every tenant.
    pub(crate) fn agent_hub(&self) -> &crate::control::agent::AgentHub {
        &self.shared.agents
    }

    /// This relay's tenant's agent `name`, as the hub and the lease query know it.
    pub(crate) fn held_agent(&self, name: &str) -> crate::store::HeldAgent {
        crate::store::HeldAgent::new(self.tenant_id().clone(), name)
    }

    pub(crate) fn throttles(&self) -> &Throttles {
        &self.tenant.throttles
    }

    pub(crate) fn circuit_views(&self) -> &CircuitViews {
        &self.tenant.circuit_views
    }

    pub(crate) fn rollup(&self) -> &crate::control::admin::rollup::Rollup {
        &self.shared.rollup
    }

    /// What observes the pipeline (see [`crate::observe`]).
    pub(crate) fn observers(&self) -> &Observers {
        &self.shared.observers
    }

    /// The tenant whose catalog this relay serves (`default` for the one built; see
    /// [`Relay::tenant_relay`]).
    pub fn tenant_id(&self) -> &crate::model::ids::TenantId {
        &self.tenant.id
    }

    /// The other tenants' state.
    pub(crate) fn tenant_relays(&self) -> &TenantRelays<Arc<TenantState>> {
        &self.shared.tenants
    }

    /// This relay's tenant's limits.
    pub(crate) fn tenant_limits_gate(&self) -> &ArcSwapOption<TenantGate> {
        &self.tenant.gate
    }

    /// The handle serving `tenant`'s state, sharing everything else with this one.
    pub(crate) fn with_tenant(&self, tenant: Arc<TenantState>) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            tenant,
        }
    }

    /// A new tenant's state: the configured transformers and nothing else yet (no objects,
    /// pauses, attempts in flight, throttles or circuit views).
    pub(crate) fn new_tenant(&self, tenant: crate::model::ids::TenantId) -> Arc<TenantState> {
        let base = self.object_state().base.transformers_only();
        Arc::new(TenantState::new(tenant, base))
    }
}
