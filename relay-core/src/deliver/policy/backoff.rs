//! Exponential backoff with full jitter.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff: the n-th retry waits a uniformly random time in
/// `[0, min(max, initial × 2^(n-1))]` ("full jitter"), so retries of many deliveries spread out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first retry's delay.
    pub initial: Duration,
    /// The ceiling of any delay.
    pub max: Duration,
}

impl Backoff {
    /// The ceiling of the delay before retry number `retry` (1-based).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32
            .checked_pow(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max)
    }

    /// A random delay before retry number `retry`, in `[0, ceiling(retry)]`. A receiver's
    /// `Retry-After` is not backoff's business: [`RetryPolicy`](super::RetryPolicy) applies it
    /// as a floor with its own cap.
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(retry);
        if ceiling.is_zero() {
            return Duration::ZERO;
        }
        Duration::from_nanos(
            rng.random_range(0..=u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const BACKOFF: Backoff = Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };

    #[test]
    fn ceilings_double_and_cap() {
        let got: Vec<u64> = (1..=8).map(|n| BACKOFF.ceiling(n).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(BACKOFF.ceiling(200), Duration::from_secs(60));
        assert_eq!(BACKOFF.ceiling(0), Duration::from_secs(1));
    }

    #[test]
    fn jitter_spreads_over_the_whole_range() {
        let mut rng = StdRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..2_000).map(|_| BACKOFF.delay(4, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(8)));
        assert!(delays.iter().any(|d| *d < Duration::from_secs(1)));
        assert!(delays.iter().any(|d| *d > Duration::from_secs(7)));
    }

    proptest! {
        #[test]
        fn delay_never_exceeds_its_ceiling(retry in 0u32..100, seed: u64) {
            let mut rng = StdRng::seed_from_u64(seed);
            let d = BACKOFF.delay(retry, &mut rng);
            prop_assert!(d <= BACKOFF.ceiling(retry) && d <= BACKOFF.max);
        }
    }
}
