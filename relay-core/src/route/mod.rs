//! Routes: which destinations an event goes to.
//!
//! Every active route whose predicate holds delivers (fan-out, no short-circuit). Routes are
//! evaluated in priority order (highest first, then by name); when two routes target the same
//! destination, the first one's transformer is used and the destination gets one delivery.
//!
//! The built-in [`EventRoute`] matches on the source, event-type [`Glob`]s and a list of
//! JSONPath [`Condition`]s that must all hold (see [`condition`] for each operator's meaning
//! and how multi-value selections and non-JSON payloads are treated). Everything is compiled
//! when the route is built; matching an event parses nothing.

pub mod condition;
mod glob;
pub mod jsonpath;
mod path;

use std::fmt;
use std::sync::Arc;

use http::HeaderMap;
use serde_json::Value;

use crate::deliver::ordering::OrderingKey;
use crate::ingest::limit::RateLimit;

pub use condition::{Condition, ConditionError, ConditionSpec, InvalidCondition, Op};
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

    /// The event-type globs it matches, for display (default: every type).
    fn event_types(&self) -> Vec<String> {
        vec!["*".into()]
    }

    /// Each payload condition as written and whether it holds for `payload`, for display and
    /// route tests (default: none).
    fn explain(&self, payload: Option<&Value>) -> Vec<(ConditionSpec, bool)> {
        let _ = payload;
        Vec::new()
    }

    /// The transformer applied for these destinations (`None`: the body as received).
    fn transformer(&self) -> Option<&str> {
        None
    }

    /// At most this many deliveries planned by this route are attempted in any 60-second
    /// window; the others wait in the queue (not attempted, not counted), while deliveries of
    /// other routes go on.
    fn rate_limit(&self) -> Option<RateLimit> {
        None
    }

    /// Orders this route's deliveries by this key (see [`ordering`](crate::deliver::ordering)); it
    /// takes precedence over the destination's.
    fn ordering_key(&self) -> Option<&OrderingKey> {
        None
    }
}

/// The built-in route: an optional source, event-type globs, JSONPath conditions that must
/// all hold, and a list of destinations.
///
/// ```
/// use relay_core::route::{ConditionSpec, EventRoute, Op};
/// let route = EventRoute::new("main-pushes-to-slack")
///     .source("github")
///     .event_types(["push"])
///     .conditions([ConditionSpec::new("$.ref", Op::Eq, Some("refs/heads/main".into()))])
///     .unwrap()
///     .to(["slack"])
///     .transformer("github_to_slack")
///     .priority(10)
///     .rate_limit(600);
///
/// // A condition that does not compile names the route and the condition.
/// let err = EventRoute::new("r")
///     .conditions([ConditionSpec::new("$.size", Op::Gt, Some("ten".into()))])
///     .unwrap_err();
/// assert_eq!((err.route.as_str(), err.index, err.path.as_str()), ("r", 0, "$.size"));
/// ```
#[derive(Debug, Clone)]
pub struct EventRoute {
    name: String,
    source: Option<String>,
    event_types: Vec<Glob>,
    conditions: Vec<Condition>,
    destinations: Vec<String>,
    transformer: Option<String>,
    priority: i32,
    active: bool,
    rate_limit: Option<RateLimit>,
    ordering_key: Option<OrderingKey>,
}

impl EventRoute {
    /// A route matching every event of every source, with no destinations yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: None,
            event_types: vec![Glob::new("*")],
            conditions: Vec::new(),
            destinations: Vec::new(),
            transformer: None,
            priority: 0,
            active: true,
            rate_limit: None,
            ordering_key: None,
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

    /// Adds conditions, compiled now, that must all hold (in addition to any already added).
    /// The error names the route and the first condition that does not compile.
    pub fn conditions<I>(mut self, specs: I) -> Result<Self, ConditionError>
    where
        I: IntoIterator<Item = ConditionSpec>,
    {
        for spec in specs {
            let index = self.conditions.len();
            let condition = Condition::compile(spec).map_err(|e| ConditionError {
                route: self.name.clone(),
                index,
                path: e.path,
                reason: e.reason,
            })?;
            self.conditions.push(condition);
        }
        Ok(self)
    }

