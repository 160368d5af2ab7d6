//! An HTTP destination as data: what is saved in the store (credentials sealed) and what a
//! configuration file or an API request describes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{BreakerSettings, Destination, DestinationError, ForwardHeaders};
use crate::deliver::ordering::{OnDeadLetter, OrderingKey};
use crate::deliver::policy::RetryPolicy;
use crate::model::secret::Secret;

/// `retry = { max_attempts, initial_ms, max_ms }` (exponential backoff) or
/// `retry = { schedule = ["5s", "5m", "30m"] }` (explicit delays, ±20% jitter), either with
/// `give_up_after = "3d"` and `max_retry_after = "1h"` (the cap on a receiver's
/// `Retry-After`, which is otherwise a floor on the next wait); unset fields take
/// [`RetryPolicy::default`]'s values. Durations are human-readable (`humantime`: `500ms`,
/// `30s`, `5m`, `2h`, `3d`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetrySettings {
    /// Attempts in all, the first included (with a schedule: its length + 1 by default).
    pub max_attempts: Option<u32>,
    /// The first retry's delay ceiling, in milliseconds.
    pub initial_ms: Option<u64>,
    /// The largest delay, in milliseconds.
    pub max_ms: Option<u64>,
    /// Explicit delays before the 1st, 2nd, … retry; the last one repeats while
    /// `max_attempts` allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Vec<String>>,
    /// No retry later than this after the delivery was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub give_up_after: Option<String>,
    /// The longest wait a receiver's `Retry-After` can ask for (default `1h`; `0s` ignores
    /// `Retry-After`). Independent of `max_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retry_after: Option<String>,
}

/// A retry setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct RetrySettingsError {
    /// `max_attempts`, `initial_ms`, `schedule`, `schedule[N]`, `give_up_after` or
    /// `max_retry_after`.
    pub field: String,
    /// Why.
    pub reason: String,
}

fn duration(field: String, text: &str) -> Result<Duration, RetrySettingsError> {
    humantime::parse_duration(text.trim()).map_err(|e| RetrySettingsError {
        field,
        reason: format!("{text:?} is not a duration ({e}); e.g. \"30s\", \"5m\", \"3d\""),
    })
}

impl RetrySettings {
    /// The policy these settings describe.
    pub fn policy(&self) -> Result<RetryPolicy, RetrySettingsError> {
        let default = RetryPolicy::default();
        let error = |field: &str, reason: &str| RetrySettingsError {
            field: field.to_owned(),
            reason: reason.to_owned(),
        };
        let mut policy = match &self.schedule {
            None => RetryPolicy::new(
                self.max_attempts.unwrap_or(default.max_attempts),
                self.initial_ms
                    .map_or(default.backoff.initial, Duration::from_millis),
                self.max_ms
                    .map_or(default.backoff.max, Duration::from_millis),
            ),
            Some(delays) => {
                if self.initial_ms.is_some() || self.max_ms.is_some() {
                    return Err(error(
                        "schedule",
                        "a schedule replaces backoff: drop initial_ms and max_ms",
                    ));
                }
                if delays.is_empty() {
                    return Err(error("schedule", "names no delay"));
                }
                let delays = delays
                    .iter()
                    .enumerate()
                    .map(|(i, text)| duration(format!("schedule[{i}]"), text))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut policy = RetryPolicy::schedule(delays);
                if let Some(max) = self.max_attempts {
                    policy.max_attempts = max;
                }
                policy
            }
        };
        if policy.max_attempts == 0 {
            return Err(error(
                "max_attempts",
                "must be at least 1 (it counts the first attempt)",
            ));
        }
        if policy.schedule.is_empty() && policy.backoff.initial > policy.backoff.max {
            return Err(error("initial_ms", "must not exceed max_ms"));
        }
        if let Some(text) = &self.give_up_after {
            let deadline = duration("give_up_after".to_owned(), text)?;
            if deadline.is_zero() {
                return Err(error("give_up_after", "must be greater than 0"));
            }
            policy = policy.give_up_after(deadline);
        }
        if let Some(text) = &self.max_retry_after {
            policy = policy.max_retry_after(duration("max_retry_after".to_owned(), text)?);
        }
        Ok(policy)
    }
}

