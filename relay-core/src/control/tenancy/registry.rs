//! [`TenantRelays`]: the state of the tenants other than the built relay's, by tenant.
//! Generic over what is kept per tenant, so the registry knows nothing of it.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::model::ids::TenantId;

/// What is kept for each tenant other than the built relay's (read lock-free).
#[derive(Debug)]
pub(crate) struct TenantRelays<R> {
    relays: ArcSwap<HashMap<TenantId, R>>,
    /// Serialises the (rare) additions, so two callers never make two handles for a tenant.
    adding: std::sync::Mutex<()>,
}

impl<R> Default for TenantRelays<R> {
    fn default() -> Self {
        Self {
            relays: ArcSwap::from_pointee(HashMap::new()),
            adding: std::sync::Mutex::new(()),
        }
    }
}

impl<R: Clone> TenantRelays<R> {
    /// The handle of `tenant`, if it has one.
    pub(super) fn get(&self, tenant: &TenantId) -> Option<R> {
        self.relays.load().get(tenant).cloned()
    }

    /// The handle of `tenant`, made by `make` (once, whoever asks at the same time) when
    /// there is none yet.
    pub(super) fn get_or_insert_with(&self, tenant: &TenantId, make: impl FnOnce() -> R) -> R {
        if let Some(relay) = self.get(tenant) {
            return relay;
        }
        let _adding = self
            .adding
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(relay) = self.get(tenant) {
            return relay;
        }
        let relay = make();
        let mut next = HashMap::clone(&self.relays.load());
        next.insert(tenant.clone(), relay.clone());
        self.relays.store(Arc::new(next));
        relay
    }

    /// The tenants with a handle.
    pub(super) fn tenants(&self) -> Vec<TenantId> {
        self.relays.load().keys().cloned().collect()
    }

    /// Every handle.
    pub(super) fn all(&self) -> Vec<R> {
        self.relays.load().values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_gets_one_handle_made_once() {
        let relays = TenantRelays::<u32>::default();
        let acme = TenantId::new("acme");
        assert_eq!(relays.get(&acme), None);
        assert_eq!(relays.get_or_insert_with(&acme, || 1), 1);
        assert_eq!(relays.get_or_insert_with(&acme, || 2), 1, "made once");
        assert_eq!(relays.tenants(), vec![acme]);
        assert_eq!(relays.all(), vec![1]);
    }
}
