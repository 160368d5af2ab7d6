//! [`Stores`]: a [`Store`] composed of one part per capability.

mod delegate;
mod delegate_audit;
mod presence;

use std::sync::Arc;

use crate::store::memory::MemoryStore;
use crate::store::{
    AccessStore, AgentPresenceStore, AuditLog, CircuitStore, DeliveryQueue, EventIngest, EventLog,
    MetricStore, ObjectStateStore, ObjectStore, Refuse, Store, TenantStore,
};

/// A [`Store`] made of one part per capability: each operation goes to the part that
/// provides it. This is how a wrapper changes one capability and leaves the rest alone (the
/// Redis dedup cache replaces [`EventIngest`], shared circuits replace [`CircuitStore`]),
/// and how a backend that provides only the pipeline's two capabilities runs
/// ([`Stores::pipeline`]). Cheap to clone.
///
/// ```
/// use std::sync::Arc;
/// use relay_core::store::memory::MemoryStore;
/// use relay_core::store::{Store, Stores};
///
/// let durable = Arc::new(MemoryStore::new());
/// let circuits = Arc::new(MemoryStore::new()); // e.g. circuits shared through Redis
/// let store: Arc<dyn Store> = Arc::new(Stores::new(durable).with_circuits(circuits));
/// # let _ = store;
/// ```
#[derive(Clone, Debug)]
pub struct Stores {
    ingest: Arc<dyn EventIngest>,
    queue: Arc<dyn DeliveryQueue>,
    log: Arc<dyn EventLog>,
    circuits: Arc<dyn CircuitStore>,
    objects: Arc<dyn ObjectStore>,
    states: Arc<dyn ObjectStateStore>,
    access: Arc<dyn AccessStore>,
    audit: Arc<dyn AuditLog>,
    metrics: Arc<dyn MetricStore>,
    tenants: Arc<dyn TenantStore>,
    presence: Arc<dyn AgentPresenceStore>,
}

