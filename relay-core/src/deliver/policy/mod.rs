//! Delivery policies: what happens after an attempt.

mod backoff;
mod retry;

use std::fmt;
use std::time::Duration;

pub use backoff::Backoff;
pub use retry::{DEFAULT_MAX_RETRY_AFTER, RetryPolicy, SCHEDULE_JITTER};

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
    /// The destination is an [agent](crate::control::agent) that is not connected to this process, or
    /// whose connection broke before it answered.
    AgentOffline,
    /// The route's transformer panicked while shaping the event.
    TransformPanic,
    /// An in-process handler panicked.
    HandlerPanic,
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
            Self::AgentOffline => "agent_offline",
            Self::TransformPanic => "transform_panic",
            Self::HandlerPanic => "handler_panic",
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

    /// The verdict for this attempt of a delivery created `age` ago (what the worker asks; by
    /// default the same as [`DeliveryPolicy::decide`]).
    fn decide_at_age(&self, attempt: u32, report: &AttemptReport, age: Duration) -> Decision {
        let _ = age;
        self.decide(attempt, report)
    }
}

#[cfg(test)]
mod tests;
