//! Routes: which destinations an event goes to.
//!
//! Every active route whose predicate holds delivers (fan-out, no short-circuit). Routes are
//! evaluated in priority order (highest first, then by name); when two routes target the same
//! destination, the first one's transformer is used and the destination gets one delivery.

mod glob;

use std::fmt;
use std::sync::Arc;

use http::HeaderMap;
use serde_json::Value;

pub use glob::Glob;

/// What a route looks at to decide.
#[derive(Debug, Clone, Copy)]
pub struct RouteInput<'a> {
    /// The source the event arrived on.
    pub source: &'a str,
    /// The event type.
    pub event_type: &'a str,
    /// The inbound request headers.
    pub headers: &'a HeaderMap,
    /// The JSON payload, when the body is JSON or a form.
    pub payload: Option<&'a Value>,
}

/// Decides whether an event goes to a set of destinations.
pub trait Route: Send + Sync + fmt::Debug {
    /// The route's unique name.
    fn name(&self) -> &str;

    /// Higher priorities are evaluated first.
    fn priority(&self) -> i32 {
        0
    }

    /// Inactive routes are skipped.
    fn is_active(&self) -> bool {
        true
    }

    /// The only source this route applies to, if it is limited to one (checked to exist when
    /// the configuration is loaded).
    fn source(&self) -> Option<&str> {
        None
    }

    /// Whether the event matches.
    fn matches(&self, input: &RouteInput<'_>) -> bool;

    /// The destinations a matching event goes to.
    fn destinations(&self) -> &[String];

    /// The transformer applied for these destinations (`None`: the body as received).
    fn transformer(&self) -> Option<&str> {
        None
    }
}

/// The built-in route: an optional source, event-type globs and a list of destinations.
///
/// ```
/// use relay_core::route::EventRoute;
/// let route = EventRoute::new("pushes-to-slack")
///     .source("github")
///     .event_types(["push"])
///     .to(["slack"])
///     .priority(10);
/// ```
#[derive(Debug, Clone)]
pub struct EventRoute {
    name: String,
    source: Option<String>,
    event_types: Vec<Glob>,
    destinations: Vec<String>,
    transformer: Option<String>,
    priority: i32,
    active: bool,
}

impl EventRoute {
    /// A route matching every event of every source, with no destinations yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: None,
            event_types: vec![Glob::new("*")],
            destinations: Vec::new(),
            transformer: None,
            priority: 0,
            active: true,
        }
    }

    /// Only events from this source.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Only events whose type matches one of these globs.
    pub fn event_types<I, S>(mut self, globs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.event_types = globs.into_iter().map(|g| Glob::new(g)).collect();
        self
    }

    /// The destinations (by name) matching events go to.
    pub fn to<I, S>(mut self, destinations: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.destinations = destinations.into_iter().map(Into::into).collect();
        self
    }

    /// The transformer (by name) applied to the payload.
    pub fn transformer(mut self, name: impl Into<String>) -> Self {
        self.transformer = Some(name.into());
        self
    }

    /// The evaluation priority (higher first).
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Enables or disables the route.
    pub fn active(mut self, active: bool) -> Self {
        self.active = active;
        self
    }
}

impl Route for EventRoute {
    fn name(&self) -> &str {
        &self.name
    }

    fn priority(&self) -> i32 {
        self.priority
    }

    fn is_active(&self) -> bool {
        self.active
    }

    fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    fn matches(&self, input: &RouteInput<'_>) -> bool {
        self.source.as_deref().is_none_or(|s| s == input.source)
            && self.event_types.iter().any(|g| g.matches(input.event_type))
    }

    fn destinations(&self) -> &[String] {
        &self.destinations
    }

    fn transformer(&self) -> Option<&str> {
        self.transformer.as_deref()
    }
}

/// One destination an event is planned to go to, and the route that sent it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDelivery {
    /// The destination's name.
    pub destination: String,
    /// The route whose match planned it.
    pub route: String,
}

/// The routes in evaluation order.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Arc<dyn Route>>,
}

impl RouteTable {
    /// Orders routes by priority (highest first), then by name.
    pub fn new(mut routes: Vec<Arc<dyn Route>>) -> Self {
        routes.sort_by(|a, b| {
            b.priority()
                .cmp(&a.priority())
                .then_with(|| a.name().cmp(b.name()))
        });
        Self { routes }
    }

    /// The routes in evaluation order.
    pub fn routes(&self) -> &[Arc<dyn Route>] {
        &self.routes
    }

    /// Every destination the event goes to, once each, in route order.
    pub fn plan(&self, input: &RouteInput<'_>) -> Vec<PlannedDelivery> {
        let mut planned: Vec<PlannedDelivery> = Vec::new();
        for route in self
            .routes
            .iter()
            .filter(|r| r.is_active() && r.matches(input))
        {
            for destination in route.destinations() {
                if !planned.iter().any(|p| &p.destination == destination) {
                    planned.push(PlannedDelivery {
                        destination: destination.clone(),
                        route: route.name().to_owned(),
                    });
                }
            }
        }
        planned
    }

    /// The route with this name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Route>> {
        self.routes.iter().find(|r| r.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(source: &'a str, event_type: &'a str, headers: &'a HeaderMap) -> RouteInput<'a> {
        RouteInput {
            source,
            event_type,
            headers,
            payload: None,
        }
    }

    #[test]
    fn fans_out_to_every_matching_route_once_per_destination() {
        let table = RouteTable::new(vec![
            Arc::new(
                EventRoute::new("low")
                    .event_types(["push"])
                    .to(["a", "b"])
                    .priority(1),
            ),
            Arc::new(
                EventRoute::new("high")
                    .event_types(["*"])
                    .to(["b", "c"])
                    .priority(5),
            ),
            Arc::new(EventRoute::new("off").to(["d"]).active(false)),
            Arc::new(EventRoute::new("other-source").source("stripe").to(["e"])),
        ]);
        let headers = HeaderMap::new();
        let plan = table.plan(&input("github", "push", &headers));
        let got: Vec<_> = plan
            .iter()
            .map(|p| (p.destination.as_str(), p.route.as_str()))
            .collect();
        assert_eq!(got, [("b", "high"), ("c", "high"), ("a", "low")]);
    }

    #[test]
    fn equal_priorities_order_by_name_and_no_match_plans_nothing() {
        let table = RouteTable::new(vec![
            Arc::new(EventRoute::new("b").event_types(["x"]).to(["d"])),
            Arc::new(EventRoute::new("a").event_types(["x"]).to(["d"])),
        ]);
        let headers = HeaderMap::new();
        assert_eq!(table.plan(&input("s", "x", &headers))[0].route, "a");
        assert!(table.plan(&input("s", "y", &headers)).is_empty());
    }
}
