//! The circuit breaker of a destination: stop sending to a destination that keeps failing,
//! probe it now and then, and resume once it answers.
//!
//! ```text
//!  closed ──failure rate ≥ threshold, ≥ min attempts in the window──▶ open
//!    ▲                                                                 │ open_for elapsed
//!    │                                                                 ▼
//!    └──────── every probe succeeded ──────── half-open (`probes` attempts let through)
//!                                              │ a probe failed: open again
//! ```
//!
//! The breaker judges the **rate**, not a streak: the circuit opens when, within the window
//! (`window`, 60 s by default), at least `min_attempts` attempts were made (20) and at least
//! `failure_percent` of them failed (50), with 99% confidence: every attempt failed, or the
//! lower bound of the failure rate's Wilson score interval is at least `failure_percent`
//! ([`CircuitBreaker::opens`]), so a small sample of a receiver failing now and then does not
//! open it. A receiver that fails 30% of requests at random is practically never opened (16
//! failures of 20 attempts, once in 180,000); one that fails every request is opened at its
//! `min_attempts`-th failure.
//! The old rule "N consecutive failures" is `failure_percent = 100, min_attempts = N`
//! ([`CircuitBreaker::streak`]): N failures and no success within the window. Once open, it
//! stays open for `open_for` (30 s); then `probes` attempts (3) are let through, and the
//! circuit closes when all of them succeed, and opens again at the first that fails.
//!
//! The state lives in the [`Store`](crate::store::Store), so every worker of every node sees
//! the same circuit; it is changed by compare-and-set on a version, so no more than `probes`
//! probes go out however many workers try. The window's counts are part of the stored state
//! ([`CircuitWindow`], ten buckets): each node counts its attempts in memory and adds them to
//! the stored window in one compare-and-set at most once a second, or at once when its counts
//! and the stored ones together open the circuit, so every node judges the rate of every
//! node's attempts without a store write per attempt. Deliveries to an open circuit are not
//! leased until it may be probed: they are not attempted and their attempts are not counted.
//!
//! This module holds the pure state machine; the worker drives it.
//!
//! ```
//! use std::time::Duration;
//! use relay_core::deliver::circuit::{Admission, CircuitBreaker, CircuitPhase, Signal};
//! use relay_core::model::time::Timestamp;
//!
//! let breaker = CircuitBreaker { min_attempts: 4, probes: 2, ..CircuitBreaker::default() };
//! let t = |s: i64| Timestamp::from_millis(s * 1000);
//! let mut state = None;
//! for (at, signal) in [(0, Signal::Failure), (1, Signal::Failure), (2, Signal::Failure)] {
//!     state = breaker.record(state.as_ref(), signal, false, t(at));
//! }
//! assert_eq!(state.unwrap().phase, CircuitPhase::Closed, "3 of 3 failed, too few attempts");
//! let open = breaker.record(state.as_ref(), Signal::Failure, false, t(3)).unwrap();
//! assert_eq!(open.phase, CircuitPhase::Open, "4 of 4 failed");
//! assert_eq!(breaker.admit(Some(&open), t(10), Duration::from_secs(15)), Admission::Wait(t(33)));
//! let Admission::Probe(one) = breaker.admit(Some(&open), t(33), Duration::from_secs(15)) else { panic!() };
//! let Admission::Probe(two) = breaker.admit(Some(&one), t(33), Duration::from_secs(15)) else { panic!() };
//! assert!(matches!(breaker.admit(Some(&two), t(33), Duration::from_secs(15)), Admission::Wait(_)));
//! let half = breaker.record(Some(&two), Signal::Success, true, t(34)).unwrap();
//! let closed = breaker.record(Some(&half), Signal::Success, true, t(34)).unwrap();
//! assert_eq!(closed.phase, CircuitPhase::Closed);
//! ```

use std::fmt;

use crate::deliver::policy::{AttemptReport, FailureKind};
use crate::model::time::Timestamp;

mod breaker;
mod detail;
#[cfg(test)]
mod tests;
mod window;

