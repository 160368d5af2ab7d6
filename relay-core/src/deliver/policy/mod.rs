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
    /// The destination is an [agent](crate::control::agent) that is not connected to this process, or
    /// whose connection broke before it answered.
    AgentOffline,
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

/// How far a scheduled delay may move either way: ±20%.
pub const SCHEDULE_JITTER: f64 = 0.2;

/// The default policy: 2xx delivered; 408, 429, 5xx, 3xx (redirects are not followed),
/// timeouts and connection errors retried with [`Backoff`] honouring `Retry-After`, until
/// `max_attempts` attempts (the first included) have been made; 410 disables the destination;
/// any other 4xx, a refused address, a transform error or a handler rejection dead-letters at
/// once, since retrying cannot fix them.
///
/// ```
/// use std::time::Duration;
/// use relay_core::deliver::policy::{AttemptReport, Decision, DeliveryPolicy, RetryPolicy};
/// let policy = RetryPolicy::default();
/// let ok = AttemptReport::Response { status: 204, retry_after: None };
/// assert_eq!(policy.decide(1, &ok), Decision::Delivered);
/// let gone = AttemptReport::Response { status: 410, retry_after: None };
/// assert_eq!(policy.decide(1, &gone), Decision::DisableDestination);
/// ```
///
/// Instead of backoff, an explicit [`schedule`](RetryPolicy::schedule) of delays can be given:
/// the n-th retry waits the n-th delay, moved at random by up to ±20%
/// ([`SCHEDULE_JITTER`]); and a [`give_up_after`](RetryPolicy::give_up_after) deadline
/// dead-letters a delivery whose next retry would come later than that after its creation.
///
/// ```
/// use std::time::Duration;
/// use relay_core::deliver::policy::{AttemptReport, Decision, DeliveryPolicy, RetryPolicy};
/// let secs = |s| Duration::from_secs(s);
/// let policy = RetryPolicy::schedule([secs(5), secs(300), secs(1_800)]).give_up_after(secs(3_600));
/// assert_eq!(policy.max_attempts, 4);
/// let failed = AttemptReport::Response { status: 503, retry_after: None };
/// let Decision::RetryAfter(delay) = policy.decide(2, &failed) else { panic!() };
/// assert!(delay >= secs(240) && delay <= secs(360));
/// assert_eq!(policy.decide(4, &failed), Decision::DeadLetter);
/// // Past the deadline: no more retries.
/// assert_eq!(policy.decide_at_age(3, &failed, secs(3_000)), Decision::DeadLetter);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The delays between attempts (unless a schedule is given).
    pub backoff: Backoff,
    /// Explicit delays: the n-th retry waits the n-th one (±20%), the last one repeating while
    /// `max_attempts` allows. Empty: backoff.
    pub schedule: Vec<Duration>,
    /// No retry is scheduled later than this after the delivery was created.
    pub give_up_after: Option<Duration>,
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
            schedule: Vec::new(),
            give_up_after: None,
        }
    }
}

impl RetryPolicy {
    /// `max_attempts` attempts with backoff from `initial` up to `max`.
    pub fn new(max_attempts: u32, initial: Duration, max: Duration) -> Self {
        Self {
            max_attempts,
            backoff: Backoff { initial, max },
            ..Self::default()
        }
    }

    /// Retries after each of `delays` in turn (±20%): `delays.len() + 1` attempts in all.
    pub fn schedule(delays: impl IntoIterator<Item = Duration>) -> Self {
        let schedule: Vec<Duration> = delays.into_iter().collect();
        Self {
            max_attempts: u32::try_from(schedule.len())
                .unwrap_or(u32::MAX)
                .saturating_add(1),
            schedule,
            ..Self::default()
        }
    }

    /// No retry later than `deadline` after the delivery's creation.
    pub fn give_up_after(mut self, deadline: Duration) -> Self {
        self.give_up_after = Some(deadline);
        self
    }

