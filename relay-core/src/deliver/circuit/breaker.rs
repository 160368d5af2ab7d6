//! [`CircuitBreaker`]: when a destination's circuit opens, for how long, and how it is probed.

use std::time::Duration;

use super::window::{BUCKETS, CircuitWindow, Tally};
use super::{Admission, CircuitDetail, CircuitPhase, CircuitState, OpenCause, Signal};
use crate::model::time::Timestamp;

/// When a destination's circuit opens, for how long, and how many probes decide whether it
/// closes (see the [module](super)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreaker {
    /// The circuit opens when at least this share of the attempts in the window failed, in
    /// percent (1 to 100).
    pub failure_percent: u32,
    /// ... and at least this many attempts were made in the window (at least 1).
    pub min_attempts: u32,
    /// The window attempts are counted in (split in [`BUCKETS`] buckets).
    pub window: Duration,
    /// How long the circuit stays open before probes are let through.
    pub open_for: Duration,
    /// How many probes a half-open circuit lets through; all must succeed to close it (at
    /// least 1).
    pub probes: u32,
}

impl Default for CircuitBreaker {
    /// 50% of at least 20 attempts within 60 s open the circuit for 30 s; then 3 probes.
    fn default() -> Self {
        Self {
            failure_percent: 50,
            min_attempts: 20,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
            probes: 3,
        }
    }
}

impl CircuitBreaker {
    /// The streak rule: `failures` failures and no success within the window open the
    /// circuit (`failure_percent = 100, min_attempts = failures`), and one probe decides.
    pub fn streak(failures: u32) -> Self {
        Self {
            failure_percent: 100,
            min_attempts: failures,
            probes: 1,
            ..Self::default()
        }
    }

    /// The width of the window's buckets, in milliseconds.
    pub fn bucket_width_ms(&self) -> u32 {
        let width = self.window.as_millis() / BUCKETS as u128;
        u32::try_from(width).unwrap_or(u32::MAX).max(1)
    }

    /// An empty window of this breaker's buckets.
    pub fn empty_window(&self) -> CircuitWindow {
        CircuitWindow::new(self.bucket_width_ms())
    }

