//! Rate limits: "at most N in any 60 s window", checked per key.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::model::time::Timestamp;

#[cfg(feature = "conformance")]
pub mod conformance;

/// The window every `per_minute` limit is measured over.
pub const WINDOW: Duration = Duration::from_secs(60);

/// A limit of `per_minute` admissions in any 60-second window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RateLimit {
    /// Admissions allowed in any 60-second window.
    pub per_minute: u32,
}

/// The answer of a limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Admitted (and counted).
    Allowed,
    /// Over the limit: try again after this long.
    Limited {
        /// How long until an admission frees up.
        retry_after: Duration,
    },
}

/// A limiter backend could not answer.
#[derive(Debug, thiserror::Error)]
#[error("rate limiter unavailable: {0}")]
pub struct LimiterError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Counts admissions per key. The in-process [`SlidingWindowLimiter`] is the default; a shared
/// backend (Redis) implements the same trait so several nodes share one budget.
#[async_trait]
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Admits one more for `key` under `limit` at `now`, or says how long to wait.
    async fn acquire(
        &self,
        key: &str,
        limit: RateLimit,
        now: Timestamp,
    ) -> Result<RateDecision, LimiterError>;

    /// Admits one more for `key` under a budget of `per_second` in any one-second window that
    /// every user of this limiter shares, or `Ok(None)` when this limiter keeps no shared
    /// budget (the default): the relay then throttles with a token bucket in process.
    async fn acquire_per_second(
        &self,
        key: &str,
        per_second: u32,
        now: Timestamp,
    ) -> Result<Option<RateDecision>, LimiterError> {
        let _ = (key, per_second, now);
        Ok(None)
    }
}

/// An exact sliding-window log kept in memory: no 60-second window ever admits more than the
/// limit. Memory per key is bounded by the limit, and keys idle for a whole window (a client
/// address seen once, say) are swept out once a window, so the number of keys is bounded by
/// those active in the last two windows.
#[derive(Debug, Default)]
pub struct SlidingWindowLimiter {
    windows: Mutex<HashMap<String, VecDeque<Timestamp>>>,
    /// When idle keys were last swept out.
    swept: Mutex<Option<Timestamp>>,
}

impl SlidingWindowLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self::default()
    }

    fn decide(&self, key: &str, limit: RateLimit, now: Timestamp) -> RateDecision {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let window_start = now.as_millis() - WINDOW.as_millis() as i64;
        self.sweep(&mut windows, now, window_start);
        let log = windows.entry(key.to_owned()).or_default();
        while log.front().is_some_and(|t| t.as_millis() <= window_start) {
            log.pop_front();
        }
        if log.len() < limit.per_minute as usize {
            log.push_back(now);
            return RateDecision::Allowed;
        }
        let oldest = log.front().copied().unwrap_or(now);
        RateDecision::Limited {
            retry_after: oldest.plus(WINDOW).since(now),
        }
    }
}

impl SlidingWindowLimiter {
    /// Removes the keys with nothing in the window, at most once a window.
    fn sweep(
        &self,
        windows: &mut HashMap<String, VecDeque<Timestamp>>,
        now: Timestamp,
        window_start: i64,
    ) {
        let mut swept = self.swept.lock().unwrap_or_else(|p| p.into_inner());
        if swept.is_some_and(|at| at.as_millis() > window_start) {
            return;
        }
        *swept = Some(now);
        windows.retain(|_, log| log.back().is_some_and(|t| t.as_millis() > window_start));
    }

    /// How many keys are kept.
    #[cfg(test)]
    fn keys(&self) -> usize {
        self.windows.lock().map(|w| w.len()).unwrap_or_default()
    }
}

#[async_trait]
impl RateLimiter for SlidingWindowLimiter {
    async fn acquire(
        &self,
        key: &str,
        limit: RateLimit,
        now: Timestamp,
    ) -> Result<RateDecision, LimiterError> {
        Ok(self.decide(key, limit, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_window_admits_more_than_the_limit() {
        let limiter = SlidingWindowLimiter::new();
        let limit = RateLimit { per_minute: 3 };
        let at = |ms| Timestamp::from_millis(ms);
        for ms in [0, 10, 20] {
            assert_eq!(limiter.decide("k", limit, at(ms)), RateDecision::Allowed);
        }
        assert_eq!(
            limiter.decide("k", limit, at(30)),
            RateDecision::Limited {
                retry_after: Duration::from_millis(59_970)
            }
        );
        assert_eq!(
            limiter.decide("other", limit, at(30)),
            RateDecision::Allowed
        );
        assert_eq!(
            limiter.decide("k", limit, at(60_000)),
            RateDecision::Allowed
        );
        assert!(matches!(
            limiter.decide("k", limit, at(60_005)),
            RateDecision::Limited { .. }
        ));
    }

    #[test]
    fn idle_keys_are_swept_out() {
        let limiter = SlidingWindowLimiter::new();
        let limit = RateLimit { per_minute: 5 };
        for client in 0..1_000 {
            let key = format!("client:{client}");
            limiter.decide(&key, limit, Timestamp::from_millis(client));
        }
        assert_eq!(limiter.keys(), 1_000);
        let later = Timestamp::from_millis(70_000);
        assert_eq!(
            limiter.decide("client:new", limit, later),
            RateDecision::Allowed
        );
        assert_eq!(
            limiter.keys(),
            1,
            "only the key of the current window is kept"
        );
    }

    #[test]
    fn zero_limit_refuses_everything() {
        let limiter = SlidingWindowLimiter::new();
        let decision = limiter.decide("k", RateLimit { per_minute: 0 }, Timestamp::from_millis(5));
        assert_eq!(
            decision,
            RateDecision::Limited {
                retry_after: WINDOW
            }
        );
    }
}
