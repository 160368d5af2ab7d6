//! The circuit breaker of a destination: stop sending to a destination that keeps failing,
//! probe it now and then, and resume once it answers.
//!
//! ```text
//!  closed ──N failures within the window──▶ open ──open_for elapsed──▶ half-open (one probe)
//!    ▲                                       ▲                              │
//!    └────────────── probe succeeded ────────┼──────────────────────────────┤
//!                                            └──────── probe failed ────────┘
//! ```
//!
//! The state lives in the [`Store`](crate::store::Store), so every worker of every node sees
//! the same circuit; it is changed by compare-and-set on a version, so two workers never both
//! send the half-open probe. Deliveries to an open circuit are put back in the queue until it
//! may be probed: they are not attempted and their attempts are not counted.
//!
//! This module holds the pure state machine; the worker drives it.
//!
//! ```
//! use std::time::Duration;
//! use relay_core::deliver::circuit::{Admission, CircuitBreaker, CircuitPhase, Signal};
//! use relay_core::model::time::Timestamp;
//!
//! let breaker = CircuitBreaker { failure_threshold: 2, window: Duration::from_secs(60), open_for: Duration::from_secs(30) };
//! let t = |s: i64| Timestamp::from_millis(s * 1000);
//! let one = breaker.record(None, Signal::Failure, false, t(0)).unwrap();
//! let open = breaker.record(Some(&one), Signal::Failure, false, t(1)).unwrap();
//! assert_eq!(open.phase, CircuitPhase::Open);
//! assert_eq!(breaker.admit(Some(&open), t(10), Duration::from_secs(15)), Admission::Wait(t(31)));
//! let Admission::Probe(probing) = breaker.admit(Some(&open), t(31), Duration::from_secs(15)) else { panic!() };
//! let closed = breaker.record(Some(&probing), Signal::Success, true, t(32)).unwrap();
//! assert_eq!(closed.phase, CircuitPhase::Closed);
//! ```

use std::fmt;
use std::time::Duration;

use crate::deliver::policy::{AttemptReport, FailureKind};
use crate::model::time::Timestamp;

/// Where a circuit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CircuitPhase {
    /// Deliveries flow.
    Closed,
    /// Deliveries wait until the circuit may be probed.
    Open,
    /// One probe is in flight; the others wait for its result.
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
    /// Consecutive failures counted in the current window (closed), or those that opened it.
    pub failures: u32,
    /// When the current failure window started.
    pub window_started: Timestamp,
    /// Open: when a probe may be sent. Half-open: when the probe's hold lapses (a worker that
    /// died mid-probe does not keep the circuit half-open for ever).
    pub until: Timestamp,
}

impl CircuitState {
    /// A closed circuit with no failure counted.
    pub const CLOSED: Self = Self {
        phase: CircuitPhase::Closed,
        failures: 0,
        window_started: Timestamp::from_millis(0),
        until: Timestamp::from_millis(0),
    };
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The circuit is closed: go.
    Pass,
    /// Go as the half-open probe, after storing this state (which claims the probe).
    Probe(CircuitState),
    /// Not before this time.
    Wait(Timestamp),
}

/// When a destination's circuit opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreaker {
    /// Consecutive failures within `window` that open the circuit (at least 1).
    pub failure_threshold: u32,
    /// The window failures are counted in; a success resets the count.
    pub window: Duration,
    /// How long the circuit stays open before one probe is let through.
    pub open_for: Duration,
}

impl Default for CircuitBreaker {
    /// 5 consecutive failures within 60 s open the circuit for 30 s.
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
        }
    }
}

impl CircuitBreaker {
    /// Whether a delivery may go at `now`. `hold` is how long a probe may take before another
    /// worker may probe instead.
    pub fn admit(
        &self,
        current: Option<&CircuitState>,
        now: Timestamp,
        hold: Duration,
    ) -> Admission {
        let Some(state) = current else {
            return Admission::Pass;
        };
        match state.phase {
            CircuitPhase::Closed => Admission::Pass,
            CircuitPhase::Open | CircuitPhase::HalfOpen if now < state.until => {
                Admission::Wait(state.until)
            }
            CircuitPhase::Open | CircuitPhase::HalfOpen => Admission::Probe(CircuitState {
                phase: CircuitPhase::HalfOpen,
                until: now.plus(hold),
                ..*state
            }),
        }
    }

