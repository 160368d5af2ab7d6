use std::time::Duration;

use super::*;
use crate::deliver::circuit::window::CircuitWindow;

const BREAKER: CircuitBreaker = CircuitBreaker {
    failure_percent: 50,
    min_attempts: 4,
    window: Duration::from_secs(10),
    open_for: Duration::from_secs(5),
    probes: 3,
};
const HOLD: Duration = Duration::from_secs(2);

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn record(state: Option<CircuitState>, signal: Signal, at: i64) -> Option<CircuitState> {
    BREAKER
        .record(state.as_ref(), signal, false, t(at))
        .or(state)
}

fn open() -> CircuitState {
    let mut state = None;
    for at in 0..4 {
        state = record(state, Signal::Failure, at);
    }
    state.unwrap()
}

#[test]
fn opens_when_the_rate_reaches_the_threshold_with_enough_attempts() {
    let mut state = None;
    for (at, signal) in [
        (0, Signal::Failure),
        (1, Signal::Failure),
        (2, Signal::Failure),
    ] {
        state = record(state, signal, at);
    }
    let s = state.unwrap();
    assert_eq!(
        (s.phase, s.failures),
        (CircuitPhase::Closed, 3),
        "too few attempts"
    );
    let opened = record(state, Signal::Failure, 3_000).unwrap();
    assert_eq!(opened.phase, CircuitPhase::Open);
    assert_eq!(opened.until, t(8_000));
    assert_eq!(
        (
            opened.failures,
            opened.detail.attempts,
            opened.detail.opened_at
        ),
        (4, 4, Some(t(3_000)))
    );
    assert_eq!(
        opened.why().as_deref(),
        Some("4 of 4 attempts failed within the window")
    );
    assert!(opened.detail.window.is_empty());
    assert_eq!(
        BREAKER.admit(Some(&opened), t(7_999), HOLD),
        Admission::Wait(t(8_000))
    );
}

#[test]
fn a_rate_under_the_threshold_never_opens() {
    // 1 failure in 4 (25%), for a long time, across many windows.
    let mut state = None;
    for i in 0..3_000i64 {
        let signal = if i % 4 == 0 {
            Signal::Failure
        } else {
            Signal::Success
        };
        state = record(state, signal, i * 7);
        assert_eq!(state.unwrap().phase, CircuitPhase::Closed, "attempt {i}");
    }
    let tally = state.unwrap().detail.window.tally(t(2_999 * 7));
    assert!(tally.attempts > 1_000 && tally.percent() == 25, "{tally:?}");
}

#[test]
fn a_rate_at_the_threshold_opens_only_with_enough_attempts_to_tell() {
    let tally = |attempts, failures| Tally { attempts, failures };
    // 50% of at least 4: every attempt failing opens at the minimum.
    assert!(BREAKER.opens(tally(4, 4)));
    assert!(!BREAKER.opens(tally(3, 3)), "under the minimum");
    // Half of a small sample is not evidence of a rate of 50% or more...
    assert!(!BREAKER.opens(tally(4, 2)));
    assert!(!BREAKER.opens(tally(20, 10)));
    assert!(!BREAKER.opens(tally(20, 15)));
    // ... a clear majority is, and so is a rate above it over many attempts.
    assert!(BREAKER.opens(tally(20, 16)));
    assert!(BREAKER.opens(tally(600, 330)));
    assert!(!BREAKER.opens(tally(600, 320)));
    // A lower threshold opens on less: 30% of at least 4.
    let lenient = CircuitBreaker {
        failure_percent: 30,
        ..BREAKER
    };
    assert!(lenient.opens(tally(20, 12)));
    assert!(!lenient.opens(tally(20, 8)));
    // The streak rule: all of them, nothing less.
    let streak = CircuitBreaker::streak(5);
    assert!(streak.opens(tally(5, 5)));
    assert!(!streak.opens(tally(500, 499)));
}

#[test]
fn old_attempts_leave_the_window() {
    let mut state = record(None, Signal::Failure, 0);
    for at in [9_000, 9_001] {
        state = record(state, Signal::Success, at);
    }
    assert_eq!(state.unwrap().failures, 1);
    // At 10.5 s the bucket of the failure has left the window.
    let s = record(state, Signal::Success, 10_500).unwrap();
    assert_eq!((s.phase, s.failures), (CircuitPhase::Closed, 0));
    assert_eq!(s.detail.window.tally(t(10_500)).attempts, 3);
    assert_eq!(s.window_started, t(1_000));
}

#[test]
fn the_streak_rule_is_all_failures_and_min_attempts() {
    let breaker = CircuitBreaker::streak(3);
    let mut state = None;
    for (at, signal) in [
        (0, Signal::Failure),
        (1, Signal::Failure),
        (2, Signal::Success),
        (3, Signal::Failure),
    ] {
        state = breaker
            .record(state.as_ref(), signal, false, t(at))
            .or(state);
    }
    assert_eq!(
        state.unwrap().phase,
        CircuitPhase::Closed,
        "a success within"
    );
    let mut state = None;
    for at in 0..3 {
        state = breaker.record(state.as_ref(), Signal::Failure, false, t(at));
    }
    assert_eq!(state.unwrap().phase, CircuitPhase::Open);
    assert_eq!(breaker.probes, 1);
}