impl Stores {
    /// Every capability from one backend.
    pub fn new<S: Store + 'static>(store: Arc<S>) -> Self {
        let store: Arc<dyn Store> = store;
        Self::from_dyn(store)
    }

    /// Every capability from one backend already behind `dyn Store`.
    pub fn from_dyn(store: Arc<dyn Store>) -> Self {
        Self {
            ingest: store.clone(),
            queue: store.clone(),
            log: store.clone(),
            circuits: store.clone(),
            objects: store.clone(),
            states: store.clone(),
            access: store.clone(),
            audit: store.clone(),
            metrics: store.clone(),
            tenants: store.clone(),
            presence: store,
        }
    }

    /// The pipeline on a backend that provides only [`EventIngest`] and [`DeliveryQueue`]:
    /// events are ingested, deduplicated and delivered; circuit-breaker state, agent presence and the
    /// objects' enabled/disabled state are kept in this process (a [`MemoryStore`] each); every other capability answers
    /// [`StoreError::Unsupported`](crate::store::StoreError::Unsupported) (see
    /// [`Refuse::UNSUPPORTED`]), so the admin features that need one fail with that error. Add parts
    /// with the `with_*` methods.
    ///
    /// The shape of such a backend (here its rows are kept by a [`MemoryStore`]; a real one
    /// runs its own queries in each method; `tests/minimal_backend.rs` runs the pipeline on
    /// it):
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use async_trait::async_trait;
    /// use relay_core::model::ids::{EventId, NodeId, TenantId};
    /// use relay_core::store::memory::MemoryStore;
    /// use relay_core::store::*;
    /// use relay_core::model::time::Timestamp;
    ///
    /// #[derive(Debug, Default)]
    /// struct MyBackend { rows: MemoryStore }
    ///
    /// #[async_trait]
    /// impl EventIngest for MyBackend {
    ///     async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
    ///         self.rows.insert_event(new).await // one transaction: event, dedup key, deliveries
    ///     }
    ///     async fn ping(&self) -> Result<(), StoreError> { Ok(()) }
    /// }
    ///
    /// #[async_trait]
    /// impl DeliveryQueue for MyBackend {
    ///     async fn lease_due_as(&self, holder: Option<&NodeId>, agents: &[HeldAgent], now: Timestamp,
    ///         limit: usize, lease_for: Duration) -> Result<Vec<LeasedDelivery>, StoreError> {
    ///         self.rows.lease_due_as(holder, agents, now, limit, lease_for).await
    ///     }
    ///     async fn reclaim(&self, holder: &NodeId, now: Timestamp) -> Result<u64, StoreError> {
    ///         self.rows.reclaim(holder, now).await
    ///     }
    ///     async fn complete_attempt(&self, done: AttemptCompletion) -> Result<(), StoreError> {
    ///         self.rows.complete_attempt(done).await
    ///     }
    ///     async fn release(&self, lease: &Lease, due_at: Timestamp) -> Result<(), StoreError> {
    ///         self.rows.release(lease, due_at).await
    ///     }
    ///     async fn schedule(&self, t: &TenantId, e: EventId, plan: Vec<NewDelivery>, force: bool, now: Timestamp)
    ///         -> Result<ScheduleReport, StoreError> { self.rows.schedule(t, e, plan, force, now).await }
    ///     async fn redrive(&self, t: &TenantId, f: &DeadLetterFilter, now: Timestamp) -> Result<u64, StoreError> {
    ///         self.rows.redrive(t, f, now).await
    ///     }
    ///     async fn discard_dead_letters(&self, t: &TenantId, f: &DeadLetterFilter, now: Timestamp)
    ///         -> Result<u64, StoreError> { self.rows.discard_dead_letters(t, f, now).await }
    ///     async fn queue_depth(&self) -> Result<u64, StoreError> { self.rows.queue_depth().await }
    /// }
    ///
    /// let relay = relay_core::Relay::builder()
    ///     .store(Arc::new(Stores::pipeline(Arc::new(MyBackend::default()))))
    ///     .build()
    ///     .unwrap();
    /// # let _ = relay;
    /// ```
    pub fn pipeline<B>(backend: Arc<B>) -> Self
    where
        B: EventIngest + DeliveryQueue + 'static,
    {
        Self {
            ingest: backend.clone(),
            queue: backend.clone(),
            log: Arc::new(Refuse::UNSUPPORTED),
            circuits: Arc::new(MemoryStore::new()),
            objects: Arc::new(Refuse::UNSUPPORTED),
            states: Arc::new(MemoryStore::new()),
            access: Arc::new(Refuse::UNSUPPORTED),
            audit: Arc::new(Refuse::UNSUPPORTED),
            metrics: Arc::new(Refuse::UNSUPPORTED),
            tenants: Arc::new(Refuse::UNSUPPORTED),
            presence: Arc::new(MemoryStore::new()),
        }
    }

    /// Replaces event ingest (every other capability stays as it is).
    pub fn with_ingest(mut self, ingest: Arc<dyn EventIngest>) -> Self {
        self.ingest = ingest;
        self
    }

    /// Replaces the delivery queue (every other capability stays as it is).
    pub fn with_queue(mut self, queue: Arc<dyn DeliveryQueue>) -> Self {
        self.queue = queue;
        self
    }

    /// Replaces the event log (every other capability stays as it is).
    pub fn with_log(mut self, log: Arc<dyn EventLog>) -> Self {
        self.log = log;
        self
    }

    /// Replaces circuit state (every other capability stays as it is).
    pub fn with_circuits(mut self, circuits: Arc<dyn CircuitStore>) -> Self {
        self.circuits = circuits;
        self
    }

    /// Replaces managed objects (every other capability stays as it is).
    pub fn with_objects(mut self, objects: Arc<dyn ObjectStore>) -> Self {
        self.objects = objects;
        self
    }

    /// Replaces the objects' enabled/disabled state (every other capability stays as it is).
    pub fn with_states(mut self, states: Arc<dyn ObjectStateStore>) -> Self {
        self.states = states;
        self
    }

    /// Replaces access (API keys, users, sessions) (every other capability stays as it is).
    pub fn with_access(mut self, access: Arc<dyn AccessStore>) -> Self {
        self.access = access;
        self
    }

    /// Replaces the audit log (every other capability stays as it is).
    pub fn with_audit(mut self, audit: Arc<dyn AuditLog>) -> Self {
        self.audit = audit;
        self
    }

    /// Replaces metric points (every other capability stays as it is).
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricStore>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Replaces agent presence (every other capability stays as it is).
    pub fn with_presence(mut self, presence: Arc<dyn AgentPresenceStore>) -> Self {
        self.presence = presence;
        self
    }

    /// Replaces tenants (every other capability stays as it is).
    pub fn with_tenants(mut self, tenants: Arc<dyn TenantStore>) -> Self {
        self.tenants = tenants;
        self
    }

    /// The part that provides event ingest.
    pub fn ingest(&self) -> &Arc<dyn EventIngest> {
        &self.ingest
    }

    /// The part that provides the delivery queue.
    pub fn queue(&self) -> &Arc<dyn DeliveryQueue> {
        &self.queue
    }

    /// The part that provides the event log.
    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    /// The part that provides circuit state.
    pub fn circuits(&self) -> &Arc<dyn CircuitStore> {
        &self.circuits
    }

    /// The part that provides managed objects.
    pub fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }

    /// The part that provides the objects' enabled/disabled state.
    pub fn states(&self) -> &Arc<dyn ObjectStateStore> {
        &self.states
    }

    /// The part that provides access (API keys, users, sessions).
    pub fn access(&self) -> &Arc<dyn AccessStore> {
        &self.access
    }

    /// The part that provides the audit log.
    pub fn audit(&self) -> &Arc<dyn AuditLog> {
        &self.audit
    }

    /// The part that provides metric points.
    pub fn metrics(&self) -> &Arc<dyn MetricStore> {
        &self.metrics
    }

    /// The part that provides agent presence.
    pub fn presence(&self) -> &Arc<dyn AgentPresenceStore> {
        &self.presence
    }

    /// The part that provides tenants.
    pub fn tenants(&self) -> &Arc<dyn TenantStore> {
        &self.tenants
    }
}
