//! [`DestinationSpec`]: validated into an [`HttpDestinationSpec`] and a [`Destination`].

use serde::{Deserialize, Serialize};

use crate::deliver::destination::{
    BreakerSettings, Destination, DestinationError, DestinationSettings, HttpDestinationSpec,
    RetrySettings, Target,
};
use crate::deliver::guard::AddressGuard;
use crate::deliver::ordering::OnDeadLetter;
use crate::model::secret::Secret;

use super::{Problem, Resolve};

/// An HTTP destination. Its `Debug` output never shows the credentials.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DestinationSpec {
    /// The name routes refer to.
    pub name: String,
    /// `http://` or `https://` endpoint (HTTP destinations; absent for `kind = "agent"`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// `http` (the default) or `agent`: delivered through the [agent](crate::control::agent) named
    /// by `agent`, to a target inside `allow_targets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<DestinationKind>,
    /// The agent's name (`kind = "agent"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// URL prefixes the agent may forward to, e.g. `["http://localhost:3000/"]`
    /// (`kind = "agent"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_targets: Option<Vec<String>>,
    /// Outbound Standard Webhooks signing secret (`whsec_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// Sent as `Authorization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<String>,
    /// Attempt timeout in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Connect timeout (DNS, TCP, TLS) in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_ms: Option<u64>,
    /// At most this many attempts in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<usize>,
    /// At most this many attempts per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_second: Option<u32>,
    /// Retry policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySettings>,
    /// Circuit breaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<BreakerSettings>,
    /// Delivers events with the same key (`header:NAME` or `$.json.path`) one at a time, in
    /// ingest order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering_key: Option<String>,
    /// `skip` (default) or `block`: whether a dead-lettered ordered delivery lets its key's
    /// later deliveries go on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_dead_letter: Option<OnDeadLetter>,
    /// Inbound headers copied onto every delivery, e.g. `["X-GitHub-Event"]` (not hop-by-hop
    /// headers, `host`, `content-length`, `authorization` or Relay's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_headers: Option<Vec<String>>,
}

/// A destination's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    /// POST to `url`.
    #[default]
    Http,
    /// Hand to a connected agent.
    Agent,
}

impl std::fmt::Debug for DestinationSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |set: bool| if set { "[redacted]" } else { "None" };
        f.debug_struct("DestinationSpec")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("kind", &self.kind)
            .field("agent", &self.agent)
            .field("signing_secret", &shown(self.signing_secret.is_some()))
            .field("auth_header", &shown(self.auth_header.is_some()))
            .finish_non_exhaustive()
    }
}

impl DestinationSpec {
    /// Checks it: the destination as data (credentials resolved) and as built, or `None` with
    /// the problems recorded under `key`. The URL must pass `guard`.
    pub fn build(
        &self,
        key: &str,
        guard: &AddressGuard,
        resolve: &Resolve<'_>,
        problems: &mut Vec<Problem>,
    ) -> Option<(HttpDestinationSpec, Destination)> {
        build(key, self, guard, resolve, problems)
    }
}

fn build(
    key: &str,
    spec: &DestinationSpec,
    guard: &AddressGuard,
    resolve: &Resolve<'_>,
    problems: &mut Vec<Problem>,
) -> Option<(HttpDestinationSpec, Destination)> {
    let before = problems.len();
    let mut secret = |field: &str, value: &Option<String>| {
        value
            .as_ref()
            .and_then(|value| resolve(&format!("{key}.{field}"), value, problems).map(Secret::new))
    };
    let signing_secret = secret("signing_secret", &spec.signing_secret);
    let auth_header = secret("auth_header", &spec.auth_header);
    let positive = |field: &str, value: Option<u64>, problems: &mut Vec<Problem>| {
        if value == Some(0) {
            problems.push(Problem::new(
                format!("{key}.{field}"),
                "must be greater than 0",
            ));
        }
    };
    positive("timeout_ms", spec.timeout_ms, problems);
    positive("connect_timeout_ms", spec.connect_timeout_ms, problems);
    if spec.max_in_flight == Some(0) {
        problems.push(Problem::new(
            format!("{key}.max_in_flight"),
            "must be at least 1",
        ));
    }
    if spec.max_per_second == Some(0) {
        problems.push(Problem::new(
            format!("{key}.max_per_second"),
            "must be at least 1",
        ));
    }
    if let Some(retry) = &spec.retry {
        check_retry(key, retry, problems);
    }
    if let Some(breaker) = spec.circuit_breaker {
        for problem in breaker.problems() {
            problems.push(Problem::new(
                format!("{key}.circuit_breaker.{}", problem.field),
                problem.reason,
            ));
        }
    }
    let described = HttpDestinationSpec {
        name: spec.name.clone(),
        url: spec.url.clone(),
        signing_secret,
        auth_header,
        settings: DestinationSettings {
            timeout_ms: spec.timeout_ms,
            connect_timeout_ms: spec.connect_timeout_ms,
            max_in_flight: spec.max_in_flight,
            max_per_second: spec.max_per_second,
            retry: spec.retry.clone(),
            circuit_breaker: spec.circuit_breaker,
            ordering_key: spec.ordering_key.clone(),
            on_dead_letter: spec.on_dead_letter,
            forward_headers: spec.forward_headers.clone(),
        },
    };
    let built = match spec.kind.unwrap_or_default() {
        DestinationKind::Http => {
            if spec.agent.is_some() || spec.allow_targets.is_some() {
                problems.push(Problem::new(
                    format!("{key}.kind"),
                    "`agent` and `allow_targets` need kind = \"agent\"",
                ));
            }
            described.build()
        }
        DestinationKind::Agent => agent_destination(key, spec, &described, problems),
    };
    match built {
        Ok(built) => {
            if let Target::Http { url, .. } = built.target()
                && let Err(blocked) = guard.check_url(url)
            {
                problems.push(Problem::new(format!("{key}.url"), blocked.to_string()));
            }
            (problems.len() == before).then_some((described, built))
        }
        Err(DestinationError::Retry(_)) => None, // reported by check_retry
        Err(DestinationError::OrderingKey(reason)) => {
            problems.push(Problem::new(format!("{key}.ordering_key"), reason));
            None
        }
        Err(DestinationError::ForwardHeader(error)) => {
            let field = format!("{key}.forward_headers[{}]", error.index);
            problems.push(Problem::new(field, error.reason));
            None
        }
        Err(e) => {
            problems.push(Problem::new(format!("{key}.url"), e.to_string()));
            None
        }
    }
}