    /// Adds one already compiled condition that must hold.
    pub fn when(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// The route's conditions, in the order they were added.
    pub fn condition_list(&self) -> &[Condition] {
        &self.conditions
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

    /// Attempts at most `per_minute` of this route's deliveries in any 60-second window (see
    /// [`Route::rate_limit`]).
    pub fn rate_limit(mut self, per_minute: u32) -> Self {
        self.rate_limit = Some(RateLimit { per_minute });
        self
    }

    /// Delivers this route's events with the same key to a destination one at a time, in
    /// ingest order (see [`ordering`](crate::deliver::ordering)).
    pub fn ordering_key(mut self, key: OrderingKey) -> Self {
        self.ordering_key = Some(key);
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
            && self.conditions.iter().all(|c| c.matches(input.payload))
    }

    fn destinations(&self) -> &[String] {
        &self.destinations
    }

    fn event_types(&self) -> Vec<String> {
        self.event_types
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect()
    }

    fn explain(&self, payload: Option<&Value>) -> Vec<(ConditionSpec, bool)> {
        (self.conditions.iter())
            .map(|c| (c.spec().clone(), c.matches(payload)))
            .collect()
    }

    fn transformer(&self) -> Option<&str> {
        self.transformer.as_deref()
    }

    fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }

    fn ordering_key(&self) -> Option<&OrderingKey> {
        self.ordering_key.as_ref()
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
    /// Routes disabled by their stored state: listed, but they match nothing.
    disabled: std::collections::HashSet<String>,
}

impl RouteTable {
    /// Orders routes by priority (highest first), then by name.
    pub fn new(mut routes: Vec<Arc<dyn Route>>) -> Self {
        routes.sort_by(|a, b| {
            b.priority()
                .cmp(&a.priority())
                .then_with(|| a.name().cmp(b.name()))
        });
        Self {
            routes,
            disabled: Default::default(),
        }
    }

    /// This table with the routes named in `disabled` matching nothing.
    pub fn with_disabled(mut self, disabled: std::collections::HashSet<String>) -> Self {
        self.disabled = disabled;
        self
    }

    /// Whether the route of this name is disabled (see [`RouteTable::with_disabled`]).
    pub fn is_disabled(&self, name: &str) -> bool {
        self.disabled.contains(name)
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
            .filter(|r| r.is_active() && !self.disabled.contains(r.name()) && r.matches(input))
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
    use serde_json::json;

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

    fn json_input<'a>(
        event_type: &'a str,
        headers: &'a HeaderMap,
        payload: Option<&'a Value>,
    ) -> RouteInput<'a> {
        RouteInput {
            source: "github",
            event_type,
            headers,
            payload,
        }
    }

    fn spec(path: &str, op: Op, value: Option<Value>) -> ConditionSpec {
        ConditionSpec::new(path, op, value)
    }

    #[test]
    fn every_condition_must_hold() {
        let route = EventRoute::new("main-pushes")
            .event_types(["push"])
            .conditions([
                spec("$.ref", Op::Eq, Some(json!("refs/heads/main"))),
                spec("$.deleted", Op::Ne, Some(json!(true))),
            ])
            .unwrap()
            .to(["slack"]);
        let headers = HeaderMap::new();
        let main = json!({"ref": "refs/heads/main", "deleted": false});
        let deleted = json!({"ref": "refs/heads/main", "deleted": true});
        let dev = json!({"ref": "refs/heads/dev", "deleted": false});
        assert!(route.matches(&json_input("push", &headers, Some(&main))));
        assert!(!route.matches(&json_input("push", &headers, Some(&deleted))));
        assert!(!route.matches(&json_input("push", &headers, Some(&dev))));
        assert!(
            !route.matches(&json_input("ping", &headers, Some(&main))),
            "type first"
        );
        assert!(
            !route.matches(&json_input("push", &headers, None)),
            "raw payload"
        );
        assert_eq!(route.condition_list().len(), 2);
        // No conditions: raw payloads route by type alone.
        assert!(EventRoute::new("any").matches(&json_input("push", &headers, None)));
    }

    #[test]
    fn condition_errors_name_route_index_and_path() {
        let err = EventRoute::new("r")
            .conditions([spec("$.a", Op::Exists, None)])
            .unwrap()
            .conditions([
                spec("$.b", Op::Eq, Some(json!(1))),
                spec("$.c", Op::Exists, Some(json!(1))),
            ])
            .unwrap_err();
        assert_eq!(
            err,
            ConditionError {
                route: "r".into(),
                index: 2,
                path: "$.c".into(),
                reason: "`exists` takes no value".into(),
            }
        );
        assert_eq!(
            err.to_string(),
            "route \"r\", condition #2 on \"$.c\": `exists` takes no value"
        );
        let err = EventRoute::new("bad-path")
            .conditions([spec("$.[", Op::Exists, None)])
            .unwrap_err();
        assert_eq!((err.route.as_str(), err.index), ("bad-path", 0));
    }

    #[test]
    fn conditional_fan_out_priority_and_inactive_routes() {
        let cond = |path: &str, op: Op, value: Value| {
            Condition::compile(spec(path, op, Some(value))).unwrap()
        };
        let table = RouteTable::new(vec![
            Arc::new(
                EventRoute::new("big-pushes")
                    .when(cond("$.size", Op::Gte, json!(10)))
                    .to(["pager", "audit"])
                    .transformer("github_to_slack")
                    .priority(-5),
            ),
            Arc::new(
                EventRoute::new("main")
                    .when(cond("$.ref", Op::Eq, json!("refs/heads/main")))
                    .to(["slack", "audit"])
                    .priority(10),
            ),
            Arc::new(
                EventRoute::new("main-disabled")
                    .when(cond("$.ref", Op::Eq, json!("refs/heads/main")))
                    .to(["never"])
                    .priority(100)
                    .active(false),
            ),
            Arc::new(
                EventRoute::new("catch-all")
                    .to(["archive"])
                    .priority(i32::MIN),
            ),
        ]);
        let headers = HeaderMap::new();
        let plan = |payload: &Value| {
            table
                .plan(&json_input("push", &headers, Some(payload)))
                .into_iter()
                .map(|p| format!("{}<-{}", p.destination, p.route))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            plan(&json!({"ref": "refs/heads/main", "size": 12})),
            [
                "slack<-main",
                "audit<-main",
                "pager<-big-pushes",
                "archive<-catch-all"
            ]
        );
        assert_eq!(
            plan(&json!({"ref": "refs/heads/dev", "size": 12})),
            [
                "pager<-big-pushes",
                "audit<-big-pushes",
                "archive<-catch-all"
            ]
        );
        assert_eq!(
            plan(&json!({"ref": "refs/heads/dev"})),
            ["archive<-catch-all"]
        );
        assert_eq!(
            table.routes().iter().map(|r| r.name()).collect::<Vec<_>>(),
            ["main-disabled", "main", "big-pushes", "catch-all"]
        );
    }
}
