//! What the admin API shows of the live sources, destinations and routes: never a secret.

use serde::Serialize;

use super::seal::{ObjectSpec, open};
use super::state::Disabled;
use super::{ObjectKind, ObjectRecord};
use crate::catalog::Catalog;
use crate::control::definition::{DestinationSpec, RouteSpec, SecretSpec, SourceSpec};
use crate::control::manage::Objects;
use crate::deliver::destination::{Destination, Target};
use crate::ingest::source::Source;
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::route::{ConditionSpec, Route};

/// Where an object is defined, and so where it is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ManagedBy {
    /// The configuration file or the embedding app's code: read-only in the admin API (but
    /// destinations can be paused).
    Config,
    /// The admin API: stored, changed through the API.
    Api,
}

/// When an object created through the API was created and last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamps {
    /// Created at.
    pub created_at: Timestamp,
    /// Last changed at.
    pub updated_at: Timestamp,
}

/// A verification secret as listed: whether and when it expires, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInfo {
    /// When it stops verifying (RFC 3339 as written), `None` for never.
    pub expires_at: Option<String>,
}

/// A source as listed.
#[derive(Debug, Clone)]
pub struct SourceView {
    /// Its name (`POST /webhooks/{name}`).
    pub name: String,
    /// Where it is defined.
    pub managed_by: ManagedBy,
    /// Disabled sources answer ingest as unknown (404).
    pub enabled: bool,
    /// Who or what disabled it, why and when (from its stored state).
    pub disabled: Option<Disabled>,
    /// The signature scheme, when known.
    pub scheme: Option<String>,
    /// Body limit.
    pub max_body_bytes: usize,
    /// Ingest rate limit per minute.
    pub rate_limit_per_minute: Option<u32>,
    /// Dedup window in seconds.
    pub dedup_window_secs: u64,
    /// Its secrets (API-managed sources only), without values.
    pub secrets: Vec<SecretInfo>,
    /// The spec to update it with, secrets left out (API-managed sources only).
    pub spec: Option<SourceSpec>,
    /// Creation and change times (API-managed sources only).
    pub stamps: Option<Stamps>,
}

/// A destination as listed.
#[derive(Debug, Clone)]
pub struct DestinationView {
    /// Its name.
    pub name: String,
    /// Where it is defined.
    pub managed_by: ManagedBy,
    /// `false` while paused (by an operator, a 410 Gone answer, or an alert).
    pub enabled: bool,
    /// Who or what paused it, why and when (from its stored state).
    pub disabled: Option<Disabled>,
    /// The endpoint, for HTTP destinations.
    pub url: Option<String>,
    /// Whether deliveries are signed (Standard Webhooks).
    pub signed: bool,
    /// The spec to update it with, credentials left out (API-managed ones only).
    pub spec: Option<DestinationSpec>,
    /// Creation and change times (API-managed ones only).
    pub stamps: Option<Stamps>,
}

/// A route as listed.
#[derive(Debug, Clone)]
pub struct RouteView {
    /// Its name.
    pub name: String,
    /// Where it is defined.
    pub managed_by: ManagedBy,
    /// Inactive routes are skipped.
    pub active: bool,
    /// Who or what disabled it, why and when (from its stored state).
    pub disabled: Option<Disabled>,
    /// The only source it applies to.
    pub source: Option<String>,
    /// Event-type globs.
    pub event_types: Vec<String>,
    /// Payload conditions, all of which must hold.
    pub conditions: Vec<ConditionSpec>,
    /// Where matching events go.
    pub destinations: Vec<String>,
    /// The transformer (`None`: the body as received).
    pub transformer: Option<String>,
    /// Higher first.
    pub priority: i32,
    /// The spec to update it with (API-managed ones only).
    pub spec: Option<RouteSpec>,
    /// Creation and change times (API-managed ones only).
    pub stamps: Option<Stamps>,
}

/// The stored spec of a live API-managed object, opened, with its stamps.
fn stored<S: ObjectSpec>(
    relay: &Relay,
    records: &[ObjectRecord],
    name: &str,
) -> Option<(S, Stamps)> {
    let record = (records.iter()).find(|r| r.kind == S::KIND && r.name == name)?;
    let spec = open::<S>(
        &record.spec,
        relay.tenant_id(),
        relay.keyring().map(AsRef::as_ref),
    )
    .ok()?;
    let stamps = Stamps {
        created_at: record.created_at,
        updated_at: record.updated_at,
    };
    Some((spec, stamps))
}

fn managed(configured: bool) -> ManagedBy {
    if configured {
        ManagedBy::Config
    } else {
        ManagedBy::Api
    }
}

