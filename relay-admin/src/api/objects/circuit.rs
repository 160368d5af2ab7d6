//! A destination's circuit as the API shows it: its state, the failure window's figures,
//! and when and why it opened.

use relay_core::deliver::circuit::{CircuitPhase, VersionedCircuit};
use relay_core::model::time::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::dto::time;

/// A destination's circuit breaker as stored (every node's counts, each node's last second
/// of attempts excepted until it flushes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CircuitItem {
    /// `closed`, `open` or `half_open`.
    pub state: String,
    /// Closed: attempts counted within the window. Open or half-open: those in the window
    /// when it opened.
    pub attempts: u32,
    /// Of those, the failures.
    pub failures: u32,
    /// `failures / attempts` in percent (0 without attempts).
    pub failure_rate_percent: u32,
    /// When it opened (RFC 3339; open or half-open circuits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<String>,
    /// Open: when probes may start. Half-open: when the probes' hold lapses (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Half-open: the probes let through and those that succeeded so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<ProbesItem>,
    /// Why it is not closed, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// A half-open circuit's probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProbesItem {
    /// Let through so far.
    pub sent: u32,
    /// Succeeded so far.
    pub succeeded: u32,
}

impl CircuitItem {
    /// The stored circuit (`None`: never written, a closed circuit) as seen at `now`.
    pub(crate) fn new(circuit: Option<VersionedCircuit>, now: Timestamp) -> Self {
        let Some(VersionedCircuit { state, .. }) = circuit else {
            return Self::closed(0, 0);
        };
        if state.phase == CircuitPhase::Closed {
            let tally = state.detail.window.tally(now);
            return Self::closed(tally.attempts, tally.failures);
        }
        let percent = if state.detail.attempts == 0 {
            0
        } else {
            u32::try_from(u64::from(state.failures) * 100 / u64::from(state.detail.attempts))
                .unwrap_or(100)
        };
        Self {
            state: state.phase.as_str().to_owned(),
            attempts: state.detail.attempts,
            failures: state.failures,
            failure_rate_percent: percent,
            opened_at: state.detail.opened_at.map(time),
            until: Some(time(state.until)),
            probes: (state.phase == CircuitPhase::HalfOpen).then_some(ProbesItem {
                sent: state.detail.probes,
                succeeded: state.detail.probe_successes,
            }),
            why: state.why(),
        }
    }

    fn closed(attempts: u32, failures: u32) -> Self {
        let percent = if attempts == 0 {
            0
        } else {
            u32::try_from(u64::from(failures) * 100 / u64::from(attempts)).unwrap_or(100)
        };
        Self {
            state: CircuitPhase::Closed.as_str().to_owned(),
            attempts,
            failures,
            failure_rate_percent: percent,
            opened_at: None,
            until: None,
            probes: None,
            why: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use relay_core::deliver::circuit::{CircuitBreaker, Signal};

    use super::*;

    #[test]
    fn the_window_and_the_opening_are_shown() {
        let breaker = CircuitBreaker {
            min_attempts: 4,
            ..CircuitBreaker::default()
        };
        let t = Timestamp::from_millis;
        let versioned = |state| Some(VersionedCircuit { state, version: 1 });
        assert_eq!(CircuitItem::new(None, t(0)).state, "closed");
        let mut state = breaker.record(None, Signal::Failure, false, t(1_000));
        for at in [30_000, 40_000] {
            state = breaker.record(state.as_ref(), Signal::Success, false, t(at));
        }
        let closed = CircuitItem::new(versioned(state.unwrap()), t(40_000));
        assert_eq!(
            (
                closed.attempts,
                closed.failures,
                closed.failure_rate_percent
            ),
            (3, 1, 33)
        );
        let later = CircuitItem::new(versioned(state.unwrap()), t(61_500));
        assert_eq!(later.attempts, 2, "the first left the window");
        // 1 failure and 2 successes, then failures: the 13th attempt (11 failed) is enough
        // evidence of a rate of 50% or more to open it.
        for _ in 0..9 {
            state = breaker.record(state.as_ref(), Signal::Failure, false, t(41_000));
        }
        assert_eq!(state.unwrap().phase, CircuitPhase::Closed, "10 of 12");
        let open = breaker
            .record(state.as_ref(), Signal::Failure, false, t(41_000))
            .unwrap();
        let item = CircuitItem::new(versioned(open), t(42_000));
        assert_eq!(
            (
                item.state.as_str(),
                item.attempts,
                item.failures,
                item.failure_rate_percent
            ),
            ("open", 13, 11, 84)
        );
        assert_eq!(item.opened_at.as_deref(), Some("1970-01-01T00:00:41.000Z"));
        assert_eq!(
            item.until,
            Some(time(t(41_000).plus(Duration::from_secs(30))))
        );
        assert_eq!(
            item.why.as_deref(),
            Some("11 of 13 attempts failed within the window")
        );
    }
}