pub use breaker::CircuitBreaker;
pub use detail::{CircuitDetail, DetailError, OpenCause};
pub use window::{BUCKETS, Bucket, CircuitWindow, Tally};

/// Where a circuit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CircuitPhase {
    /// Deliveries flow.
    Closed,
    /// Deliveries wait until the circuit may be probed.
    Open,
    /// A few probes are let through; the others wait for their results.
    HalfOpen,
}

impl CircuitPhase {
    /// The stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }

    /// Parses [`CircuitPhase::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "closed" => Some(Self::Closed),
            "open" => Some(Self::Open),
            "half_open" => Some(Self::HalfOpen),
            _ => None,
        }
    }
}

impl fmt::Display for CircuitPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A destination's circuit, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitState {
    /// Where it stands.
    pub phase: CircuitPhase,
    /// Closed: failures within the window as last written. Open or half-open: those that
    /// opened it.
    pub failures: u32,
    /// When the window as last written started.
    pub window_started: Timestamp,
    /// Open: when a probe may be sent. Half-open: when the probes' hold lapses (a worker that
    /// died mid-probe does not keep the circuit half-open for ever).
    pub until: Timestamp,
    /// The window's counts, when and why it opened, and the probes' tally.
    pub detail: CircuitDetail,
}

impl CircuitState {
    /// A closed circuit with no failure counted.
    pub const CLOSED: Self = Self {
        phase: CircuitPhase::Closed,
        failures: 0,
        window_started: Timestamp::from_millis(0),
        until: Timestamp::from_millis(0),
        detail: CircuitDetail {
            window: CircuitWindow::new(1_000),
            opened_at: None,
            attempts: 0,
            probes: 0,
            probe_successes: 0,
            cause: None,
        },
    };

    /// Why the circuit is not closed, in words (`None` when it is).
    pub fn why(&self) -> Option<String> {
        if self.phase == CircuitPhase::Closed {
            return None;
        }
        Some(match self.detail.cause {
            Some(OpenCause::Probe) => "a half-open probe failed".to_owned(),
            Some(OpenCause::Rate) => format!(
                "{} of {} attempts failed within the window",
                self.failures, self.detail.attempts
            ),
            None => format!("{} consecutive failures", self.failures),
        })
    }
}

/// A stored circuit and its version (compare-and-set token; 1 for the first write, one more
/// for each write after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionedCircuit {
    /// The state.
    pub state: CircuitState,
    /// The version.
    pub version: u64,
}

/// What an attempt says about a destination's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// It answered: 2xx, or any answer that is not a failure of the destination itself
    /// (3xx, 4xx other than 408 and 429), or an in-process handler finished.
    Success,
    /// It failed: 408, 429, 5xx, a timeout, a connection failure, a handler asking for a retry.
    Failure,
    /// Nothing was learnt: the attempt never reached the destination (a transform error, an
    /// address refused by the SSRF guard).
    Neutral,
}

impl Signal {
    /// The signal of an attempt's report.
    pub fn of(report: &AttemptReport) -> Self {
        match *report {
            AttemptReport::Handled => Self::Success,
            AttemptReport::Response { status, .. } => match status {
                408 | 429 | 500..=599 => Self::Failure,
                _ => Self::Success,
            },
            AttemptReport::Failed(kind) => match kind {
                FailureKind::Timeout
                | FailureKind::Connect
                | FailureKind::HandlerRetry
                | FailureKind::HandlerPanic => Self::Failure,
                FailureKind::HandlerReject => Self::Success,
                FailureKind::Transform
                | FailureKind::TransformPanic
                | FailureKind::BlockedAddress
                | FailureKind::AgentOffline => Self::Neutral,
            },
        }
    }
}

/// Whether a delivery may be attempted now.
// A short-lived answer, returned and matched at once: boxing the probe's state would cost an
// allocation per probe for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The circuit is closed: go.
    Pass,
    /// Go as the half-open probe, after storing this state (which claims the probe).
    Probe(CircuitState),
    /// Not before this time.
    Wait(Timestamp),
}
