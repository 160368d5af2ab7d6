//! The tenant registry of [`MemoryStore`](super::MemoryStore).

use std::collections::{BTreeMap, HashMap};

use crate::control::admin::TenantRecord;
use crate::model::ids::TenantId;
use crate::store::QuotaOutcome;

/// The stored tenants, by name, and the daily quota counters.
#[derive(Debug, Default)]
pub(super) struct Tenants(
    BTreeMap<String, TenantRecord>,
    HashMap<(TenantId, i64), u64>,
);

impl Tenants {
    pub(super) fn take_quota(&mut self, tenant: &TenantId, day: i64, limit: u64) -> QuotaOutcome {
        let used = self.1.entry((tenant.clone(), day)).or_insert(0);
        if *used >= limit {
            return QuotaOutcome::Exhausted;
        }
        *used += 1;
        QuotaOutcome::Taken { used: *used }
    }

    pub(super) fn insert(&mut self, record: TenantRecord) -> bool {
        let name = record.tenant.as_str().to_owned();
        if self.0.contains_key(&name) {
            return false;
        }
        self.0.insert(name, record);
        true
    }

    pub(super) fn update(&mut self, record: TenantRecord) -> bool {
        match self.0.get_mut(record.tenant.as_str()) {
            Some(stored) => {
                stored.limits = record.limits;
                stored.updated_at = record.updated_at;
                true
            }
            None => false,
        }
    }

    pub(super) fn delete(&mut self, tenant: &TenantId) -> bool {
        self.0.remove(tenant.as_str()).is_some()
    }

    pub(super) fn all(&self) -> Vec<TenantRecord> {
        self.0.values().cloned().collect()
    }
}