    /// Whether a window with this tally opens the circuit: at least `min_attempts` attempts,
    /// and either every one of them failed, or the failure rate is at least `failure_percent`
    /// with 99% confidence (the lower bound of its Wilson score interval is at or above it).
    ///
    /// The bound keeps a small sample from opening a receiver that fails now and then: 10 of
    /// 20 attempts failing happens to a receiver failing 30% at random once in 21 tries, 16
    /// of 20 (what 50% needs at 20 attempts) once in 180,000. A receiver failing far more
    /// often than `failure_percent` is opened at `min_attempts` (80% of 20 attempts, 70% of
    /// 31); one failing just above it once the window holds enough attempts to tell (60% of
    /// 131, 55% of 530).
    ///
    /// ```
    /// use relay_core::deliver::circuit::{CircuitBreaker, Tally};
    ///
    /// let breaker = CircuitBreaker::default(); // 50% of at least 20 attempts
    /// assert!(breaker.opens(Tally { attempts: 20, failures: 20 }));
    /// assert!(breaker.opens(Tally { attempts: 20, failures: 16 }));
    /// assert!(!breaker.opens(Tally { attempts: 20, failures: 11 }), "a small sample");
    /// assert!(breaker.opens(Tally { attempts: 600, failures: 330 }), "55% of many");
    /// assert!(!breaker.opens(Tally { attempts: 19, failures: 19 }), "too few");
    /// ```
    pub fn opens(&self, tally: Tally) -> bool {
        if tally.attempts < self.min_attempts.max(1) {
            return false;
        }
        if tally.failures >= tally.attempts {
            return true;
        }
        let threshold = f64::from(self.failure_percent.clamp(1, 100)) / 100.0;
        failure_rate_lower_bound(tally) >= threshold
    }

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
        let probing = |probes: u32| {
            let mut next = *state;
            next.phase = CircuitPhase::HalfOpen;
            next.until = now.plus(hold);
            next.detail.probes = probes;
            next
        };
        match state.phase {
            CircuitPhase::Closed => Admission::Pass,
            CircuitPhase::Open if now < state.until => Admission::Wait(state.until),
            CircuitPhase::Open => {
                let mut next = probing(1);
                next.detail.probe_successes = 0;
                Admission::Probe(next)
            }
            // The probes' hold lapsed (a worker died mid-probe): probe again.
            CircuitPhase::HalfOpen if now >= state.until => {
                Admission::Probe(probing(state.detail.probe_successes.saturating_add(1)))
            }
            CircuitPhase::HalfOpen if state.detail.probes < self.probes.max(1) => {
                Admission::Probe(probing(state.detail.probes.saturating_add(1)))
            }
            CircuitPhase::HalfOpen => Admission::Wait(state.until),
        }
    }

    /// The state after adding `pending` (counts not yet in the store) to the stored window
    /// at `now`: closed with the sum, or open when the sum opens it. `None` when nothing is
    /// to be written: nothing pending, or the circuit is not closed (those attempts started
    /// before it opened, and change nothing).
    pub fn flush(
        &self,
        current: Option<&CircuitState>,
        pending: &CircuitWindow,
        now: Timestamp,
    ) -> Option<CircuitState> {
        let state = current.copied().unwrap_or(CircuitState::CLOSED);
        if state.phase != CircuitPhase::Closed || pending.is_empty() {
            return None;
        }
        let mut window = state.detail.window;
        window.merge(pending);
        window.retain_window(now);
        let tally = window.tally(now);
        let window_started = window.starts(now);
        Some(if self.opens(tally) {
            CircuitState {
                phase: CircuitPhase::Open,
                failures: tally.failures,
                window_started,
                until: now.plus(self.open_for),
                detail: CircuitDetail {
                    window: self.empty_window(),
                    opened_at: Some(now),
                    attempts: tally.attempts,
                    probes: 0,
                    probe_successes: 0,
                    cause: Some(OpenCause::Rate),
                },
            }
        } else {
            CircuitState {
                phase: CircuitPhase::Closed,
                failures: tally.failures,
                window_started,
                until: Timestamp::from_millis(0),
                detail: CircuitDetail {
                    window,
                    ..CircuitDetail::default()
                },
            }
        })
    }

    /// The state after a half-open probe that signalled `signal` at `now`: closed once
    /// `probes` probes succeeded, open again when one failed, a probe slot given back when it
    /// learnt nothing. `None` when the circuit is no longer half-open.
    pub fn record_probe(
        &self,
        current: Option<&CircuitState>,
        signal: Signal,
        now: Timestamp,
    ) -> Option<CircuitState> {
        let state = current.filter(|s| s.phase == CircuitPhase::HalfOpen)?;
        let mut next = *state;
        match signal {
            Signal::Success => {
                next.detail.probe_successes = state.detail.probe_successes.saturating_add(1);
                if next.detail.probe_successes >= self.probes.max(1) {
                    next = CircuitState {
                        window_started: now,
                        detail: CircuitDetail {
                            window: self.empty_window(),
                            ..CircuitDetail::default()
                        },
                        ..CircuitState::CLOSED
                    };
                }
            }
            Signal::Failure => {
                next.phase = CircuitPhase::Open;
                next.until = now.plus(self.open_for);
                next.detail = CircuitDetail {
                    window: self.empty_window(),
                    opened_at: Some(now),
                    cause: Some(OpenCause::Probe),
                    attempts: state.detail.attempts,
                    ..CircuitDetail::default()
                };
            }
            Signal::Neutral => next.detail.probes = state.detail.probes.saturating_sub(1),
        }
        Some(next)
    }

    /// The state after one attempt that signalled `signal` at `now` (`probe`: it was a
    /// half-open probe), written at once: [`Self::record_probe`] for a probe, else
    /// [`Self::flush`] of this one attempt. `None` when nothing changes.
    pub fn record(
        &self,
        current: Option<&CircuitState>,
        signal: Signal,
        probe: bool,
        now: Timestamp,
    ) -> Option<CircuitState> {
        if probe {
            return self.record_probe(current, signal, now);
        }
        let mut pending = self.empty_window();
        pending.add(now, signal);
        self.flush(current, &pending, now)
    }
}

/// The z-score of a one-sided 99% confidence bound.
const Z_99: f64 = 2.326;

/// The lower bound of the Wilson score interval of `tally`'s failure rate (0 to 1), at
/// [`Z_99`].
fn failure_rate_lower_bound(tally: Tally) -> f64 {
    if tally.attempts == 0 {
        return 0.0;
    }
    let n = f64::from(tally.attempts);
    let rate = f64::from(tally.failures.min(tally.attempts)) / n;
    let z2 = Z_99 * Z_99;
    let centre = rate + z2 / (2.0 * n);
    let spread = Z_99 * (rate * (1.0 - rate) / n + z2 / (4.0 * n * n)).sqrt();
    (centre - spread) / (1.0 + z2 / n)
}
