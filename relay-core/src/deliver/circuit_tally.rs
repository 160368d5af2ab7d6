//! This process's attempt counts that are not in the store yet, per destination.
//!
//! Writing the stored circuit after every attempt would cost a store write per delivery. A
//! worker instead adds its attempt's signal here; the counts go to the store (added to the
//! stored window by compare-and-set) at most every [`PendingCounts::FLUSH_EVERY`], or at once
//! when they and the stored counts together open the circuit. So one node alone opens the
//! circuit at exactly its `min_attempts`-th attempt, and every node's counts reach the shared
//! window within a second of being made (when that node makes another attempt).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::deliver::circuit::{CircuitWindow, Signal};
use crate::model::time::Timestamp;

/// One destination's counts since its last flush.
#[derive(Debug, Clone, Copy)]
struct Pending {
    window: CircuitWindow,
    flushed: Option<Instant>,
}

/// Attempt counts not yet in the store, per destination of one relay (one tenant).
#[derive(Debug, Default)]
pub(crate) struct PendingCounts {
    pending: Mutex<HashMap<String, Pending>>,
}

impl PendingCounts {
    /// How often a destination's counts are flushed to the store while attempts are made.
    pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);

    /// Counts an attempt to `destination` that signalled `signal` at `at`, in a window like
    /// `empty`. Returns the counts to flush, taken out, when a flush is due: a second has
    /// passed since the last one, or `opens` says the counts open the circuit.
    pub(crate) fn count(
        &self,
        destination: &str,
        empty: CircuitWindow,
        at: Timestamp,
        signal: Signal,
        opens: impl FnOnce(&CircuitWindow) -> bool,
    ) -> Option<CircuitWindow> {
        self.count_at(destination, empty, at, signal, opens, Instant::now())
    }

    fn count_at(
        &self,
        destination: &str,
        empty: CircuitWindow,
        at: Timestamp,
        signal: Signal,
        opens: impl FnOnce(&CircuitWindow) -> bool,
        now: Instant,
    ) -> Option<CircuitWindow> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let entry = pending
            .entry(destination.to_owned())
            .or_insert_with(|| Pending {
                window: empty,
                flushed: None,
            });
        if entry.window.width_ms() != empty.width_ms() {
            entry.window = empty;
        }
        entry.window.add(at, signal);
        let due = entry
            .flushed
            .is_none_or(|last| now.saturating_duration_since(last) >= Self::FLUSH_EVERY);
        if !due && !opens(&entry.window) {
            return None;
        }
        entry.flushed = Some(now);
        Some(std::mem::replace(&mut entry.window, empty))
    }

    /// Takes out the counts of every destination not flushed for `FLUSH_EVERY` (those a
    /// node made just before its attempts to a destination stopped), or of every destination
    /// with `all` (the worker stops).
    pub(crate) fn due(&self, all: bool) -> Vec<(String, CircuitWindow)> {
        let now = Instant::now();
        self.due_at(if all { now + Self::FLUSH_EVERY } else { now })
    }

    fn due_at(&self, now: Instant) -> Vec<(String, CircuitWindow)> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending
            .iter_mut()
            .filter(|(_, entry)| {
                !entry.window.is_empty()
                    && entry
                        .flushed
                        .is_none_or(|last| now.saturating_duration_since(last) >= Self::FLUSH_EVERY)
            })
            .map(|(destination, entry)| {
                entry.flushed = Some(now);
                let empty = CircuitWindow::new(entry.window.width_ms());
                (
                    destination.clone(),
                    std::mem::replace(&mut entry.window, empty),
                )
            })
            .collect()
    }

    /// Puts back counts whose flush failed, to go with the next one.
    pub(crate) fn give_back(&self, destination: &str, counts: &CircuitWindow) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = pending.get_mut(destination) {
            entry.window.merge(counts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: CircuitWindow = CircuitWindow::new(100);

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn counts_are_flushed_once_a_second_or_when_they_open_the_circuit() {
        let counts = PendingCounts::default();
        let start = Instant::now();
        let first = counts.count_at("a", EMPTY, t(0), Signal::Failure, |_| false, start);
        assert_eq!(first.map(|w| w.tally(t(0)).attempts), Some(1), "first");
        for ms in 1..5 {
            let at = start + Duration::from_millis(ms as u64);
            assert!(
                counts
                    .count_at("a", EMPTY, t(ms), Signal::Success, |_| false, at)
                    .is_none()
            );
        }
        let opening = counts
            .count_at(
                "a",
                EMPTY,
                t(5),
                Signal::Failure,
                |w| w.tally(t(5)).failures == 1,
                start,
            )
            .expect("the counts open the circuit");
        assert_eq!(opening.tally(t(5)).attempts, 5);
        let later = start + PendingCounts::FLUSH_EVERY;
        counts.give_back("a", &opening);
        let flushed = counts
            .count_at("a", EMPTY, t(6), Signal::Success, |_| false, later)
            .expect("a second later");
        assert_eq!(flushed.tally(t(6)).attempts, 6, "given back, then flushed");
        assert!(
            counts
                .count_at("b", EMPTY, t(6), Signal::Neutral, |_| false, later)
                .is_some_and(|w| w.is_empty()),
            "destinations are apart"
        );
    }

    #[test]
    fn counts_left_behind_are_due_a_second_after_the_last_flush() {
        let counts = PendingCounts::default();
        let start = Instant::now();
        counts.count_at("a", EMPTY, t(0), Signal::Failure, |_| false, start);
        counts.count_at("a", EMPTY, t(1), Signal::Failure, |_| false, start);
        assert!(counts.due_at(start).is_empty(), "flushed just now");
        let later = start + PendingCounts::FLUSH_EVERY;
        let due = counts.due_at(later);
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].0.as_str(), due[0].1.tally(t(1)).failures), ("a", 1));
        assert!(
            counts.due_at(later + PendingCounts::FLUSH_EVERY).is_empty(),
            "nothing left"
        );
    }
}
