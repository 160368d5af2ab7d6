//! Delivery policies: what happens after an attempt.

mod backoff;

use std::fmt;
use std::time::Duration;

pub use backoff::Backoff;

/// Why an attempt failed without an HTTP answer (or before sending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No answer within the destination's timeout.
    Timeout,
    /// The connection could not be made or broke.
    Connect,
    /// The destination resolves to an address the SSRF guard refuses.
    BlockedAddress,
    /// The transformer could not shape the event.
    Transform,
    /// An in-process handler failed and asked for a retry.
    HandlerRetry,
    /// An in-process handler refused the event for good.
    HandlerReject,
}

impl FailureKind {
    /// The stable name recorded in the attempt log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::BlockedAddress => "blocked_address",
            Self::Transform => "transform",
            Self::HandlerRetry => "handler_retry",
            Self::HandlerReject => "handler_reject",
        }
    }
}

/// What one attempt came to, as a policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptReport {
    /// The destination answered with this status.
    Response {
        /// The HTTP status.
        status: u16,
        /// Its `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// In-process handler accepted the event.
    Handled,
    /// It failed without an HTTP answer.
    Failed(FailureKind),
}

/// A policy's verdict after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Done: the destination has it.
    Delivered,
    /// Try again after this long.
    RetryAfter(Duration),
    /// Give up: move the delivery to the dead-letter queue.
    DeadLetter,
    /// The destination is gone (410): dead-letter and disable it.
    DisableDestination,
}

/// Decides what happens after an attempt. `attempt` is the number of attempts made in the
/// current cycle (1 after the first); a redrive or replay starts a new cycle.
pub trait DeliveryPolicy: Send + Sync + fmt::Debug {
    /// The verdict for this attempt.
    fn decide(&self, attempt: u32, report: &AttemptReport) -> Decision;
}

/// The default policy: 2xx delivered; 408, 429, 5xx, 3xx (redirects are not followed),
/// timeouts and connection errors retried with [`Backoff`] honouring `Retry-After`, until
/// `max_attempts` attempts (the first included) have been made; 410 disables the destination;
/// any other 4xx, a refused address, a transform error or a handler rejection dead-letters at
/// once, since retrying cannot fix them.
///
/// ```
/// use std::time::Duration;
/// use relay_core::policy::{AttemptReport, Decision, DeliveryPolicy, RetryPolicy};
/// let policy = RetryPolicy::default();
/// let ok = AttemptReport::Response { status: 204, retry_after: None };
/// assert_eq!(policy.decide(1, &ok), Decision::Delivered);
/// let gone = AttemptReport::Response { status: 410, retry_after: None };
/// assert_eq!(policy.decide(1, &gone), Decision::DisableDestination);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The delays between attempts.
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    /// 8 attempts, backoff from 1 s up to 1 hour.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(3_600),
            },
        }
    }
}

impl RetryPolicy {
    /// `max_attempts` attempts with backoff from `initial` up to `max`.
    pub fn new(max_attempts: u32, initial: Duration, max: Duration) -> Self {
        Self {
            max_attempts,
            backoff: Backoff { initial, max },
        }
    }

    fn retry(&self, attempt: u32, retry_after: Option<Duration>) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::DeadLetter;
        }
        Decision::RetryAfter(self.backoff.delay(attempt, retry_after, &mut rand::rng()))
    }
}

impl DeliveryPolicy for RetryPolicy {
    fn decide(&self, attempt: u32, report: &AttemptReport) -> Decision {
        match *report {
            AttemptReport::Handled => Decision::Delivered,
            AttemptReport::Response {
                status,
                retry_after,
            } => match status {
                200..=299 => Decision::Delivered,
                410 => Decision::DisableDestination,
                408 | 429 | 300..=399 | 500..=599 => self.retry(attempt, retry_after),
                _ => Decision::DeadLetter,
            },
            AttemptReport::Failed(kind) => match kind {
                FailureKind::Timeout | FailureKind::Connect | FailureKind::HandlerRetry => {
                    self.retry(attempt, None)
                }
                FailureKind::BlockedAddress
                | FailureKind::Transform
                | FailureKind::HandlerReject => Decision::DeadLetter,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16) -> AttemptReport {
        AttemptReport::Response {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn outcome_rules() {
        let p = RetryPolicy::new(3, Duration::from_millis(10), Duration::from_millis(100));
        for status in [200, 201, 204, 299] {
            assert_eq!(
                p.decide(1, &response(status)),
                Decision::Delivered,
                "{status}"
            );
        }
        for status in [301, 302, 408, 429, 500, 502, 503] {
            assert!(
                matches!(p.decide(1, &response(status)), Decision::RetryAfter(_)),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 422] {
            assert_eq!(
                p.decide(1, &response(status)),
                Decision::DeadLetter,
                "{status}"
            );
        }
        assert_eq!(p.decide(1, &response(410)), Decision::DisableDestination);
        assert!(matches!(
            p.decide(1, &AttemptReport::Failed(FailureKind::Timeout)),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            p.decide(1, &AttemptReport::Failed(FailureKind::Transform)),
            Decision::DeadLetter
        );
        assert_eq!(p.decide(1, &AttemptReport::Handled), Decision::Delivered);
    }

    #[test]
    fn max_attempts_counts_the_first_attempt() {
        let p = RetryPolicy::new(3, Duration::from_millis(10), Duration::from_millis(100));
        assert!(matches!(
            p.decide(2, &response(500)),
            Decision::RetryAfter(_)
        ));
        assert_eq!(p.decide(3, &response(500)), Decision::DeadLetter);
        assert_eq!(
            RetryPolicy::new(1, Duration::ZERO, Duration::ZERO).decide(1, &response(500)),
            Decision::DeadLetter
        );
    }

    #[test]
    fn retry_after_is_honoured_up_to_max() {
        let p = RetryPolicy::new(5, Duration::from_millis(1), Duration::from_secs(10));
        let report = AttemptReport::Response {
            status: 503,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            p.decide(1, &report),
            Decision::RetryAfter(Duration::from_secs(3))
        );
        let report = AttemptReport::Response {
            status: 503,
            retry_after: Some(Duration::from_secs(999)),
        };
        assert_eq!(
            p.decide(1, &report),
            Decision::RetryAfter(Duration::from_secs(10))
        );
    }
}
