//! The configured sources, destinations, routes and transformers, validated together.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::deliver::destination::Destination;
use crate::ingest::source::{PUBLISH_SOURCE, Source};
use crate::model::ids::DeliveryId;
use crate::publish::event_type::{EventType, EventTypes};
use crate::route::{Route, RouteInput, RouteTable};
use crate::store::NewDelivery;
use crate::transform::{Transformer, builtin_transformers};

/// The name of the built-in transformer that sends the body as received.
pub const IDENTITY: &str = "identity";

/// A configuration that refers to something that does not exist, or names something twice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// Two sources, destinations, routes, transformers or event types share a name.
    #[error("duplicate {kind} name {name:?}")]
    Duplicate {
        /// `source`, `destination`, `route`, `transformer` or `event type`.
        kind: &'static str,
        /// The repeated name.
        name: String,
    },
    /// A route names a source, destination or transformer that does not exist.
    #[error("route {route:?} names unknown {kind} {name:?}")]
    Dangling {
        /// The route.
        route: String,
        /// `source`, `destination` or `transformer`.
        kind: &'static str,
        /// The missing name.
        name: String,
    },
}

/// Everything the pipeline looks up by name. Immutable once built; a new configuration is a
/// new catalog swapped in whole.
#[derive(Debug, Clone)]
pub struct Catalog {
    sources: HashMap<String, Arc<dyn Source>>,
    destinations: HashMap<String, Destination>,
    routes: RouteTable,
    transformers: HashMap<String, Arc<dyn Transformer>>,
    event_types: EventTypes,
    disabled_sources: HashSet<String>,
}

impl Catalog {
    /// Validates and assembles a catalog.
    pub fn new(
        sources: Vec<Arc<dyn Source>>,
        destinations: Vec<Destination>,
        routes: Vec<Arc<dyn Route>>,
        transformers: Vec<(String, Arc<dyn Transformer>)>,
    ) -> Result<Self, CatalogError> {
        fn index<T>(
            kind: &'static str,
            items: impl IntoIterator<Item = (String, T)>,
        ) -> Result<HashMap<String, T>, CatalogError> {
            let mut map = HashMap::new();
            for (name, item) in items {
                if map.insert(name.clone(), item).is_some() {
                    return Err(CatalogError::Duplicate { kind, name });
                }
            }
            Ok(map)
        }
        let sources = index(
            "source",
            sources.into_iter().map(|s| (s.name().to_owned(), s)),
        )?;
        let destinations = index(
            "destination",
            destinations.into_iter().map(|d| (d.name().to_owned(), d)),
        )?;
        let mut transformers = index("transformer", transformers)?;
        for (name, builtin) in builtin_transformers() {
            transformers.entry(name).or_insert(builtin);
        }
        index("route", routes.iter().map(|r| (r.name().to_owned(), ())))?;
        for route in &routes {
            let dangling = |kind, name: &str| CatalogError::Dangling {
                route: route.name().to_owned(),
                kind,
                name: name.to_owned(),
            };
            if let Some(source) = route.source()
                && !sources.contains_key(source)
                && source != PUBLISH_SOURCE
            {
                return Err(dangling("source", source));
            }
            if let Some(missing) = route
                .destinations()
                .iter()
                .find(|d| !destinations.contains_key(*d))
            {
                return Err(dangling("destination", missing));
            }
            if let Some(name) = route.transformer()
                && !transformers.contains_key(name)
            {
                return Err(dangling("transformer", name));
            }
        }
        Ok(Self {
            sources,
            destinations,
            routes: RouteTable::new(routes),
            transformers,
            event_types: EventTypes::default(),
            disabled_sources: HashSet::new(),
        })
    }

    /// This catalog with more sources, destinations and routes (checked together with the
    /// ones it has), and the sources in `disabled` answering as unknown at ingest.
    pub fn extended(
        &self,
        sources: Vec<Arc<dyn Source>>,
        destinations: Vec<Destination>,
        routes: Vec<Arc<dyn Route>>,
        disabled: HashSet<String>,
    ) -> Result<Self, CatalogError> {
        let mut catalog = Self::new(
            self.sources.values().cloned().chain(sources).collect(),
            self.destinations
                .values()
                .cloned()
                .chain(destinations)
                .collect(),
            self.routes.routes().iter().cloned().chain(routes).collect(),
            (self.transformers.iter())
                .map(|(name, t)| (name.clone(), Arc::clone(t)))
                .collect(),
        )?;
        catalog.disabled_sources = disabled;
        catalog.event_types = self.event_types.clone();
        Ok(catalog)
    }

