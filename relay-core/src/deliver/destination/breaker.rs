//! `circuit_breaker = { … }`: a destination's [`CircuitBreaker`] as data (config file, admin
//! API, stored destinations), and the checks that refuse settings it cannot use.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::deliver::circuit::{BUCKETS, CircuitBreaker};

/// `circuit_breaker = { failure_percent, min_attempts, window_ms, open_ms, probes }`,
/// `{ failures = N }` (the streak rule: N failures and no success within the window, one
/// probe) or `{ enabled = false }`; unset fields take [`CircuitBreaker::default`]'s values
/// (50% of at least 20 attempts within 60 000 ms open it for 30 000 ms; then 3 probes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BreakerSettings {
    /// `false` turns the breaker off.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// The streak rule: this many failures and no success within the window open the
    /// circuit (`failure_percent = 100, min_attempts = failures`, one probe). Not with
    /// `failure_percent` or `min_attempts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub failures: Option<u32>,
    /// The share of failed attempts within the window that opens the circuit, in percent
    /// (1 to 100; default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub failure_percent: Option<u32>,
    /// The fewest attempts within the window that can open it (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub min_attempts: Option<u32>,
    /// The window attempts are counted in, in milliseconds (at least 10; default 60 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 10))]
    pub window_ms: Option<u64>,
    /// How long the circuit stays open before probes, in milliseconds (default 30 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub open_ms: Option<u64>,
    /// How many probes a half-open circuit lets through; all must succeed to close it
    /// (default 3; 1 with `failures`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub probes: Option<u32>,
}

fn enabled() -> bool {
    true
}

/// A circuit-breaker setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct BreakerSettingsError {
    /// The setting: `failures`, `failure_percent`, `min_attempts`, `window_ms`, `open_ms`
    /// or `probes`.
    pub field: &'static str,
    /// Why.
    pub reason: &'static str,
}

impl BreakerSettings {
    /// Every setting that cannot be used (empty when all can).
    pub fn problems(&self) -> Vec<BreakerSettingsError> {
        let mut problems = Vec::new();
        let mut refuse = |field, reason| problems.push(BreakerSettingsError { field, reason });
        if self.failures == Some(0) {
            refuse("failures", "must be greater than 0");
        }
        if self.failures.is_some()
            && (self.failure_percent.is_some() || self.min_attempts.is_some())
        {
            refuse(
                "failures",
                "is the streak rule (failure_percent = 100, min_attempts = failures): give either failures or failure_percent and min_attempts",
            );
        }
        if self
            .failure_percent
            .is_some_and(|p| !(1..=100).contains(&p))
        {
            refuse("failure_percent", "must be from 1 to 100");
        }
        if self.min_attempts == Some(0) {
            refuse("min_attempts", "must be at least 1");
        }
        if self.window_ms.is_some_and(|ms| ms < BUCKETS as u64) {
            refuse(
                "window_ms",
                "must be at least 10 (the window is counted in 10 buckets)",
            );
        }
        if self.open_ms == Some(0) {
            refuse("open_ms", "must be greater than 0");
        }
        if self.probes == Some(0) {
            refuse("probes", "must be at least 1");
        }
        problems
    }

    /// The breaker these settings describe (`None` when disabled), or the first setting
    /// that cannot be used.
    pub fn breaker(&self) -> Result<Option<CircuitBreaker>, BreakerSettingsError> {
        if let Some(problem) = self.problems().into_iter().next() {
            return Err(problem);
        }
        if !self.enabled {
            return Ok(None);
        }
        let base = self
            .failures
            .map_or_else(CircuitBreaker::default, CircuitBreaker::streak);
        Ok(Some(CircuitBreaker {
            failure_percent: self.failure_percent.unwrap_or(base.failure_percent),
            min_attempts: self.min_attempts.unwrap_or(base.min_attempts),
            window: self.window_ms.map_or(base.window, Duration::from_millis),
            open_for: self.open_ms.map_or(base.open_for, Duration::from_millis),
            probes: self.probes.unwrap_or(base.probes),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: &str) -> BreakerSettings {
        serde_json::from_str(&format!("{{{json}}}")).unwrap()
    }

    #[test]
    fn unset_fields_take_the_defaults_and_failures_is_the_streak_rule() {
        assert_eq!(settings("").breaker(), Ok(Some(CircuitBreaker::default())));
        assert_eq!(settings(r#""enabled": false"#).breaker(), Ok(None));
        let streak = settings(r#""failures": 5, "open_ms": 1000"#)
            .breaker()
            .unwrap()
            .unwrap();
        assert_eq!(
            (streak.failure_percent, streak.min_attempts, streak.probes),
            (100, 5, 1)
        );
        assert_eq!(streak.open_for, Duration::from_secs(1));
        let rate = settings(
            r#""failure_percent": 30, "min_attempts": 50, "window_ms": 10000, "probes": 5"#,
        )
        .breaker()
        .unwrap()
        .unwrap();
        assert_eq!(
            rate,
            CircuitBreaker {
                failure_percent: 30,
                min_attempts: 50,
                window: Duration::from_secs(10),
                probes: 5,
                ..CircuitBreaker::default()
            }
        );
    }

    #[test]
    fn unusable_settings_are_refused_with_their_field() {
        for (text, field) in [
            (r#""failures": 0"#, "failures"),
            (r#""failures": 5, "min_attempts": 3"#, "failures"),
            (r#""failures": 5, "failure_percent": 90"#, "failures"),
            (r#""failure_percent": 0"#, "failure_percent"),
            (r#""failure_percent": 101"#, "failure_percent"),
            (r#""min_attempts": 0"#, "min_attempts"),
            (r#""window_ms": 9"#, "window_ms"),
            (r#""open_ms": 0"#, "open_ms"),
            (r#""probes": 0"#, "probes"),
        ] {
            let refused = settings(text).breaker().expect_err(text);
            assert_eq!(refused.field, field, "{text}");
        }
    }
}