#[test]
fn half_open_lets_the_probes_through_and_closes_when_all_succeed() {
    let open = open();
    let mut probing = open;
    for n in 1..=3 {
        let Admission::Probe(next) = BREAKER.admit(Some(&probing), t(8_003), HOLD) else {
            panic!("probe {n} not admitted")
        };
        assert_eq!(
            (next.phase, next.detail.probes, next.until),
            (CircuitPhase::HalfOpen, n, t(10_003))
        );
        probing = next;
    }
    assert_eq!(
        BREAKER.admit(Some(&probing), t(8_004), HOLD),
        Admission::Wait(t(10_003)),
        "a fourth waits"
    );
    // Attempts that were not probes change nothing while it is not closed.
    assert_eq!(
        BREAKER.record(Some(&probing), Signal::Success, false, t(8_005)),
        None
    );
    assert_eq!(
        BREAKER.record(Some(&open), Signal::Failure, false, t(4_000)),
        None
    );
    let mut state = probing;
    for n in 1..3 {
        state = BREAKER
            .record(Some(&state), Signal::Success, true, t(9_000))
            .unwrap();
        assert_eq!(
            (state.phase, state.detail.probe_successes),
            (CircuitPhase::HalfOpen, n)
        );
    }
    let closed = BREAKER
        .record(Some(&state), Signal::Success, true, t(9_000))
        .unwrap();
    assert_eq!(closed.phase, CircuitPhase::Closed);
    assert!(closed.detail.window.is_empty() && closed.failures == 0);
    assert_eq!(closed.why(), None);
    // A probe result after it closed changes nothing.
    assert_eq!(
        BREAKER.record(Some(&closed), Signal::Failure, true, t(9_001)),
        None
    );
}

#[test]
fn a_failed_probe_reopens_and_a_neutral_one_gives_its_slot_back() {
    let Admission::Probe(probing) = BREAKER.admit(Some(&open()), t(8_003), HOLD) else {
        panic!("expected a probe")
    };
    let reopened = BREAKER
        .record(Some(&probing), Signal::Failure, true, t(9_000))
        .unwrap();
    assert_eq!(
        (reopened.phase, reopened.until, reopened.detail.cause),
        (CircuitPhase::Open, t(14_000), Some(OpenCause::Probe))
    );
    assert_eq!(reopened.why().as_deref(), Some("a half-open probe failed"));

    let freed = BREAKER
        .record(Some(&probing), Signal::Neutral, true, t(9_000))
        .unwrap();
    assert_eq!(
        (freed.phase, freed.detail.probes),
        (CircuitPhase::HalfOpen, 0)
    );
    assert!(matches!(
        BREAKER.admit(Some(&freed), t(9_000), HOLD),
        Admission::Probe(_)
    ));
}

#[test]
fn a_lapsed_probe_hold_is_taken_over() {
    let mut state = open();
    for _ in 0..3 {
        let Admission::Probe(next) = BREAKER.admit(Some(&state), t(8_003), HOLD) else {
            panic!("expected a probe")
        };
        state = next;
    }
    let state = BREAKER
        .record(Some(&state), Signal::Success, true, t(8_500))
        .unwrap();
    let Admission::Probe(taken) = BREAKER.admit(Some(&state), t(10_003), HOLD) else {
        panic!("a lapsed hold is probed again")
    };
    assert_eq!(
        (
            taken.detail.probes,
            taken.detail.probe_successes,
            taken.until
        ),
        (2, 1, t(12_003))
    );
}

#[test]
fn a_row_from_before_the_window_reads_as_before() {
    // Stored by the streak breaker: open, no detail.
    let old = CircuitState {
        phase: CircuitPhase::Open,
        failures: 5,
        window_started: t(0),
        until: t(30_000),
        detail: CircuitDetail::default(),
    };
    assert_eq!(old.why().as_deref(), Some("5 consecutive failures"));
    assert!(matches!(
        BREAKER.admit(Some(&old), t(30_000), HOLD),
        Admission::Probe(_)
    ));
    let closed_old = CircuitState {
        failures: 3,
        ..CircuitState::CLOSED
    };
    let next = record(Some(closed_old), Signal::Failure, 100).unwrap();
    assert_eq!(
        (next.phase, next.failures),
        (CircuitPhase::Closed, 1),
        "only the window counts"
    );
}

#[test]
fn flushing_adds_pending_counts_to_the_stored_window() {
    let stored = record(None, Signal::Failure, 0).unwrap();
    let mut pending = CircuitWindow::new(BREAKER.bucket_width_ms());
    pending.add(t(10), Signal::Success);
    pending.add(t(20), Signal::Failure);
    let merged = BREAKER.flush(Some(&stored), &pending, t(30)).unwrap();
    assert_eq!(
        merged.detail.window.tally(t(30)),
        Tally {
            attempts: 3,
            failures: 2
        }
    );
    pending.add(t(40), Signal::Failure);
    let still = BREAKER.flush(Some(&stored), &pending, t(40)).unwrap();
    assert_eq!(still.phase, CircuitPhase::Closed, "3 of 4: too few to tell");
    for _ in 0..6 {
        pending.add(t(40), Signal::Failure);
    }
    let opened = BREAKER.flush(Some(&stored), &pending, t(40)).unwrap();
    assert_eq!(opened.phase, CircuitPhase::Open, "9 of 10");
    assert_eq!((opened.failures, opened.detail.attempts), (9, 10));
    assert_eq!(
        BREAKER.flush(Some(&stored), &CircuitWindow::new(1_000), t(40)),
        None
    );
    assert_eq!(BREAKER.flush(Some(&opened), &pending, t(40)), None);
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