impl Relay {
    fn views_context(&self) -> (std::sync::Arc<Catalog>, Catalog, Vec<ObjectRecord>) {
        let state = self.object_state();
        (self.catalog(), state.base.clone(), state.records.clone())
    }

    fn describe_destination(
        &self,
        destination: &Destination,
        configured: bool,
        stored: Option<(DestinationSpec, Stamps)>,
    ) -> DestinationView {
        let (spec, stamps) = stored.map_or((None, None), |(mut spec, stamps)| {
            spec.signing_secret = None;
            spec.auth_header = None;
            (Some(spec), Some(stamps))
        });
        DestinationView {
            name: destination.name().to_owned(),
            managed_by: managed(configured),
            enabled: !self.is_destination_disabled(destination.name()),
            disabled: self.disabled_by(ObjectKind::Destination, destination.name()),
            url: match destination.target() {
                Target::Http { url, .. } => Some(url.to_string()),
                _ => None,
            },
            signed: destination.secret().is_some(),
            spec,
            stamps,
        }
    }
}

impl Objects<'_> {
    /// Every live source, by name, with how it is managed.
    pub fn source_views(&self) -> Vec<SourceView> {
        let (catalog, base, records) = self.relay.views_context();
        (catalog.sources().into_iter())
            .map(|source| {
                let name = source.name();
                let configured = base.sources().iter().any(|s| s.name() == name);
                let stored = (!configured)
                    .then(|| stored::<SourceSpec>(self.relay, &records, name))
                    .flatten();
                let disabled = self.relay.disabled_by(ObjectKind::Source, name);
                source_view(&catalog, source.as_ref(), configured, stored, disabled)
            })
            .collect()
    }

    /// Every live destination, by name, with how it is managed.
    pub fn destination_views(&self) -> Vec<DestinationView> {
        let (catalog, base, records) = self.relay.views_context();
        (catalog.destinations().into_iter())
            .map(|destination| {
                let name = destination.name();
                let configured = base.destination(name).is_some();
                let stored = (!configured)
                    .then(|| stored::<DestinationSpec>(self.relay, &records, name))
                    .flatten();
                self.relay
                    .describe_destination(destination, configured, stored)
            })
            .collect()
    }

    /// Every live route, in evaluation order, with how it is managed.
    pub fn route_views(&self) -> Vec<RouteView> {
        let (catalog, base, records) = self.relay.views_context();
        (catalog.routes().routes().iter())
            .map(|route| {
                let name = route.name();
                let configured = base.routes().get(name).is_some();
                let stored = (!configured)
                    .then(|| stored::<RouteSpec>(self.relay, &records, name))
                    .flatten();
                let disabled = self.relay.disabled_by(ObjectKind::Route, name);
                let active = route.is_active() && !catalog.routes().is_disabled(name);
                route_view(route.as_ref(), configured, stored, (active, disabled))
            })
            .collect()
    }
}

fn source_view(
    catalog: &Catalog,
    source: &dyn Source,
    configured: bool,
    stored: Option<(SourceSpec, Stamps)>,
    disabled: Option<Disabled>,
) -> SourceView {
    let (secrets, spec, stamps) = stored.map_or((Vec::new(), None, None), |(mut spec, stamps)| {
        let secrets = (spec.secrets.iter())
            .map(|s| SecretInfo {
                expires_at: match s {
                    SecretSpec::Plain(_) => None,
                    SecretSpec::Expiring(e) => Some(e.expires_at.clone()),
                },
            })
            .collect();
        spec.secrets.clear();
        (secrets, Some(spec), Some(stamps))
    });
    SourceView {
        name: source.name().to_owned(),
        managed_by: managed(configured),
        enabled: !catalog.is_source_disabled(source.name()),
        disabled,
        scheme: source.scheme_name().map(str::to_owned),
        max_body_bytes: source.max_body_bytes(),
        rate_limit_per_minute: source.rate_limit().map(|l| l.per_minute),
        dedup_window_secs: source.dedup_window().as_secs(),
        secrets,
        spec,
        stamps,
    }
}

fn route_view(
    route: &dyn Route,
    configured: bool,
    stored: Option<(RouteSpec, Stamps)>,
    (active, disabled): (bool, Option<Disabled>),
) -> RouteView {
    let (spec, stamps) = stored.map_or((None, None), |(spec, stamps)| (Some(spec), Some(stamps)));
    RouteView {
        name: route.name().to_owned(),
        managed_by: managed(configured),
        active,
        disabled,
        source: route.source().map(str::to_owned),
        event_types: route.event_types(),
        conditions: route.explain(None).into_iter().map(|(c, _)| c).collect(),
        destinations: route.destinations().to_vec(),
        transformer: route.transformer().map(str::to_owned),
        priority: route.priority(),
        spec,
        stamps,
    }
}
