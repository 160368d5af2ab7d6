//! The JSON shapes of sources, destinations and routes. Request bodies are the specs of
//! [`relay_core::control::definition`] (the same keys as the configuration file).

use std::collections::BTreeMap;

use relay_core::control::definition::{DestinationSpec, RouteSpec, SourceSpec};
use relay_core::control::manage::{
    DestinationView, ManagedBy, RouteTest, RouteView, SourceView, Stamps, TestDelivery,
};
use relay_core::route::{ConditionSpec, Op};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::circuit::CircuitItem;
use super::state::DisabledItem;
use crate::api::dto::time;

fn stamps(stamps: Option<Stamps>) -> (Option<String>, Option<String>) {
    stamps.map_or((None, None), |s| {
        (Some(time(s.created_at)), Some(time(s.updated_at)))
    })
}

/// A verification secret as listed (never its value).
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretItem {
    /// When it stops verifying (RFC 3339); `null`: never.
    pub expires_at: Option<String>,
}

/// A source.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceItem {
    /// Its name.
    pub name: String,
    /// `config` (read-only here) or `api`.
    pub managed_by: ManagedBy,
    /// A disabled source answers ingest with 404, like an unknown one.
    pub enabled: bool,
    /// Who or what disabled it, why and when (absent while enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<DisabledItem>,
    /// The signature scheme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// The path providers post to (prefix it with the gateway's public URL).
    pub ingest_path: String,
    /// Largest accepted body.
    pub max_body_bytes: usize,
    /// Accepted events per minute, if limited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
    /// Dedup window in seconds.
    pub dedup_window_secs: u64,
    /// Its secrets, without values (API-managed sources).
    pub secrets: Vec<SecretItem>,
    /// The body to update it with, secrets left out (API-managed sources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<SourceSpec>,
    /// When it was created (API-managed sources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When it last changed (API-managed sources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl SourceItem {
    pub(crate) fn new(view: SourceView, prefix: &str) -> Self {
        let (created_at, updated_at) = stamps(view.stamps);
        Self {
            ingest_path: format!("{prefix}/{}", view.name),
            name: view.name,
            managed_by: view.managed_by,
            enabled: view.enabled,
            disabled: view.disabled.map(DisabledItem::from),
            scheme: view.scheme,
            max_body_bytes: view.max_body_bytes,
            rate_limit_per_minute: view.rate_limit_per_minute,
            dedup_window_secs: view.dedup_window_secs,
            secrets: (view.secrets.into_iter())
                .map(|s| SecretItem {
                    expires_at: s.expires_at,
                })
                .collect(),
            spec: view.spec,
            created_at,
            updated_at,
        }
    }
}

/// A source just created, with its secrets: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSourceItem {
    /// The source.
    pub source: SourceItem,
    /// Its verification secrets (the generated one when none was given).
    pub secrets: Vec<String>,
}

/// A secret rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// How long the current secrets keep verifying, in seconds (default 86400, at most
    /// 2592000; 0 retires them now).
    pub overlap_secs: Option<u64>,
    /// The new secret (default: a generated one), e.g. one the provider issued.
    pub secret: Option<String>,
}

/// The new secret (shown this once) and the source.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedItem {
    /// The new secret.
    pub secret: String,
    /// The source, its previous secrets now expiring.
    pub source: SourceItem,
}

/// A destination, with its health.
#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationItem {
    /// Its name.
    pub name: String,
    /// `config` (read-only here, but it can be paused) or `api`.
    pub managed_by: ManagedBy,
    /// `false` while paused (by an operator, a 410 Gone answer or an alert).
    pub enabled: bool,
    /// Who or what disabled it, why and when (absent while enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<DisabledItem>,
    /// Its URL (for HTTP destinations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether deliveries are signed (Standard Webhooks).
    pub signed: bool,
    /// `closed`, `open` or `half_open` (the same as `breaker.state`).
    pub circuit: String,
    /// Its circuit breaker: state, the failure window's figures, when and why it opened.
    pub breaker: CircuitItem,
    /// The body to update it with, credentials left out (API-managed destinations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<DestinationSpec>,
    /// When it was created (API-managed destinations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When it last changed (API-managed destinations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl DestinationItem {
    pub(crate) fn new(view: DestinationView, breaker: CircuitItem) -> Self {
        let (created_at, updated_at) = stamps(view.stamps);
        Self {
            name: view.name,
            managed_by: view.managed_by,
            enabled: view.enabled,
            disabled: view.disabled.map(DisabledItem::from),
            url: view.url,
            signed: view.signed,
            circuit: breaker.state.clone(),
            breaker,
            spec: view.spec,
            created_at,
            updated_at,
        }
    }
}

