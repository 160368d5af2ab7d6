//! [`TenantGate`]: a tenant's limits and its in-process token bucket.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota};

use crate::control::admin::TenantLimits;

/// A tenant's limits and its in-process token bucket.
#[derive(Debug)]
pub(crate) struct TenantGate {
    pub(crate) limits: TenantLimits,
    pub(super) bucket: Option<(u32, DefaultDirectRateLimiter)>,
}

impl TenantGate {
    pub(crate) fn new(limits: TenantLimits) -> Self {
        let bucket = limits.rate_per_second.map(|rate| {
            let per_second = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
            let burst = (limits.burst)
                .and_then(NonZeroU32::new)
                .unwrap_or(per_second);
            let quota = Quota::per_second(per_second).allow_burst(burst);
            (rate, DefaultDirectRateLimiter::direct(quota))
        });
        Self { limits, bucket }
    }
}
