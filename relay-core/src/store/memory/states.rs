//! [`ObjectStateStore`] for [`MemoryStore`], and the rule its queue shares with the durable
//! stores: the deliveries of a disabled destination, or of one whose circuit is open, are
//! held (not leased); so are those bound to an agent the leasing node does not hold.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{MemoryStore, State};
use crate::control::manage::ObjectKind;
use crate::deliver::circuit::CircuitPhase;
use crate::model::ids::{DeliveryId, TenantId};
use crate::model::time::Timestamp;
use crate::store::{HeldAgent, ObjectStateStore, StateRecord, StoreError};

/// The stored states by (tenant, kind, name).
pub(super) type ObjectStates = BTreeMap<(TenantId, ObjectKind, String), StateRecord>;

impl State {
    /// Whether the delivery waits for its destination: disabled, or its circuit open until
    /// after `now`.
    pub(super) fn is_held(&self, id: DeliveryId, now: Timestamp) -> bool {
        let Some(row) = self.deliveries.get(&id) else {
            return false;
        };
        let (tenant, destination) = (&row.delivery.tenant, &row.delivery.destination);
        let key = (tenant.clone(), ObjectKind::Destination, destination.clone());
        let disabled = self.object_states.get(&key).is_some_and(|s| !s.enabled);
        let open = (self.circuits.get(&(tenant.clone(), destination.clone())))
            .is_some_and(|c| c.state.phase == CircuitPhase::Open && c.state.until > now);
        disabled || open
    }

    /// Whether the delivery may be leased by a node holding `agents`: it is bound to no
    /// agent, or to one of them.
    pub(super) fn agent_held(&self, id: DeliveryId, agents: &[HeldAgent]) -> bool {
        let Some(row) = self.deliveries.get(&id) else {
            return true;
        };
        row.agent.as_ref().is_none_or(|agent| {
            (agents.iter()).any(|a| a.tenant == row.delivery.tenant && a.agent == *agent)
        })
    }
}

#[async_trait]
impl ObjectStateStore for MemoryStore {
    async fn put_object_state(
        &self,
        tenant: &TenantId,
        record: StateRecord,
    ) -> Result<(), StoreError> {
        let key = (tenant.clone(), record.kind, record.name.clone());
        self.state().object_states.insert(key, record);
        Ok(())
    }

    async fn object_states(&self, tenant: &TenantId) -> Result<Vec<StateRecord>, StoreError> {
        let state = self.state();
        Ok((state.object_states.iter())
            .filter(|((t, _, _), _)| t == tenant)
            .map(|(_, record)| record.clone())
            .collect())
    }

    async fn delete_object_state(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        let key = (tenant.clone(), kind, name.to_owned());
        Ok(self.state().object_states.remove(&key).is_some())
    }
}