    /// A catalog with this one's transformers and event types and nothing else: the
    /// configured part of another tenant's catalog (transformers are code and event types
    /// the app's vocabulary, shared by every tenant).
    pub fn transformers_only(&self) -> Self {
        Self {
            sources: HashMap::new(),
            destinations: HashMap::new(),
            routes: RouteTable::new(Vec::new()),
            transformers: self.transformers.clone(),
            event_types: self.event_types.clone(),
            disabled_sources: HashSet::new(),
        }
    }

    /// This catalog with `types` as its event types (see [`EventType`]).
    pub fn with_event_types(mut self, types: Vec<EventType>) -> Result<Self, CatalogError> {
        self.event_types = EventTypes::new(types).map_err(|name| CatalogError::Duplicate {
            kind: "event type",
            name,
        })?;
        Ok(self)
    }

    /// The event type called `name`, if it is defined.
    pub fn event_type(&self, name: &str) -> Option<&EventType> {
        self.event_types.get(name)
    }

    /// Every event type, by name.
    pub fn event_types(&self) -> Vec<&EventType> {
        self.event_types.sorted()
    }

    /// This catalog with the sources in `sources` disabled too (they answer ingest as
    /// unknown) and the routes in `routes` disabled (they match nothing): the objects' stored
    /// state applied over the configuration.
    pub fn with_disabled(
        mut self,
        sources: impl IntoIterator<Item = String>,
        routes: HashSet<String>,
    ) -> Self {
        self.disabled_sources.extend(sources);
        self.routes = self.routes.with_disabled(routes);
        self
    }

    /// Whether the source exists and is disabled.
    pub fn is_source_disabled(&self, name: &str) -> bool {
        self.disabled_sources.contains(name)
    }

    /// Whether a transformer of this name exists (built-in ones included).
    pub fn has_transformer(&self, name: &str) -> bool {
        self.transformers.contains_key(name)
    }

    /// The transformers' names, sorted.
    pub fn transformer_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.transformers.keys().cloned().collect();
        names.sort();
        names
    }

    /// This catalog with `destination` added, or replacing the one of the same name.
    pub fn with_destination(&self, destination: Destination) -> Self {
        let mut catalog = self.clone();
        catalog
            .destinations
            .insert(destination.name().to_owned(), destination);
        catalog
    }

    /// An enabled source by name (a disabled one answers as unknown).
    pub fn source(&self, name: &str) -> Option<&Arc<dyn Source>> {
        self.sources
            .get(name)
            .filter(|_| !self.disabled_sources.contains(name))
    }

    /// The source `POST /webhooks/{name}` reaches: an enabled source that
    /// [accepts requests](Source::accepts_requests).
    pub fn inbound_source(&self, name: &str) -> Option<&Arc<dyn Source>> {
        self.source(name).filter(|source| source.accepts_requests())
    }

    /// Every source, disabled ones included, by name.
    pub fn sources(&self) -> Vec<&Arc<dyn Source>> {
        let mut all: Vec<_> = self.sources.values().collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    /// Every destination, by name.
    pub fn destinations(&self) -> Vec<&Destination> {
        let mut all: Vec<_> = self.destinations.values().collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    /// A destination by name.
    pub fn destination(&self, name: &str) -> Option<&Destination> {
        self.destinations.get(name)
    }

    /// The routes in evaluation order.
    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// The transformer a route uses (identity when it names none).
    pub fn transformer_for_route(&self, route: &str) -> Option<&Arc<dyn Transformer>> {
        let name = self
            .routes
            .get(route)
            .and_then(|r| r.transformer())
            .unwrap_or(IDENTITY);
        self.transformers.get(name)
    }

    /// The deliveries an event is planned to get: one per destination its matching routes
    /// name, each with its ordering key (the route's, else the destination's) when one is set
    /// and reads a value from the event.
    pub fn plan_deliveries(&self, input: &RouteInput<'_>) -> Vec<NewDelivery> {
        self.routes
            .plan(input)
            .into_iter()
            .map(|p| {
                let key = self
                    .routes
                    .get(&p.route)
                    .and_then(|r| r.ordering_key())
                    .or_else(|| {
                        self.destinations
                            .get(&p.destination)
                            .and_then(Destination::ordering_key)
                    });
                let agent = (self.destinations.get(&p.destination))
                    .and_then(Destination::agent_name)
                    .map(str::to_owned);
                NewDelivery {
                    id: DeliveryId::new(),
                    ordering: key.and_then(|k| k.read(input.headers, input.payload)),
                    destination: p.destination,
                    route: p.route,
                    agent,
                }
            })
            .collect()
    }

    /// The longest attempt timeout of any destination (leases must outlast attempts).
    pub fn longest_timeout(&self) -> Duration {
        self.destinations
            .values()
            .map(Destination::attempt_timeout)
            .max()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
