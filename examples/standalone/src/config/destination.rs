//! `[[destinations]]`: validated into a destination spec (saved sealed) and a destination.

use relay_core::destination::{
    Destination, DestinationError, DestinationSettings, HttpDestinationSpec, RetrySettings, Target,
};
use relay_core::guard::AddressGuard;
use relay_core::secret::Secret;

use super::Problem;
use super::model::DestinationSpec;
use super::source::Resolve;

/// Checks one destination; `None` (with the problems recorded) when it is unusable.
pub(super) fn destination(
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
