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

    /// A random delay before retry number `retry`, honouring a server's `Retry-After`: the
    /// delay is at least `retry_after` (clamped to `max`, so a hostile value cannot park a
    /// delivery for days).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(retry);
        let jittered = if ceiling.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_nanos(
                rng.random_range(0..=u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX)),
            )
        };
        match retry_after {
            Some(after) => jittered.max(after.min(self.max)),
            None => jittered,
        }
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
        let delays: Vec<Duration> = (0..2_000)
            .map(|_| BACKOFF.delay(4, None, &mut rng))
            .collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(8)));
        assert!(delays.iter().any(|d| *d < Duration::from_secs(1)));
        assert!(delays.iter().any(|d| *d > Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_is_a_floor_clamped_to_max() {
        let mut rng = StdRng::seed_from_u64(1);
        let d = BACKOFF.delay(1, Some(Duration::from_secs(30)), &mut rng);
        assert_eq!(d, Duration::from_secs(30));
        let d = BACKOFF.delay(1, Some(Duration::from_secs(86_400)), &mut rng);
        assert_eq!(d, Duration::from_secs(60));
    }

    proptest! {
        #[test]
        fn delay_never_exceeds_max(retry in 0u32..100, after in proptest::option::of(0u64..10_000_000), seed: u64) {
            let mut rng = StdRng::seed_from_u64(seed);
            let d = BACKOFF.delay(retry, after.map(Duration::from_secs), &mut rng);
            prop_assert!(d <= BACKOFF.max);
        }
    }
}