    /// The delay before retry number `retry` (1-based).
    fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if self.schedule.is_empty() {
            return self.backoff.delay(retry, retry_after, &mut rand::rng());
        }
        let index = usize::try_from(retry.saturating_sub(1))
            .unwrap_or(usize::MAX)
            .min(self.schedule.len() - 1);
        let factor = rand::random_range((1.0 - SCHEDULE_JITTER)..=(1.0 + SCHEDULE_JITTER));
        let jittered = self.schedule[index].mul_f64(factor);
        retry_after.map_or(jittered, |after| jittered.max(after))
    }

    fn retry(&self, attempt: u32, retry_after: Option<Duration>) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::DeadLetter;
        }
        Decision::RetryAfter(self.delay(attempt, retry_after))
    }
}

impl DeliveryPolicy for RetryPolicy {
    fn decide_at_age(&self, attempt: u32, report: &AttemptReport, age: Duration) -> Decision {
        match self.decide(attempt, report) {
            Decision::RetryAfter(delay)
                if self
                    .give_up_after
                    .is_some_and(|deadline| age.saturating_add(delay) > deadline) =>
            {
                Decision::DeadLetter
            }
            decision => decision,
        }
    }

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
                FailureKind::Timeout
                | FailureKind::Connect
                | FailureKind::HandlerRetry
                | FailureKind::AgentOffline => self.retry(attempt, None),
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
    fn a_schedule_is_followed_within_its_jitter_and_its_last_delay_repeats() {
        let ms = Duration::from_millis;
        let mut p = RetryPolicy::schedule([ms(1_000), ms(10_000), ms(60_000)]);
        assert_eq!(p.max_attempts, 4);
        for (attempt, base) in [(1, 1_000.0), (2, 10_000.0), (3, 60_000.0)] {
            let mut seen = Vec::new();
            for _ in 0..500 {
                let Decision::RetryAfter(delay) = p.decide(attempt, &response(503)) else {
                    panic!("attempt {attempt} not retried");
                };
                let secs = delay.as_secs_f64() * 1_000.0;
                assert!(
                    secs >= base * 0.8 - 1e-6 && secs <= base * 1.2 + 1e-6,
                    "{delay:?}"
                );
                seen.push(secs);
            }
            let spread = seen.iter().copied().fold(f64::MIN, f64::max)
                - seen.iter().copied().fold(f64::MAX, f64::min);
            assert!(spread > base * 0.3, "jittered: spread {spread} of {base}");
        }
        assert_eq!(p.decide(4, &response(503)), Decision::DeadLetter);
        // More attempts than delays: the last delay repeats.
        p.max_attempts = 6;
        let Decision::RetryAfter(delay) = p.decide(5, &response(503)) else {
            panic!("not retried");
        };
        assert!(delay >= ms(48_000) && delay <= ms(72_000), "{delay:?}");
        // A longer Retry-After wins; non-retryable answers are unchanged.
        let report = AttemptReport::Response {
            status: 429,
            retry_after: Some(ms(5_000)),
        };
        assert_eq!(p.decide(1, &report), Decision::RetryAfter(ms(5_000)));
        assert_eq!(p.decide(1, &response(404)), Decision::DeadLetter);
    }

    #[test]
    fn give_up_after_dead_letters_what_would_retry_past_the_deadline() {
        let secs = Duration::from_secs;
        let p = RetryPolicy::schedule([secs(100); 10]).give_up_after(secs(1_000));
        assert!(matches!(
            p.decide_at_age(1, &response(500), secs(10)),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            p.decide_at_age(5, &response(500), secs(950)),
            Decision::DeadLetter
        );
        assert_eq!(
            p.decide_at_age(5, &response(200), secs(5_000)),
            Decision::Delivered
        );
        // Backoff policies honour the deadline too.
        let backoff = RetryPolicy::new(50, secs(1), secs(1)).give_up_after(secs(60));
        assert_eq!(
            backoff.decide_at_age(3, &response(500), secs(60)),
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
