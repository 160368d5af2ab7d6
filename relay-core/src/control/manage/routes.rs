//! Creating, changing, pausing and deleting routes, and trying one on a sample event.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::ObjectKind;
use super::views::RouteView;
use super::write::invalid;
use crate::control::admin::{AdminError, Area, Principal, Role};
use crate::control::definition::{Names, RouteSpec, check_name};
use crate::control::manage::Objects;
use crate::model::event::{Event, EventStatus};
use crate::model::ids::EventId;
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::route::{ConditionSpec, Glob, RouteInput};
use crate::transform::TransformInput;

/// A sample event to try a route on.
#[derive(Debug, Clone, Default)]
pub struct RouteSample {
    /// The source it arrives on (default: the route's, else `test`).
    pub source: Option<String>,
    /// Its event type.
    pub event_type: String,
    /// Its headers.
    pub headers: Vec<(String, String)>,
    /// Its JSON payload.
    pub payload: serde_json::Value,
}

/// What a route does with a sample event.
#[derive(Debug, Clone)]
pub struct RouteTest {
    /// Whether the route matches it (and is active).
    pub matched: bool,
    /// Whether the route is active.
    pub active: bool,
    /// Whether the source is the route's (or the route takes any).
    pub source_matches: bool,
    /// Whether the event type matches one of the route's globs.
    pub event_type_matches: bool,
    /// Each condition and whether it holds.
    pub conditions: Vec<(ConditionSpec, bool)>,
    /// What each destination would be sent, when it matches.
    pub deliveries: Vec<TestDelivery>,
}

/// The request one destination would get.
#[derive(Debug, Clone)]
pub struct TestDelivery {
    /// The destination.
    pub destination: String,
    /// The transformed body (UTF-8, lossy), or why the transformer refused the event.
    pub body: Result<String, String>,
    /// The transformer's headers.
    pub headers: Vec<(String, String)>,
    /// The higher-priority route that delivers to this destination instead, when another
    /// matching route claims it (an event gets one delivery per destination): this route's
    /// body is then not what the destination receives.
    pub delivered_by: Option<String>,
}

/// Names a route may refer to: everything live, disabled sources included, and a destination
/// about to be created with it (a subscription's).
struct Live<'a>(&'a crate::catalog::Catalog, Option<&'a str>);

impl Names for Live<'_> {
    fn has_source(&self, name: &str) -> bool {
        self.0.sources().iter().any(|s| s.name() == name)
    }

    fn has_destination(&self, name: &str) -> bool {
        self.1 == Some(name) || self.0.destination(name).is_some()
    }

    fn transformers(&self) -> Vec<String> {
        self.0.transformer_names()
    }
}

impl Relay {
    /// Checks a route against the live objects and `new_destination`, one being created with it.
    pub(super) fn checked_route(
        &self,
        spec: &RouteSpec,
        new_destination: Option<&str>,
    ) -> Result<(), AdminError> {
        let mut problems = Vec::new();
        check_name("name", &spec.name, &mut problems);
        spec.build("", &Live(&self.catalog(), new_destination), &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(invalid(problems))
        }
    }
}

