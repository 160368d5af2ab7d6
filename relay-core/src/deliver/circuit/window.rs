//! The failure window: attempts and failures counted in [`BUCKETS`] buckets of equal width
//! that together span the breaker's window, so a rate over the last minute is a sum of ten
//! small counters instead of a list of every attempt.
//!
//! A bucket covers `[index × width, (index + 1) × width)` milliseconds since the epoch and
//! lives in slot `index mod BUCKETS`. At time `now` (in bucket `n`) the window is the buckets
//! `n − BUCKETS + 1 ..= n`: everything from the start of the oldest of them until `now`. A
//! count for a bucket older than a slot's occupant is dropped (it fell out of the window);
//! a newer bucket replaces the occupant.
//!
//! ```
//! use relay_core::deliver::circuit::{CircuitWindow, Signal};
//! use relay_core::model::time::Timestamp;
//!
//! let mut window = CircuitWindow::new(1_000); // ten 1 s buckets: a 10 s window
//! window.add(Timestamp::from_millis(500), Signal::Failure);
//! window.add(Timestamp::from_millis(9_999), Signal::Success);
//! assert_eq!(window.tally(Timestamp::from_millis(9_999)).failures, 1);
//! assert_eq!(window.tally(Timestamp::from_millis(10_000)).attempts, 1, "bucket 0 left");
//! ```

use super::Signal;
use crate::model::time::Timestamp;

/// How many buckets a window has.
pub const BUCKETS: usize = 10;

/// One bucket's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bucket {
    /// Which bucket: it covers `[index × width, (index + 1) × width)` ms since the epoch.
    pub index: i64,
    /// Attempts that succeeded.
    pub successes: u32,
    /// Attempts that failed.
    pub failures: u32,
}

impl Bucket {
    const EMPTY: Self = Self {
        index: 0,
        successes: 0,
        failures: 0,
    };

    /// Whether nothing is counted in it.
    pub fn is_empty(&self) -> bool {
        self.successes == 0 && self.failures == 0
    }
}

/// The attempts and failures within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Attempts that succeeded or failed (neutral ones are not counted).
    pub attempts: u32,
    /// Those that failed.
    pub failures: u32,
}

impl Tally {
    /// The failure rate in percent (0 without attempts).
    pub fn percent(&self) -> u32 {
        if self.attempts == 0 {
            return 0;
        }
        let percent = u64::from(self.failures) * 100 / u64::from(self.attempts);
        u32::try_from(percent).unwrap_or(100)
    }
}

/// Success and failure counts per bucket over a window (see the [module](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitWindow {
    width_ms: u32,
    buckets: [Bucket; BUCKETS],
}

impl Default for CircuitWindow {
    /// An empty window of 1 s buckets.
    fn default() -> Self {
        Self::new(1_000)
    }
}

impl CircuitWindow {
    /// An empty window of buckets `width_ms` wide (at least 1).
    pub const fn new(width_ms: u32) -> Self {
        Self {
            width_ms: if width_ms == 0 { 1 } else { width_ms },
            buckets: [Bucket::EMPTY; BUCKETS],
        }
    }

    /// The width of one bucket, in milliseconds.
    pub fn width_ms(&self) -> u32 {
        self.width_ms
    }

    /// The buckets that hold counts.
    pub fn buckets(&self) -> impl Iterator<Item = &Bucket> {
        self.buckets.iter().filter(|b| !b.is_empty())
    }

    /// Whether nothing is counted.
    pub fn is_empty(&self) -> bool {
        self.buckets.iter().all(Bucket::is_empty)
    }

    fn index_of(&self, at: Timestamp) -> i64 {
        at.as_millis().div_euclid(i64::from(self.width_ms))
    }

    /// Counts one attempt that signalled `signal` at `at` (a neutral one counts nothing).
    pub fn add(&mut self, at: Timestamp, signal: Signal) {
        let (successes, failures) = match signal {
            Signal::Success => (1, 0),
            Signal::Failure => (0, 1),
            Signal::Neutral => return,
        };
        self.add_bucket(Bucket {
            index: self.index_of(at),
            successes,
            failures,
        });
    }

    /// Adds a bucket's counts (dropped when its slot holds a newer bucket).
    pub fn add_bucket(&mut self, bucket: Bucket) {
        if bucket.is_empty() {
            return;
        }
        let slot = &mut self.buckets[bucket.index.rem_euclid(BUCKETS as i64) as usize];
        if slot.is_empty() || slot.index < bucket.index {
            *slot = Bucket {
                index: bucket.index,
                successes: 0,
                failures: 0,
            };
        }
        if slot.index == bucket.index {
            slot.successes = slot.successes.saturating_add(bucket.successes);
            slot.failures = slot.failures.saturating_add(bucket.failures);
        }
    }

