//! [`RetryPolicy`], the default delivery policy: backoff or an explicit schedule, a
//! `Retry-After` floor with its own cap, an attempt budget and an optional deadline.

use std::time::Duration;

use super::{AttemptReport, Backoff, Decision, DeliveryPolicy, FailureKind};

/// How far a scheduled delay may move either way: ±20%.
pub const SCHEDULE_JITTER: f64 = 0.2;

/// The longest wait a receiver's `Retry-After` can ask for, unless configured otherwise
/// ([`RetryPolicy::max_retry_after`]): 1 hour.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(3_600);

/// The default policy: 2xx delivered; 408, 429, 5xx, 3xx (redirects are not followed),
/// timeouts, connection errors and panics retried with [`Backoff`], until `max_attempts`
/// attempts (the first included) have been made; 410 disables the destination; any other
/// 4xx, a refused address, a transform error or a handler rejection dead-letters at once,
/// since retrying cannot fix them.
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
///
/// A receiver's `Retry-After` is a floor on the next wait, whatever backoff's `max` or the
/// schedule say, up to [`max_retry_after`](RetryPolicy::max_retry_after) (default
/// [`DEFAULT_MAX_RETRY_AFTER`], so a hostile value cannot park a delivery for days). It never
/// carries the next attempt past the `give_up_after` deadline: the wait is shortened to the
/// deadline, so the last attempt is still made.
///
/// ```
/// use std::time::Duration;
/// use relay_core::deliver::policy::{AttemptReport, Decision, DeliveryPolicy, RetryPolicy};
/// let ms = Duration::from_millis;
/// let policy = RetryPolicy::new(5, ms(100), ms(500));
/// let busy = AttemptReport::Response { status: 429, retry_after: Some(ms(1_000)) };
/// assert_eq!(policy.decide(1, &busy), Decision::RetryAfter(ms(1_000)));
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
    /// The longest wait a `Retry-After` can ask for (zero: `Retry-After` is ignored).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts, backoff from 1 s up to 1 hour, `Retry-After` honoured up to 1 hour.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(3_600),
            },
            schedule: Vec::new(),
            give_up_after: None,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
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

    /// Honours a `Retry-After` of at most `cap` (longer ones wait `cap`).
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// The policy's own delay before retry number `retry` (1-based), before `Retry-After`.
    fn own_delay(&self, retry: u32) -> Duration {
        if self.schedule.is_empty() {
            return self.backoff.delay(retry, &mut rand::rng());
        }
        let index = usize::try_from(retry.saturating_sub(1))
            .unwrap_or(usize::MAX)
            .min(self.schedule.len() - 1);
        let factor = rand::random_range((1.0 - SCHEDULE_JITTER)..=(1.0 + SCHEDULE_JITTER));
        self.schedule[index].mul_f64(factor)
    }

    /// Retry number `attempt` unless the budget is spent or (for a delivery `age` old) the
    /// policy's own delay passes the deadline; a `Retry-After` floor is cut at the deadline.
    fn retry(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        age: Option<Duration>,
    ) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::DeadLetter;
        }
        let own = self.own_delay(attempt);
        let floor = retry_after.map_or(Duration::ZERO, |after| after.min(self.max_retry_after));
        let wait = own.max(floor);
        match (self.give_up_after, age) {
            (Some(deadline), Some(age)) => {
                let remaining = deadline.saturating_sub(age);
                if own > remaining {
                    Decision::DeadLetter
                } else {
                    Decision::RetryAfter(wait.min(remaining))
                }
            }
            _ => Decision::RetryAfter(wait),
        }
    }

    fn decide_with(&self, attempt: u32, report: &AttemptReport, age: Option<Duration>) -> Decision {
        match *report {
            AttemptReport::Handled => Decision::Delivered,
            AttemptReport::Response {
                status,
                retry_after,
            } => match status {
                200..=299 => Decision::Delivered,
                410 => Decision::DisableDestination,
                408 | 429 | 300..=399 | 500..=599 => self.retry(attempt, retry_after, age),
                _ => Decision::DeadLetter,
            },
            AttemptReport::Failed(kind) => match kind {
                FailureKind::Timeout
                | FailureKind::Connect
                | FailureKind::HandlerRetry
                | FailureKind::AgentOffline
                | FailureKind::TransformPanic
                | FailureKind::HandlerPanic => self.retry(attempt, None, age),
                FailureKind::BlockedAddress
                | FailureKind::Transform
                | FailureKind::HandlerReject => Decision::DeadLetter,
            },
        }
    }
}

impl DeliveryPolicy for RetryPolicy {
    fn decide_at_age(&self, attempt: u32, report: &AttemptReport, age: Duration) -> Decision {
        self.decide_with(attempt, report, Some(age))
    }

    fn decide(&self, attempt: u32, report: &AttemptReport) -> Decision {
        self.decide_with(attempt, report, None)
    }
}
