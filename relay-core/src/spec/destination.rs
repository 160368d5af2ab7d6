//! [`DestinationSpec`]: validated into an [`HttpDestinationSpec`] and a [`Destination`].

use serde::{Deserialize, Serialize};

use crate::destination::{
    BreakerSettings, Destination, DestinationError, DestinationSettings, HttpDestinationSpec,
    RetrySettings, Target,
};
use crate::guard::AddressGuard;
use crate::ordering::OnDeadLetter;
use crate::secret::Secret;

use super::{Problem, Resolve};

/// An HTTP destination. Its `Debug` output never shows the credentials.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DestinationSpec {
    /// The name routes refer to.
    pub name: String,
    /// `http://` or `https://` endpoint.
    pub url: String,
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
}

impl std::fmt::Debug for DestinationSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |set: bool| if set { "[redacted]" } else { "None" };
        f.debug_struct("DestinationSpec")
            .field("name", &self.name)
            .field("url", &self.url)
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
        positive(
            "circuit_breaker.failures",
            breaker.failures.map(u64::from),
            problems,
        );
        positive("circuit_breaker.window_ms", breaker.window_ms, problems);
        positive("circuit_breaker.open_ms", breaker.open_ms, problems);
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
        },
    };
    match described.build() {
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
        Err(e) => {
            problems.push(Problem::new(format!("{key}.url"), e.to_string()));
            None
        }
    }
}

fn check_retry(key: &str, retry: &RetrySettings, problems: &mut Vec<Problem>) {
    if let Err(e) = retry.policy() {
        problems.push(Problem::new(format!("{key}.retry.{}", e.field), e.reason));
    }
}
