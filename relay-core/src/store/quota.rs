//! Daily quotas: one atomic counter per tenant and UTC day.

use crate::model::time::Timestamp;

/// What [`TenantStore::take_quota`](super::TenantStore::take_quota) answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaOutcome {
    /// One unit was taken; `used` units of the day's quota are taken now, this one included.
    Taken {
        /// Units taken on that day, this one included (at most the limit).
        used: u64,
    },
    /// The day's quota is used up; nothing was taken.
    Exhausted,
}

/// Seconds in a quota window (a UTC day).
pub const QUOTA_DAY_SECS: i64 = 86_400;

/// The UTC day `at` falls in, as days since 1970-01-01 (the window of a daily quota).
pub fn quota_day(at: Timestamp) -> i64 {
    at.as_millis().div_euclid(QUOTA_DAY_SECS * 1000)
}

/// Whole seconds from `at` to the start of the next UTC day (at least 1): the
/// `Retry-After` of a request over its daily quota.
pub fn secs_to_next_day(at: Timestamp) -> u64 {
    let into_day_ms = at.as_millis().rem_euclid(QUOTA_DAY_SECS * 1000);
    let left_ms = QUOTA_DAY_SECS * 1000 - into_day_ms;
    u64::try_from((left_ms + 999) / 1000).unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_seconds_to_the_next_one() {
        let at = |ms| Timestamp::from_millis(ms);
        assert_eq!(quota_day(at(0)), 0);
        assert_eq!(quota_day(at(86_399_999)), 0);
        assert_eq!(quota_day(at(86_400_000)), 1);
        assert_eq!(secs_to_next_day(at(0)), 86_400);
        assert_eq!(secs_to_next_day(at(86_399_000)), 1);
        assert_eq!(secs_to_next_day(at(86_399_999)), 1);
        assert_eq!(secs_to_next_day(at(86_398_500)), 2);
    }
}