/// Everything about an HTTP destination except its URL and credentials; stored as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationSettings {
    /// Total attempt timeout, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Connect timeout, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_ms: Option<u64>,
    /// Attempts in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<usize>,
    /// Attempts per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_second: Option<u32>,
    /// The retry policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySettings>,
    /// The circuit breaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<BreakerSettings>,
    /// Orders deliveries by this key, `header:NAME` or a JSONPath (see
    /// [`ordering`](crate::deliver::ordering)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering_key: Option<String>,
    /// What an ordered delivery's dead letter does to its lane (default `skip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_dead_letter: Option<OnDeadLetter>,
    /// Inbound headers copied onto every delivery (see [`ForwardHeaders`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_headers: Option<Vec<String>>,
}

/// An HTTP destination described as data. Its `Debug` output never shows the credentials.
///
/// ```
/// use relay_core::deliver::destination::{DestinationSettings, HttpDestinationSpec};
/// let spec = HttpDestinationSpec {
///     name: "slack".into(),
///     url: "https://hooks.slack.com/services/T/B/X".into(),
///     signing_secret: Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
///     auth_header: Some("Bearer xoxb-secret".into()),
///     settings: DestinationSettings { max_in_flight: Some(4), ..Default::default() },
/// };
/// let destination = spec.build().unwrap();
/// assert_eq!(destination.in_flight_cap(), Some(4));
/// assert!(!format!("{spec:?}").contains("xoxb-secret"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpDestinationSpec {
    /// The name routes refer to.
    pub name: String,
    /// The `http` or `https` endpoint.
    pub url: String,
    /// The Standard Webhooks signing secret.
    pub signing_secret: Option<Secret>,
    /// The `Authorization` value.
    pub auth_header: Option<Secret>,
    /// Timeouts, caps, retries, breaker.
    pub settings: DestinationSettings,
}

impl HttpDestinationSpec {
    /// The destination this describes.
    pub fn build(&self) -> Result<Destination, DestinationError> {
        let mut destination = Destination::http(self.name.clone(), &self.url)?;
        if let Some(secret) = &self.signing_secret {
            destination = destination.signing_secret(secret.clone());
        }
        if let Some(auth) = &self.auth_header {
            destination = destination.auth_header(auth.clone());
        }
        self.settings.apply(destination)
    }
}

impl DestinationSettings {
    /// `destination` with these settings applied.
    pub fn apply(&self, mut destination: Destination) -> Result<Destination, DestinationError> {
        let s = self;
        if let Some(ms) = s.timeout_ms {
            destination = destination.timeout(Duration::from_millis(ms));
        }
        if let Some(ms) = s.connect_timeout_ms {
            destination = destination.connect_timeout(Duration::from_millis(ms));
        }
        if let Some(limit) = s.max_in_flight {
            destination = destination.max_in_flight(limit);
        }
        if let Some(per_second) = s.max_per_second {
            destination = destination.max_per_second(per_second);
        }
        if let Some(retry) = &s.retry {
            let policy = retry
                .policy()
                .map_err(|e| DestinationError::Retry(e.to_string()))?;
            destination = destination.policy(policy);
        }
        if let Some(key) = &s.ordering_key {
            let key = key
                .parse::<OrderingKey>()
                .map_err(|e| DestinationError::OrderingKey(e.to_string()))?;
            destination =
                destination.ordering(key.on_dead_letter(s.on_dead_letter.unwrap_or_default()));
        }
        if let Some(names) = &s.forward_headers {
            destination = destination.forward_headers(ForwardHeaders::new(names)?);
        }
        if let Some(breaker) = s.circuit_breaker {
            let breaker = breaker
                .breaker()
                .map_err(|e| DestinationError::Breaker(e.to_string()))?;
            destination = match breaker {
                Some(breaker) => destination.circuit_breaker(breaker),
                None => destination.without_circuit_breaker(),
            };
        }
        Ok(destination)
    }
}
