//! [`Relay`]: the pipeline assembled from a store, a catalog and a limiter.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tokio::sync::Notify;

use crate::catalog::{Catalog, CatalogError};
use crate::deliver::HttpTransport;
use crate::destination::Destination;
use crate::limit::{RateLimiter, SlidingWindowLimiter};
use crate::memory::MemoryStore;
use crate::route::Route;
use crate::source::Source;
use crate::store::Store;
use crate::transform::Transformer;

/// The webhook gateway pipeline: ingest, delivery worker, replay. Cheap to clone (shared state).
///
/// ```
/// use relay_core::{Relay, route::EventRoute, source::WebhookSource, signature::GitHub};
/// use relay_core::destination::{Destination, HandlerError, Message};
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
    transport: HttpTransport,
    wake: Notify,
    disabled: Mutex<HashSet<String>>,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Starts building a relay.
    pub fn builder() -> RelayBuilder {
        RelayBuilder::default()
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.inner.catalog.load_full()
    }

    /// Replaces the catalog (sources, destinations, routes, transformers) atomically; requests
    /// and deliveries in flight finish with the catalog they started with.
    pub fn swap_catalog(&self, catalog: Catalog) {
        self.inner.catalog.store(Arc::new(catalog));
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

    fn disabled(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.inner
            .disabled
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Why a relay could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The configuration refers to missing or repeated names.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The outbound HTTP client could not be created.
    #[error("outbound HTTP client: {0}")]
    Transport(#[source] reqwest::Error),
}

/// Builds a [`Relay`]. Defaults: the in-memory store and the in-process rate limiter.
#[derive(Default)]
pub struct RelayBuilder {
    store: Option<Arc<dyn Store>>,
    limiter: Option<Arc<dyn RateLimiter>>,
    sources: Vec<Arc<dyn Source>>,
    destinations: Vec<Destination>,
    routes: Vec<Arc<dyn Route>>,
    transformers: Vec<(String, Arc<dyn Transformer>)>,
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

    /// Validates the configuration and builds the relay.
    pub fn build(self) -> Result<Relay, BuildError> {
        let catalog = Catalog::new(
            self.sources,
            self.destinations,
            self.routes,
            self.transformers,
        )?;
        Ok(Relay {
            inner: Arc::new(Inner {
                store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
                limiter: self
                    .limiter
                    .unwrap_or_else(|| Arc::new(SlidingWindowLimiter::new())),
                catalog: ArcSwap::from_pointee(catalog),
                transport: HttpTransport::new().map_err(BuildError::Transport)?,
                wake: Notify::new(),
                disabled: Mutex::new(HashSet::new()),
            }),
        })
    }
}
