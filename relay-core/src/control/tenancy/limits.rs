//! A tenant's limits at ingest: a token bucket over all its sources, and a daily quota
//! counted atomically in the store; and its caps on sources and routes.

use governor::clock::{Clock, DefaultClock};

use crate::control::admin::TenantLimits;
use crate::ingest::IngestOutcome;
use crate::ingest::limit::RateDecision;
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::store::{QuotaOutcome, quota_day, secs_to_next_day};

/// Whole seconds (at least 1) in a wait.
fn whole_secs(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl Relay {
    /// The tenant's limits as this relay applies them now.
    pub fn tenant_limits(&self) -> TenantLimits {
        self.tenant_gate().map(|g| g.limits).unwrap_or_default()
    }

    /// 429 `rate_limited` when the tenant is over its `rate_per_second`: a budget every node
    /// shares when the relay's limiter keeps one (Redis: `rate_per_second` in any one-second
    /// window), else an in-process token bucket of `burst` tokens refilled at the rate.
    pub(crate) async fn tenant_rate_refusal(&self, now: Timestamp) -> Option<IngestOutcome> {
        let gate = self.tenant_gate()?;
        let (rate, bucket) = gate.bucket.as_ref()?;
        let key = format!("tenant:{}", self.tenant_id());
        let wait = match self.limiter().acquire_per_second(&key, *rate, now).await {
            Ok(Some(RateDecision::Allowed)) => return None,
            Ok(Some(RateDecision::Limited { retry_after })) => retry_after,
            Ok(None) => match bucket.check() {
                Ok(()) => return None,
                Err(not_until) => not_until.wait_time_from(DefaultClock::default().now()),
            },
            Err(error) => {
                tracing::warn!(%error, tenant = %self.tenant_id(), "shared limiter down; admitting");
                return None;
            }
        };
        Some(IngestOutcome::RateLimited {
            retry_after_secs: whole_secs(wait),
        })
    }

    /// Takes one unit of the tenant's `daily_quota` in the store: 429 `quota_exceeded` with
    /// the seconds to the next UTC day when it is used up, 503 when the store cannot answer.
    pub(crate) async fn take_daily_quota(&self, now: Timestamp) -> Option<IngestOutcome> {
        let limit = self.tenant_gate()?.limits.daily_quota?;
        let taken = (self.store())
            .take_quota(self.tenant_id(), quota_day(now), limit)
            .await;
        match taken {
            Ok(QuotaOutcome::Taken { .. }) => None,
            Ok(QuotaOutcome::Exhausted) => Some(IngestOutcome::QuotaExceeded {
                retry_after_secs: secs_to_next_day(now),
            }),
            Err(error) => {
                tracing::error!(%error, tenant = %self.tenant_id(), "daily quota unavailable");
                Some(IngestOutcome::Unavailable)
            }
        }
    }
}
