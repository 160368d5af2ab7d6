//! [`TenantState`]: what one tenant has of its own (its live catalog, its stored objects, and
//! its per-destination pauses, attempts in flight, throttles and circuit views), held by the
//! [`Relay`](super::Relay) handles that serve it; everything else is shared.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::catalog::Catalog;
use crate::control::manage::ObjectState;
use crate::control::tenancy::gate::TenantGate;
use crate::deliver::circuit_view::CircuitViews;
use crate::deliver::throttle::Throttles;
use crate::model::ids::TenantId;

/// One tenant's state. The built relay's tenant is `default`; every other tenant's state is
/// made on first use (see [`crate::control::tenancy`]).
pub(crate) struct TenantState {
    pub(super) id: TenantId,
    pub(super) catalog: ArcSwap<Catalog>,
    pub(super) objects: Mutex<ObjectState>,
    /// Held while an admin change of this tenant's objects is checked, stored and applied.
    pub(super) object_writes: tokio::sync::Mutex<()>,
    disabled: Mutex<HashSet<String>>,
    /// When the stored pauses were last read again because the store leased a delivery this
    /// node holds paused; held while they are read.
    pub(super) pause_reread: tokio::sync::Mutex<Option<std::time::Instant>>,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
    pub(super) throttles: Throttles,
    pub(super) circuit_views: CircuitViews,
    /// This tenant's limits (none: unlimited).
    pub(super) gate: ArcSwapOption<TenantGate>,
}

impl TenantState {
    /// A tenant serving `catalog`, with nothing paused, in flight or throttled yet.
    pub(super) fn new(id: TenantId, catalog: Catalog) -> Self {
        Self {
            id,
            objects: Mutex::new(ObjectState::new(catalog.clone())),
            object_writes: tokio::sync::Mutex::new(()),
            catalog: ArcSwap::from_pointee(catalog),
            disabled: Mutex::new(HashSet::new()),
            pause_reread: tokio::sync::Mutex::new(None),
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            throttles: Throttles::default(),
            circuit_views: CircuitViews::default(),
            gate: ArcSwapOption::empty(),
        }
    }

    /// The destinations paused in this tenant.
    pub(super) fn disabled(&self) -> MutexGuard<'_, HashSet<String>> {
        self.disabled
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The configured catalog and the stored objects.
    pub(super) fn objects(&self) -> MutexGuard<'_, ObjectState> {
        self.objects
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// A slot among the attempts in flight to `destination` (capped at `cap`), if one is free.
    /// The count is per destination, whatever the cap was when a slot was taken, so a cap
    /// lowered while attempts are in flight holds as soon as enough of them end.
    pub(super) fn in_flight_slot(&self, destination: &str, cap: usize) -> Option<InFlightSlot> {
        let mut counts = self
            .in_flight
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let count = counts.entry(destination.to_owned()).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(InFlightSlot {
            counts: Arc::clone(&self.in_flight),
            destination: destination.to_owned(),
        })
    }
}

/// One attempt in flight to a destination; counted out when dropped.
#[derive(Debug)]
pub(crate) struct InFlightSlot {
    counts: Arc<Mutex<HashMap<String, usize>>>,
    destination: String,
}

impl Drop for InFlightSlot {
    fn drop(&mut self) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(count) = counts.get_mut(&self.destination) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.destination);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_counted_out_when_dropped() {
        let empty = Catalog::new(vec![], vec![], vec![], vec![]).expect("an empty catalog");
        let tenant = TenantState::new(TenantId::default(), empty);
        let first = tenant.in_flight_slot("d", 1).expect("a free slot");
        assert!(tenant.in_flight_slot("d", 1).is_none(), "the cap holds");
        assert!(tenant.in_flight_slot("e", 1).is_some(), "per destination");
        drop(first);
        assert!(tenant.in_flight_slot("d", 1).is_some(), "freed on drop");
    }
}
