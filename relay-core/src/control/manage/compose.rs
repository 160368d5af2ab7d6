//! The live catalog: the configured one (from the builder) extended with the stored objects.

use std::collections::HashSet;
use std::sync::Arc;

use super::seal::{ObjectSpec, open};
use super::{ObjectKind, ObjectRecord};
use crate::catalog::{Catalog, CatalogError};
use crate::control::credentials::Keyring;
use crate::control::definition::{DestinationSpec, Names, Problem, RouteSpec, SourceSpec, literal};
use crate::deliver::destination::Destination;
use crate::deliver::guard::AddressGuard;
use crate::ingest::source::Source;
use crate::model::ids::TenantId;
use crate::route::Route;

/// A stored object left out of the live catalog, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its kind.
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// Why it is left out.
    pub reason: String,
}

/// The catalog the stored objects make with the configured one.
#[derive(Debug)]
pub(crate) struct Composed {
    pub catalog: Catalog,
    /// Objects that could not be used.
    pub skipped: Vec<Skipped>,
    /// Stored destinations that are disabled.
    pub paused: HashSet<String>,
}

/// What composing needs besides the records.
pub(crate) struct Context<'a> {
    pub base: &'a Catalog,
    pub tenant: &'a TenantId,
    pub keyring: Option<&'a Keyring>,
    pub guard: &'a AddressGuard,
}

struct Built {
    sources: Vec<Arc<dyn Source>>,
    destinations: Vec<Destination>,
    routes: Vec<(String, Arc<dyn Route>)>,
    disabled: HashSet<String>,
    paused: HashSet<String>,
    skipped: Vec<Skipped>,
}

impl Built {
    fn skip(&mut self, record: &ObjectRecord, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            kind: record.kind,
            name: record.name.clone(),
            reason: reason.into(),
        });
    }
}

fn problems_text(problems: &[Problem]) -> String {
    (problems.iter())
        .map(|p| format!("{}: {}", p.key.trim_start_matches('.'), p.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Names a stored route may refer to: the configured catalog's and the usable stored ones'.
struct Known<'a> {
    base: &'a Catalog,
    sources: HashSet<String>,
    destinations: HashSet<String>,
}

impl Names for Known<'_> {
    fn has_source(&self, name: &str) -> bool {
        self.sources.contains(name) || self.base.sources().iter().any(|s| s.name() == name)
    }

    fn has_destination(&self, name: &str) -> bool {
        self.destinations.contains(name) || self.base.destination(name).is_some()
    }

    fn transformers(&self) -> Vec<String> {
        self.base.transformer_names()
    }
}

/// Builds the live catalog; a stored object that cannot be used (it shadows a configured
/// one, its secrets do not open, it refers to something missing) is left out and reported.
pub(crate) fn compose(records: &[ObjectRecord], cx: &Context<'_>) -> Composed {
    let mut built = Built {
        sources: Vec::new(),
        destinations: Vec::new(),
        routes: Vec::new(),
        disabled: HashSet::new(),
        paused: HashSet::new(),
        skipped: Vec::new(),
    };
    let configured = |record: &ObjectRecord| match record.kind {
        ObjectKind::Source => cx.base.sources().iter().any(|s| s.name() == record.name),
        ObjectKind::Destination => cx.base.destination(&record.name).is_some(),
        ObjectKind::Route => cx.base.routes().get(&record.name).is_some(),
        ObjectKind::Agent => false,
    };
    let mut route_specs = Vec::new();
    for record in records {
        if configured(record) {
            built.skip(record, "the configuration defines one of the same name");
            continue;
        }
        match record.kind {
            ObjectKind::Source => source(record, cx, &mut built),
            ObjectKind::Destination => destination(record, cx, &mut built),
            ObjectKind::Route => match opened::<RouteSpec>(record, cx) {
                Ok(spec) => route_specs.push((record, spec)),
                Err(reason) => built.skip(record, reason),
            },
            ObjectKind::Agent => {} // credentials, not part of the catalog
        }
    }
    let known = Known {
        base: cx.base,
        sources: built.sources.iter().map(|s| s.name().to_owned()).collect(),
        destinations: (built.destinations.iter())
            .map(|d| d.name().to_owned())
            .collect(),
    };
    for (record, spec) in route_specs {
        let mut problems = Vec::new();
        match spec.build("", &known, &mut problems) {
            Some(route) if problems.is_empty() => {
                built.routes.push((record.name.clone(), Arc::new(route)));
            }
            _ => built.skip(record, problems_text(&problems)),
        }
    }
    finish(built, cx)
}

fn opened<S: ObjectSpec>(record: &ObjectRecord, cx: &Context<'_>) -> Result<S, String> {
    open::<S>(&record.spec, cx.tenant, cx.keyring).map_err(|e| e.to_string())
}

fn source(record: &ObjectRecord, cx: &Context<'_>, built: &mut Built) {
    let spec = match opened::<SourceSpec>(record, cx) {
        Ok(spec) => spec,
        Err(reason) => return built.skip(record, reason),
    };
    let mut problems = Vec::new();
    match spec.build("", &literal, &mut problems) {
        Some(source) => {
            if !record.enabled {
                built.disabled.insert(record.name.clone());
            }
            built.sources.push(Arc::new(source));
        }
        None => built.skip(record, problems_text(&problems)),
    }
}

fn destination(record: &ObjectRecord, cx: &Context<'_>, built: &mut Built) {
    let spec = match opened::<DestinationSpec>(record, cx) {
        Ok(spec) => spec,
        Err(reason) => return built.skip(record, reason),
    };
    let mut problems = Vec::new();
    match spec.build("", cx.guard, &literal, &mut problems) {
        Some((_, destination)) => {
            if !record.enabled {
                built.paused.insert(record.name.clone());
            }
            built.destinations.push(destination);
        }
        None => built.skip(record, problems_text(&problems)),
    }
}

/// Extends the configured catalog; a route the catalog still refuses is left out and the
/// rest tried again.
fn finish(mut built: Built, cx: &Context<'_>) -> Composed {
    loop {
        let routes = built.routes.iter().map(|(_, r)| Arc::clone(r)).collect();
        match cx.base.extended(
            built.sources.clone(),
            built.destinations.clone(),
            routes,
            built.disabled.clone(),
        ) {
            Ok(catalog) => {
                return Composed {
                    catalog,
                    skipped: built.skipped,
                    paused: built.paused,
                };
            }
            Err(error) => {
                let culprit = match &error {
                    CatalogError::Dangling { route, .. } => Some(route.clone()),
                    CatalogError::Duplicate { .. } => None,
                };
                let Some(at) =
                    culprit.and_then(|name| built.routes.iter().position(|(n, _)| *n == name))
                else {
                    // Names are checked against the configuration first, so only a route can
                    // still be refused; anything else leaves the stored objects out.
                    built.skipped.push(Skipped {
                        kind: ObjectKind::Route,
                        name: String::new(),
                        reason: error.to_string(),
                    });
                    return Composed {
                        catalog: cx.base.clone(),
                        skipped: built.skipped,
                        paused: built.paused,
                    };
                };
                let (name, _) = built.routes.remove(at);
                built.skipped.push(Skipped {
                    kind: ObjectKind::Route,
                    name,
                    reason: error.to_string(),
                });
            }
        }
    }
}