/// A destination just created, with its signing secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedDestinationItem {
    /// The destination.
    pub destination: DestinationItem,
    /// The Standard Webhooks secret deliveries are signed with (`whsec_…`).
    pub signing_secret: String,
}

/// A subscription just created: its destination with the signing secret (shown this once),
/// and its route.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSubscriptionItem {
    /// The destination.
    pub destination: DestinationItem,
    /// The Standard Webhooks secret deliveries are signed with (`whsec_…`).
    pub signing_secret: String,
    /// The route that sends it the chosen events.
    pub route: RouteItem,
}

/// A route.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteItem {
    /// Its name.
    pub name: String,
    /// `config` (read-only here) or `api`.
    pub managed_by: ManagedBy,
    /// Whether it routes new events.
    pub active: bool,
    /// Who or what disabled it, why and when (absent while enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<DisabledItem>,
    /// The source it listens to (all when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Event-type globs.
    pub event_types: Vec<String>,
    /// Payload conditions, all of which must hold.
    pub conditions: Vec<ConditionSpec>,
    /// Where it sends.
    pub destinations: Vec<String>,
    /// Its transformer (the body as received when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transformer: Option<String>,
    /// Higher first.
    pub priority: i32,
    /// The body to update it with (API-managed routes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<RouteSpec>,
    /// When it was created (API-managed routes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When it last changed (API-managed routes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl From<RouteView> for RouteItem {
    fn from(view: RouteView) -> Self {
        let (created_at, updated_at) = stamps(view.stamps);
        Self {
            name: view.name,
            managed_by: view.managed_by,
            active: view.active,
            disabled: view.disabled.map(DisabledItem::from),
            source: view.source,
            event_types: view.event_types,
            conditions: view.conditions,
            destinations: view.destinations,
            transformer: view.transformer,
            priority: view.priority,
            spec: view.spec,
            created_at,
            updated_at,
        }
    }
}

/// A sample event to try a route on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteTestRequest {
    /// The source it arrives on (default: the route's, else `test`).
    pub source: Option<String>,
    /// Its event type.
    pub event_type: String,
    /// Its headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Its JSON payload.
    pub payload: Value,
}

/// One condition of a route test.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConditionResult {
    /// The JSONPath.
    pub path: String,
    /// The operator.
    pub op: Op,
    /// The operand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Whether it holds for the sample.
    pub passed: bool,
}

/// What one destination would be sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestDeliveryItem {
    /// The destination.
    pub destination: String,
    /// The transformed body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Why the transformer refused the sample (the delivery would be dead-lettered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The transformer's headers.
    pub headers: BTreeMap<String, String>,
    /// Set when a higher-priority matching route delivers to this destination instead (one
    /// delivery per destination per event): the destination gets that route's delivery, not
    /// this body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_by: Option<String>,
}

impl From<TestDelivery> for TestDeliveryItem {
    fn from(d: TestDelivery) -> Self {
        let (body, error) = match d.body {
            Ok(body) => (Some(body), None),
            Err(error) => (None, Some(error)),
        };
        Self {
            destination: d.destination,
            body,
            error,
            headers: d.headers.into_iter().collect(),
            delivered_by: d.delivered_by,
        }
    }
}

/// What a route does with a sample event.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteTestItem {
    /// Whether it matches (and the route is active).
    pub matched: bool,
    /// Whether the route is active.
    pub active: bool,
    /// Whether the source is the route's (or it takes any).
    pub source_matches: bool,
    /// Whether the event type matches one of its globs.
    pub event_type_matches: bool,
    /// Each condition and whether it holds.
    pub conditions: Vec<ConditionResult>,
    /// What each destination would be sent (when it matches).
    pub deliveries: Vec<TestDeliveryItem>,
}

impl From<RouteTest> for RouteTestItem {
    fn from(t: RouteTest) -> Self {
        Self {
            matched: t.matched,
            active: t.active,
            source_matches: t.source_matches,
            event_type_matches: t.event_type_matches,
            conditions: (t.conditions.into_iter())
                .map(|(c, passed)| ConditionResult {
                    path: c.path,
                    op: c.op,
                    value: c.value,
                    passed,
                })
                .collect(),
            deliveries: t.deliveries.into_iter().map(Into::into).collect(),
        }
    }
}
