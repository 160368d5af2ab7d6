//! [`AgentPresenceStore`] for [`MemoryStore`].

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::MemoryStore;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::store::{AgentPresenceStore, PresenceRecord, StoreError};

/// Presence records by (tenant, agent, node).
pub(super) type Presence = BTreeMap<(TenantId, String, String), PresenceRecord>;

#[async_trait]
impl AgentPresenceStore for MemoryStore {
    async fn put_agent_presence(
        &self,
        tenant: &TenantId,
        record: PresenceRecord,
    ) -> Result<(), StoreError> {
        let key = (tenant.clone(), record.agent.clone(), record.node.clone());
        self.state().presence.insert(key, record);
        Ok(())
    }

    async fn end_agent_presence(
        &self,
        tenant: &TenantId,
        agent: &str,
        node: &str,
        session: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let key = (tenant.clone(), agent.to_owned(), node.to_owned());
        let mut state = self.state();
        match state.presence.get_mut(&key) {
            Some(record) if record.session == session => {
                record.expires_at = at;
                record.last_seen = at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn agent_presence(&self, tenant: &TenantId) -> Result<Vec<PresenceRecord>, StoreError> {
        Ok((self.state().presence.iter())
            .filter(|((t, _, _), _)| t == tenant)
            .map(|(_, record)| record.clone())
            .collect())
    }
}