    /// Adds every count of `other`; a window of another width (the breaker's window was
    /// changed) is first emptied, as its buckets cannot be compared.
    pub fn merge(&mut self, other: &CircuitWindow) {
        if other.width_ms != self.width_ms {
            *self = Self::new(other.width_ms);
        }
        for bucket in other.buckets() {
            self.add_bucket(*bucket);
        }
    }

    /// The attempts and failures in the window that ends at `now`.
    pub fn tally(&self, now: Timestamp) -> Tally {
        let newest = self.index_of(now);
        let oldest = newest - (BUCKETS as i64 - 1);
        self.buckets()
            .filter(|b| b.index >= oldest)
            .fold(Tally::default(), |tally, b| Tally {
                attempts: tally
                    .attempts
                    .saturating_add(b.successes)
                    .saturating_add(b.failures),
                failures: tally.failures.saturating_add(b.failures),
            })
    }

    /// Empties the buckets that are no longer in the window that ends at `now`.
    pub fn retain_window(&mut self, now: Timestamp) {
        let oldest = self.index_of(now) - (BUCKETS as i64 - 1);
        for bucket in &mut self.buckets {
            if bucket.index < oldest {
                *bucket = Bucket::EMPTY;
            }
        }
    }

    /// When the window that ends at `now` starts.
    pub fn starts(&self, now: Timestamp) -> Timestamp {
        let oldest = self.index_of(now) - (BUCKETS as i64 - 1);
        Timestamp::from_millis(oldest.saturating_mul(i64::from(self.width_ms)))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn signal(failed: bool) -> Signal {
        if failed {
            Signal::Failure
        } else {
            Signal::Success
        }
    }

    proptest! {
        /// The rate computed from the buckets equals the rate of the attempts made within the
        /// window, for attempts recorded in time order or merged from per-node windows.
        #[test]
        fn buckets_count_exactly_the_attempts_in_the_window(
            width in 1u32..5_000,
            mut attempts in prop::collection::vec((0i64..200_000, any::<bool>()), 0..300),
            nodes in 1usize..4,
            extra in 0i64..5_000,
        ) {
            attempts.sort_by_key(|(at, _)| *at);
            let now = attempts.last().map_or(0, |(at, _)| *at) + extra;
            // Each node counts its share; the windows are merged as flushes are.
            let mut per_node = vec![CircuitWindow::new(width); nodes];
            for (i, (at, failed)) in attempts.iter().enumerate() {
                per_node[i % nodes].add(Timestamp::from_millis(*at), signal(*failed));
            }
            let mut merged = CircuitWindow::new(width);
            for window in &per_node {
                merged.merge(window);
            }
            let now = Timestamp::from_millis(now);
            let start = merged.starts(now).as_millis();
            let inside: Vec<_> = attempts.iter().filter(|(at, _)| *at >= start).collect();
            let expected = Tally {
                attempts: inside.len() as u32,
                failures: inside.iter().filter(|(_, failed)| *failed).count() as u32,
            };
            prop_assert_eq!(merged.tally(now), expected);
            prop_assert_eq!(merged.tally(now).percent(), expected.percent());
            prop_assert_eq!(per_node[0].tally(now).attempts <= expected.attempts, true);
        }
    }

    #[test]
    fn the_window_slides_bucket_by_bucket() {
        let mut window = CircuitWindow::new(100);
        let t = Timestamp::from_millis;
        window.add(t(50), Signal::Failure);
        window.add(t(150), Signal::Success);
        window.add(t(150), Signal::Neutral);
        assert_eq!(
            window.tally(t(999)),
            Tally {
                attempts: 2,
                failures: 1
            }
        );
        assert_eq!(window.tally(t(999)).percent(), 50);
        assert_eq!(
            window.tally(t(1_000)),
            Tally {
                attempts: 1,
                failures: 0
            }
        );
        // Bucket 10 takes slot 0 from bucket 0; a late count for bucket 0 is dropped.
        window.add(t(1_000), Signal::Failure);
        window.add(t(40), Signal::Failure);
        assert_eq!(window.tally(t(1_000)).attempts, 2);
        assert_eq!(window.starts(t(1_000)), t(100));
    }

    #[test]
    fn merging_another_width_starts_over() {
        let mut window = CircuitWindow::new(100);
        window.add(Timestamp::from_millis(5), Signal::Failure);
        let mut other = CircuitWindow::new(200);
        other.add(Timestamp::from_millis(5), Signal::Success);
        window.merge(&other);
        assert_eq!(window.width_ms(), 200);
        assert_eq!(window.tally(Timestamp::from_millis(5)).failures, 0);
        assert_eq!(window.tally(Timestamp::from_millis(5)).attempts, 1);
    }
}
