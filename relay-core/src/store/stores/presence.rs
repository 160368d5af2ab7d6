//! [`AgentPresenceStore`] of [`Stores`]: answered by its presence part.

use async_trait::async_trait;

use super::Stores;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::store::{AgentPresenceStore, PresenceRecord, StoreError};

#[async_trait]
impl AgentPresenceStore for Stores {
    async fn put_agent_presence(
        &self,
        tenant: &TenantId,
        record: PresenceRecord,
    ) -> Result<(), StoreError> {
        self.presence.put_agent_presence(tenant, record).await
    }

    async fn end_agent_presence(
        &self,
        tenant: &TenantId,
        agent: &str,
        node: &str,
        session: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.presence
            .end_agent_presence(tenant, agent, node, session, at)
            .await
    }

    async fn agent_presence(&self, tenant: &TenantId) -> Result<Vec<PresenceRecord>, StoreError> {
        self.presence.agent_presence(tenant).await
    }
}
