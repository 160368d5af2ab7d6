//! [`RouteSpec`]: which events go to which destinations, through which transformer.

use serde::{Deserialize, Serialize};

use crate::deliver::ordering::{OnDeadLetter, OrderingKey};
use crate::route::{ConditionSpec, EventRoute};

use super::{Problem, RateLimitSpec};

/// A route: events of a source (or any) whose type matches a glob and whose payload meets
/// every condition go to its destinations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Unique name.
    pub name: String,
    /// Limit to one source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Event-type globs (default `["*"]`).
    #[serde(default = "all_types")]
    pub event_types: Vec<String>,
    /// Destination names.
    pub destinations: Vec<String>,
    /// JSONPath conditions on the payload; all must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionSpec>,
    /// Transformer name (default: the body as received).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformer: Option<String>,
    /// Higher first.
    #[serde(default)]
    pub priority: i32,
    /// Inactive routes are skipped.
    #[serde(default = "yes")]
    pub active: bool,
    /// Delivery rate limit: over it, this route's deliveries wait; other routes' go on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitSpec>,
    /// Orders this route's deliveries by this key (over the destination's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering_key: Option<String>,
    /// `skip` (default) or `block`, with `ordering_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_dead_letter: Option<OnDeadLetter>,
}

fn all_types() -> Vec<String> {
    vec!["*".into()]
}

fn yes() -> bool {
    true
}

/// What a route may refer to, for checking its names.
pub trait Names {
    /// Whether a source of this name exists.
    fn has_source(&self, name: &str) -> bool;
    /// Whether a destination of this name exists.
    fn has_destination(&self, name: &str) -> bool;
    /// The transformers' names, built-in ones included.
    fn transformers(&self) -> Vec<String>;
}

impl RouteSpec {
    /// The route this describes, its names checked against `names`; `None` (with the
    /// problems recorded under `key`) when it is unusable.
    pub fn build(
        &self,
        key: &str,
        names: &dyn Names,
        problems: &mut Vec<Problem>,
    ) -> Option<EventRoute> {
        let before = problems.len();
        self.check_names(key, names, problems);
        let mut route = EventRoute::new(self.name.clone())
            .event_types(self.event_types.iter().cloned())
            .to(self.destinations.iter().cloned())
            .priority(self.priority)
            .active(self.active);
        if let Some(source) = &self.source {
            route = route.source(source.clone());
        }
        if let Some(transformer) = &self.transformer {
            route = route.transformer(transformer.clone());
        }
        if let Some(limit) = self.rate_limit {
            if limit.per_minute == 0 {
                problems.push(Problem::new(
                    format!("{key}.rate_limit.per_minute"),
                    "must be at least 1",
                ));
            }
            route = route.rate_limit(limit.per_minute);
        }
        match (&self.ordering_key, self.on_dead_letter) {
            (Some(selector), on_dead_letter) => match selector.parse::<OrderingKey>() {
                Ok(ordering) => {
                    let ordering = ordering.on_dead_letter(on_dead_letter.unwrap_or_default());
                    route = route.ordering_key(ordering);
                }
                Err(e) => {
                    problems.push(Problem::new(format!("{key}.ordering_key"), e.to_string()));
                }
            },
            (None, Some(_)) => problems.push(Problem::new(
                format!("{key}.on_dead_letter"),
                "applies to ordered deliveries only: set ordering_key",
            )),
            (None, None) => {}
        }
        let route = match route.conditions(self.conditions.iter().cloned()) {
            Ok(route) => route,
            Err(e) => {
                problems.push(Problem::new(
                    format!("{key}.conditions[{}]", e.index),
                    format!("{:?}: {}", e.path, e.reason),
                ));
                return None;
            }
        };
        (problems.len() == before).then_some(route)
    }

    fn check_names(&self, key: &str, names: &dyn Names, problems: &mut Vec<Problem>) {
        if let Some(source) = &self.source
            && !names.has_source(source)
            && source != crate::ingest::source::PUBLISH_SOURCE
        {
            problems.push(Problem::new(
                format!("{key}.source"),
                format!("no source named {source:?}"),
            ));
        }
        if self.destinations.is_empty() {
            problems.push(Problem::new(
                format!("{key}.destinations"),
                "names no destination",
            ));
        }
        for (j, name) in self.destinations.iter().enumerate() {
            if !names.has_destination(name) {
                problems.push(Problem::new(
                    format!("{key}.destinations[{j}]"),
                    format!("no destination named {name:?}"),
                ));
            }
        }
        if let Some(name) = &self.transformer {
            let known = names.transformers();
            if !known.contains(name) {
                problems.push(Problem::new(
                    format!("{key}.transformer"),
                    format!(
                        "no transformer named {name:?} (available: {})",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
}