impl Objects<'_> {
    /// One live route.
    pub fn route_view(&self, name: &str) -> Result<RouteView, AdminError> {
        (self.route_views().into_iter())
            .find(|r| r.name == name)
            .ok_or(AdminError::NotFound)
    }

    /// The transformers routes may name, built-in ones included.
    pub fn transformer_names(&self) -> Vec<String> {
        self.relay.catalog().transformer_names()
    }

    /// Creates a route (admin); the source, destinations and transformer it names must exist.
    pub async fn create_route(
        &self,
        by: &Principal,
        spec: RouteSpec,
    ) -> Result<RouteView, AdminError> {
        self.relay.may_change_in(by, Area::Routes, Role::Admin)?;
        self.relay.checked_route(&spec, None)?;
        self.relay.create_object(by, &spec).await?;
        self.route_view(&spec.name)
    }

    /// Replaces an API-managed route's spec (admin); the name in `spec` must be `name`.
    pub async fn update_route(
        &self,
        by: &Principal,
        name: &str,
        spec: RouteSpec,
    ) -> Result<RouteView, AdminError> {
        self.relay.may_change_in(by, Area::Routes, Role::Admin)?;
        if spec.name != name {
            return Err(AdminError::invalid("name", "must be the name in the path"));
        }
        self.relay.checked_route(&spec, None)?;
        self.relay
            .change_object::<RouteSpec>(by, name, "update", |_| Ok(Some(spec)))
            .await?;
        self.route_view(name)
    }

    /// Deletes an API-managed route (admin).
    pub async fn delete_route(&self, by: &Principal, name: &str) -> Result<(), AdminError> {
        self.relay.may_change_in(by, Area::Routes, Role::Admin)?;
        self.relay.delete_object::<RouteSpec>(by, name).await
    }

    /// Activates or deactivates a route, configured or API-managed (operator): an inactive
    /// route is skipped by new events. The state is stored (see [`Objects::set_enabled`],
    /// which also takes a reason); an API-managed route created inactive is made active in
    /// its spec too.
    pub async fn set_route_active(
        &self,
        by: &Principal,
        name: &str,
        active: bool,
    ) -> Result<(), AdminError> {
        self.set_route_state(by, name, active, "").await
    }

    /// [`Objects::set_route_active`] with a reason.
    pub async fn set_route_state(
        &self,
        by: &Principal,
        name: &str,
        active: bool,
        reason: &str,
    ) -> Result<(), AdminError> {
        self.set_enabled(by, ObjectKind::Route, name, active, reason)
            .await?;
        if !active || self.relay.is_configured(ObjectKind::Route, name) {
            return Ok(());
        }
        self.relay
            .change_object::<RouteSpec>(by, name, "enable", |before| {
                Ok((!before.active).then(|| RouteSpec {
                    active,
                    ..before.clone()
                }))
            })
            .await
            .map(drop)
    }

    /// What a live route does with a sample event (viewer): whether it matches, condition by
    /// condition, and what each destination would be sent. Nothing is stored or delivered.
    ///
    /// ```
    /// use relay_core::control::admin::Principal;
    /// use relay_core::deliver::destination::Destination;
    /// use relay_core::model::ids::TenantId;
    /// use relay_core::control::manage::RouteSample;
    /// use relay_core::route::{ConditionSpec, EventRoute, Op};
    /// let relay = relay_core::Relay::builder()
    ///     .destination(Destination::http("slack", "https://hooks.slack.com/x").unwrap())
    ///     .route(EventRoute::new("main").event_types(["push"]).to(["slack"])
    ///         .conditions([ConditionSpec::new("$.ref", Op::Eq, Some("refs/heads/main".into()))]).unwrap()
    ///         .transformer("github_to_slack"))
    ///     .build().unwrap();
    /// let viewer = Principal::system(TenantId::default());
    /// let sample = RouteSample {
    ///     event_type: "push".into(),
    ///     payload: serde_json::json!({"ref": "refs/heads/main", "pusher": {"name": "ada"},
    ///         "repository": {"full_name": "o/r"}, "commits": []}),
    ///     ..Default::default()
    /// };
    /// let test = relay.objects().test_route(&viewer, "main", &sample).unwrap();
    /// assert!(test.matched && test.conditions[0].1);
    /// assert!(test.deliveries[0].body.as_ref().unwrap().contains("o/r"));
    /// ```
    pub fn test_route(
        &self,
        by: &Principal,
        name: &str,
        sample: &RouteSample,
    ) -> Result<RouteTest, AdminError> {
        by.require_in(Area::Routes, Role::Viewer)?;
        if by.tenant != *self.relay.tenant_id() {
            return Err(AdminError::NotFound);
        }
        let catalog = self.relay.catalog();
        let route = catalog.routes().get(name).ok_or(AdminError::NotFound)?;
        let headers = sample_headers(&sample.headers)?;
        let body = Bytes::from(
            serde_json::to_vec(&sample.payload)
                .unwrap_or_else(|_| unreachable!("JSON values serialize")),
        );
        let source = (sample.source.clone())
            .or_else(|| route.source().map(str::to_owned))
            .unwrap_or_else(|| "test".to_owned());
        let event = Event {
            tenant: self.relay.tenant_id().clone(),
            id: EventId::new(),
            source,
            event_type: sample.event_type.clone(),
            idempotency_key: "route-test".into(),
            headers,
            body,
            received_at: Timestamp::now(),
            status: EventStatus::Routed,
        };
        let payload = event.payload();
        let input = RouteInput {
            source: &event.source,
            event_type: &event.event_type,
            headers: &event.headers,
            payload: payload.json(),
        };
        let matched = route.is_active() && route.matches(&input);
        let planned = if matched {
            catalog.plan_deliveries(&input)
        } else {
            Vec::new()
        };
        let claimed_by = |destination: &str| {
            (planned.iter())
                .find(|p| p.destination == destination && p.route != name)
                .map(|p| p.route.clone())
        };
        let deliveries = if matched {
            let transformer = catalog.transformer_for_route(name);
            (route.destinations().iter())
                .map(|destination| {
                    let input = TransformInput {
                        event: &event,
                        payload: &payload,
                        destination,
                    };
                    let out = transformer.map(|t| t.transform(&input));
                    match out {
                        Some(Ok(done)) => TestDelivery {
                            destination: destination.clone(),
                            delivered_by: claimed_by(destination),
                            body: Ok(String::from_utf8_lossy(&done.body).into_owned()),
                            headers: (done.headers.iter())
                                .map(|(k, v)| {
                                    let value = String::from_utf8_lossy(v.as_bytes());
                                    (k.to_string(), value.into_owned())
                                })
                                .collect(),
                        },
                        Some(Err(e)) => TestDelivery {
                            destination: destination.clone(),
                            delivered_by: claimed_by(destination),
                            body: Err(e.to_string()),
                            headers: Vec::new(),
                        },
                        None => TestDelivery {
                            destination: destination.clone(),
                            delivered_by: claimed_by(destination),
                            body: Err("the route's transformer does not exist".into()),
                            headers: Vec::new(),
                        },
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(RouteTest {
            matched,
            active: route.is_active(),
            source_matches: route.source().is_none_or(|s| s == event.source),
            event_type_matches: (route.event_types().into_iter())
                .any(|g| Glob::new(g).matches(&event.event_type)),
            conditions: route.explain(payload.json()),
            deliveries,
        })
    }
}

/// The sample's headers, with `content-type: application/json` unless it sets one.
fn sample_headers(pairs: &[(String, String)]) -> Result<HeaderMap, AdminError> {
    let mut headers = HeaderMap::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        let name = HeaderName::try_from(name.as_str())
            .map_err(|_| AdminError::invalid(format!("headers[{i}]"), "not a valid header name"))?;
        let value = HeaderValue::try_from(value.as_str()).map_err(|_| {
            AdminError::invalid(format!("headers[{i}]"), "not a valid header value")
        })?;
        headers.append(name, value);
    }
    if !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(headers)
}
