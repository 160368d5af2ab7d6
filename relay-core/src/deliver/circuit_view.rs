//! This process's recent view of each destination's circuit, so that an attempt does not read
//! the circuit from the store every time.
//!
//! Reading the stored circuit before every attempt cost a store round trip (on SQLite a hop to
//! a blocking thread and back) per delivery, for a state that almost always says "closed". A
//! view is used for [`CircuitViews::FRESH_FOR`] after it was read or written by this process;
//! after that the next attempt reads the store again. Every change still goes through the
//! store's compare-and-set with the version the view holds, so a stale view can only delay
//! what this node sees of another node's change (by at most `FRESH_FOR`), never overwrite it:
//! a swap against a stale version fails, and the store is read again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::deliver::circuit::VersionedCircuit;
use crate::deliver::circuit_tally::PendingCounts;

/// One destination's circuit as last seen, and when.
#[derive(Debug, Clone, Copy)]
struct View {
    seen: Option<VersionedCircuit>,
    at: Instant,
}

/// The circuits of one relay's (one tenant's) destinations as this process last saw them.
#[derive(Debug, Default)]
pub(crate) struct CircuitViews {
    views: Mutex<HashMap<String, View>>,
    pending: PendingCounts,
}

impl CircuitViews {
    /// How long a view is used before the store is read again.
    pub(crate) const FRESH_FOR: Duration = Duration::from_millis(250);

    /// This process's attempt counts not yet in the store.
    pub(crate) fn pending(&self) -> &PendingCounts {
        &self.pending
    }

    /// The destination's circuit, when this process saw it less than `FRESH_FOR` ago
    /// (`Some(None)`: seen, and never written).
    pub(crate) fn fresh(&self, destination: &str) -> Option<Option<VersionedCircuit>> {
        self.fresh_at(destination, Instant::now())
    }

    fn fresh_at(&self, destination: &str, now: Instant) -> Option<Option<VersionedCircuit>> {
        let views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        views
            .get(destination)
            .filter(|view| now.saturating_duration_since(view.at) < Self::FRESH_FOR)
            .map(|view| view.seen)
    }

    /// Remembers the circuit as just read from, or written to, the store. A fresh view of a
    /// later version is kept: a slow read must not take the view back in time.
    pub(crate) fn saw(&self, destination: &str, seen: Option<VersionedCircuit>) {
        self.saw_at(destination, seen, Instant::now());
    }

    fn saw_at(&self, destination: &str, seen: Option<VersionedCircuit>, now: Instant) {
        let version = |s: Option<VersionedCircuit>| s.map_or(0, |c| c.version);
        let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        match views.get_mut(destination) {
            Some(view)
                if now.saturating_duration_since(view.at) < Self::FRESH_FOR
                    && version(view.seen) > version(seen) => {}
            Some(view) => *view = View { seen, at: now },
            None => {
                views.insert(destination.to_owned(), View { seen, at: now });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::circuit::{CircuitPhase, CircuitState};

    fn circuit(version: u64, phase: CircuitPhase) -> Option<VersionedCircuit> {
        Some(VersionedCircuit {
            state: CircuitState {
                phase,
                ..CircuitState::CLOSED
            },
            version,
        })
    }

    #[test]
    fn an_unseen_destination_has_no_view() {
        assert_eq!(CircuitViews::default().fresh("a"), None);
    }

    #[test]
    fn a_view_is_used_until_it_is_stale() {
        let views = CircuitViews::default();
        let start = Instant::now();
        views.saw_at("a", None, start);
        assert_eq!(views.fresh_at("a", start), Some(None));
        let almost = start + CircuitViews::FRESH_FOR - Duration::from_millis(1);
        assert_eq!(views.fresh_at("a", almost), Some(None));
        assert_eq!(views.fresh_at("a", start + CircuitViews::FRESH_FOR), None);
        assert_eq!(
            views.fresh_at("b", start),
            None,
            "views are per destination"
        );
    }

    #[test]
    fn a_fresh_later_version_is_not_taken_back_by_an_older_read() {
        let views = CircuitViews::default();
        let start = Instant::now();
        views.saw_at("a", circuit(3, CircuitPhase::Open), start);
        views.saw_at("a", circuit(2, CircuitPhase::Closed), start);
        assert_eq!(
            views.fresh_at("a", start),
            Some(circuit(3, CircuitPhase::Open))
        );
        views.saw_at("a", None, start);
        assert_eq!(
            views.fresh_at("a", start),
            Some(circuit(3, CircuitPhase::Open))
        );
    }

    #[test]
    fn a_stale_view_is_replaced_by_any_read() {
        let views = CircuitViews::default();
        let start = Instant::now();
        views.saw_at("a", circuit(3, CircuitPhase::Open), start);
        let later = start + CircuitViews::FRESH_FOR;
        views.saw_at("a", circuit(1, CircuitPhase::Closed), later);
        assert_eq!(
            views.fresh_at("a", later),
            Some(circuit(1, CircuitPhase::Closed))
        );
    }

    #[test]
    fn a_newer_version_replaces_a_fresh_view() {
        let views = CircuitViews::default();
        let start = Instant::now();
        views.saw_at("a", None, start);
        views.saw_at("a", circuit(1, CircuitPhase::Open), start);
        assert_eq!(
            views.fresh_at("a", start),
            Some(circuit(1, CircuitPhase::Open))
        );
    }
}
