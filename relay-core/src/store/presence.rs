//! [`AgentPresenceStore`]: which node holds each agent's connection, as every node sees it.

use async_trait::async_trait;

use super::{Refuse, StoreError};
use crate::control::agent::AgentTargets;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;

/// One agent connection as stored, per (tenant, agent, node): refreshed while it lasts, and
/// kept after it ends (expired) so the agent's last node and last-seen time stay visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceRecord {
    /// The agent's name.
    pub agent: String,
    /// The node holding (or that held) the connection: its stable identity, or a per-process
    /// one when it has none.
    pub node: String,
    /// Tells this connection from an earlier or later one of the agent on the same node.
    pub session: String,
    /// When the connection was made.
    pub connected_at: Timestamp,
    /// When the node last heard from the agent.
    pub last_seen: Timestamp,
    /// Until when the connection counts as live unless refreshed (a node that dies stops
    /// refreshing it, so its connections lapse); when it ended, for an ended one.
    pub expires_at: Timestamp,
    /// The version the agent reported.
    pub version: String,
    /// Where the agent forwards each destination.
    pub targets: AgentTargets,
}

impl PresenceRecord {
    /// Whether the connection is live at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }
}

/// Agent presence: one record per (tenant, agent, node), written by the node holding the
/// connection, read by every node (the agents' status in the admin API).
#[async_trait]
pub trait AgentPresenceStore: Send + Sync + std::fmt::Debug {
    /// Saves `record` as the presence of its agent on its node, replacing what was there.
    async fn put_agent_presence(
        &self,
        tenant: &TenantId,
        record: PresenceRecord,
    ) -> Result<(), StoreError>;

    /// Marks the connection `session` of `agent` on `node` ended at `at` (its `expires_at` and
    /// `last_seen` become `at`); a later connection on that node is left alone. Whether it
    /// was there.
    async fn end_agent_presence(
        &self,
        tenant: &TenantId,
        agent: &str,
        node: &str,
        session: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Every presence record of the tenant's agents, live or ended, by agent then node.
    async fn agent_presence(&self, tenant: &TenantId) -> Result<Vec<PresenceRecord>, StoreError>;
}

#[async_trait]
impl AgentPresenceStore for Refuse {
    async fn put_agent_presence(
        &self,
        _tenant: &TenantId,
        _record: PresenceRecord,
    ) -> Result<(), StoreError> {
        Err((self.error)("agent presence"))
    }

    async fn end_agent_presence(
        &self,
        _tenant: &TenantId,
        _agent: &str,
        _node: &str,
        _session: &str,
        _at: Timestamp,
    ) -> Result<bool, StoreError> {
        Err((self.error)("agent presence"))
    }

    async fn agent_presence(&self, _tenant: &TenantId) -> Result<Vec<PresenceRecord>, StoreError> {
        Err((self.error)("agent presence"))
    }
}