fn agent_destination(
    key: &str,
    spec: &DestinationSpec,
    described: &HttpDestinationSpec,
    problems: &mut Vec<Problem>,
) -> Result<Destination, DestinationError> {
    if !spec.url.is_empty() {
        problems.push(Problem::new(
            format!("{key}.url"),
            "an agent destination has no url: its agent forwards to one of `allow_targets`",
        ));
    }
    match &spec.agent {
        Some(agent) => super::check_name(&format!("{key}.agent"), agent, problems),
        None => problems.push(Problem::new(
            format!("{key}.agent"),
            "missing: the name of the agent that delivers for it",
        )),
    }
    let allow = spec.allow_targets.clone().unwrap_or_default();
    if allow.is_empty() {
        problems.push(Problem::new(
            format!("{key}.allow_targets"),
            "name at least one URL prefix the agent may forward to, e.g. \"http://localhost:3000/\"",
        ));
    }
    for (i, prefix) in allow.iter().enumerate() {
        if crate::control::agent::normalise_target(prefix).is_none() {
            problems.push(Problem::new(
                format!("{key}.allow_targets[{i}]"),
                "not an http:// or https:// URL",
            ));
        }
    }
    let mut destination = Destination::agent(
        spec.name.clone(),
        spec.agent.clone().unwrap_or_default(),
        allow,
    );
    if let Some(secret) = &described.signing_secret {
        destination = destination.signing_secret(secret.clone());
    }
    if described.auth_header.is_some() {
        problems.push(Problem::new(
            format!("{key}.auth_header"),
            "an agent destination sends no Authorization header",
        ));
    }
    described.settings.apply(destination)
}

fn check_retry(key: &str, retry: &RetrySettings, problems: &mut Vec<Problem>) {
    if let Err(e) = retry.policy() {
        problems.push(Problem::new(format!("{key}.retry.{}", e.field), e.reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::definition::literal;

    fn check(json: serde_json::Value) -> (Option<Destination>, Vec<String>) {
        let spec: DestinationSpec = serde_json::from_value(json).unwrap();
        let mut problems = Vec::new();
        let built = spec.build("d", &AddressGuard::default(), &literal, &mut problems);
        let keys = problems.into_iter().map(|p| p.key).collect();
        (built.map(|(_, d)| d), keys)
    }

    #[test]
    fn agent_destinations_name_their_agent_and_allowed_targets() {
        let (built, problems) = check(serde_json::json!({
            "name": "laptop", "kind": "agent", "agent": "dev",
            "allow_targets": ["http://localhost:3000/"], "timeout_ms": 500,
        }));
        assert!(problems.is_empty(), "{problems:?}");
        let built = built.unwrap();
        assert!(matches!(
            built.target(),
            Target::Agent { agent, allow_targets } if agent == "dev" && allow_targets.len() == 1
        ));
        assert_eq!(
            built.attempt_timeout(),
            std::time::Duration::from_millis(500)
        );

        let (built, problems) = check(serde_json::json!({
            "name": "laptop", "kind": "agent", "url": "http://x/",
            "allow_targets": ["ftp://x/"], "auth_header": "Bearer x",
        }));
        assert!(built.is_none());
        assert_eq!(
            problems,
            ["d.url", "d.agent", "d.allow_targets[0]", "d.auth_header"]
        );
        let (_, problems) = check(serde_json::json!({"name": "x", "kind": "agent", "agent": "a"}));
        assert_eq!(problems, ["d.allow_targets"]);
        let (_, problems) =
            check(serde_json::json!({"name": "x", "url": "https://example.com/", "agent": "a"}));
        assert_eq!(problems, ["d.kind"]);
        let (_, problems) = check(serde_json::json!({"name": "x"}));
        assert_eq!(problems, ["d.url"]);
    }
}