    /// The state after an attempt that signalled `signal` at `now`; `probe` when the attempt
    /// was the half-open probe. `None` when nothing changes (nothing to write).
    pub fn record(
        &self,
        current: Option<&CircuitState>,
        signal: Signal,
        probe: bool,
        now: Timestamp,
    ) -> Option<CircuitState> {
        let state = current.copied().unwrap_or(CircuitState::CLOSED);
        match (state.phase, signal) {
            (CircuitPhase::Closed, Signal::Failure) => {
                let fresh = state.failures == 0 || now >= state.window_started.plus(self.window);
                let (failures, window_started) = if fresh {
                    (1, now)
                } else {
                    (state.failures.saturating_add(1), state.window_started)
                };
                Some(if failures >= self.failure_threshold.max(1) {
                    CircuitState {
                        phase: CircuitPhase::Open,
                        failures,
                        window_started,
                        until: now.plus(self.open_for),
                    }
                } else {
                    CircuitState {
                        failures,
                        window_started,
                        ..CircuitState::CLOSED
                    }
                })
            }
            (CircuitPhase::Closed, Signal::Success) if state.failures > 0 => {
                Some(CircuitState::CLOSED)
            }
            (CircuitPhase::HalfOpen, _) if probe => Some(match signal {
                Signal::Success => CircuitState::CLOSED,
                Signal::Failure => CircuitState {
                    phase: CircuitPhase::Open,
                    failures: state.failures.saturating_add(1),
                    window_started: state.window_started,
                    until: now.plus(self.open_for),
                },
                // The probe learnt nothing: let the next delivery probe at once.
                Signal::Neutral => CircuitState {
                    until: now,
                    ..state
                },
            }),
            // Results of attempts that started before the circuit opened change nothing.
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BREAKER: CircuitBreaker = CircuitBreaker {
        failure_threshold: 3,
        window: Duration::from_secs(10),
        open_for: Duration::from_secs(5),
    };
    const HOLD: Duration = Duration::from_secs(2);

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn fail(state: Option<CircuitState>, at: i64) -> CircuitState {
        BREAKER
            .record(state.as_ref(), Signal::Failure, false, t(at))
            .unwrap()
    }

    #[test]
    fn opens_after_threshold_failures_within_the_window() {
        let s = fail(None, 0);
        let s = fail(Some(s), 1_000);
        assert_eq!((s.phase, s.failures), (CircuitPhase::Closed, 2));
        let open = fail(Some(s), 2_000);
        assert_eq!(open.phase, CircuitPhase::Open);
        assert_eq!(open.until, t(7_000));
        assert_eq!(
            BREAKER.admit(Some(&open), t(6_999), HOLD),
            Admission::Wait(t(7_000))
        );
    }

    #[test]
    fn a_stale_window_or_a_success_restarts_the_count() {
        let s = fail(None, 0);
        let s = fail(Some(s), 1_000);
        let s = fail(Some(s), 10_000);
        assert_eq!(
            (s.phase, s.failures, s.window_started),
            (CircuitPhase::Closed, 1, t(10_000))
        );
        let s = fail(Some(s), 10_500);
        let reset = BREAKER.record(Some(&s), Signal::Success, false, t(11_000));
        assert_eq!(reset, Some(CircuitState::CLOSED));
        assert_eq!(
            BREAKER.record(reset.as_ref(), Signal::Success, false, t(11_001)),
            None
        );
        assert_eq!(BREAKER.record(None, Signal::Neutral, false, t(0)), None);
    }

    #[test]
    fn half_open_probe_closes_or_reopens() {
        let mut s = None;
        for at in 0..3 {
            s = Some(fail(s, at));
        }
        let open = s.unwrap();
        let Admission::Probe(probing) = BREAKER.admit(Some(&open), t(5_002), HOLD) else {
            panic!("expected a probe")
        };
        assert_eq!(
            (probing.phase, probing.until),
            (CircuitPhase::HalfOpen, t(7_002))
        );
        // Others wait while the probe is out; a lapsed probe may be taken over.
        assert_eq!(
            BREAKER.admit(Some(&probing), t(6_000), HOLD),
            Admission::Wait(t(7_002))
        );
        assert!(matches!(
            BREAKER.admit(Some(&probing), t(7_002), HOLD),
            Admission::Probe(_)
        ));
        // Non-probe results do not move a half-open or open circuit.
        assert_eq!(
            BREAKER.record(Some(&probing), Signal::Success, false, t(6_000)),
            None
        );
        assert_eq!(
            BREAKER.record(Some(&open), Signal::Success, false, t(4_000)),
            None
        );

        let reopened = BREAKER
            .record(Some(&probing), Signal::Failure, true, t(6_000))
            .unwrap();
        assert_eq!(
            (reopened.phase, reopened.until),
            (CircuitPhase::Open, t(11_000))
        );
        let closed = BREAKER
            .record(Some(&probing), Signal::Success, true, t(6_000))
            .unwrap();
        assert_eq!(closed, CircuitState::CLOSED);
        let freed = BREAKER
            .record(Some(&probing), Signal::Neutral, true, t(6_000))
            .unwrap();
        assert_eq!(
            (freed.phase, freed.until),
            (CircuitPhase::HalfOpen, t(6_000))
        );
        assert!(matches!(
            BREAKER.admit(Some(&freed), t(6_000), HOLD),
            Admission::Probe(_)
        ));
    }

    #[test]
    fn signals_follow_the_outcome_rules() {
        let response = |status| AttemptReport::Response {
            status,
            retry_after: None,
        };
        for (status, signal) in [
            (200, Signal::Success),
            (302, Signal::Success),
            (404, Signal::Success),
            (408, Signal::Failure),
            (429, Signal::Failure),
            (503, Signal::Failure),
        ] {
            assert_eq!(Signal::of(&response(status)), signal, "{status}");
        }
        assert_eq!(
            Signal::of(&AttemptReport::Failed(FailureKind::Connect)),
            Signal::Failure
        );
        assert_eq!(
            Signal::of(&AttemptReport::Failed(FailureKind::BlockedAddress)),
            Signal::Neutral
        );
    }
}
