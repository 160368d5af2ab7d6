//! An agent's connection as the gateway's endpoint drives it through [`Agents`]: checked
//! against the destinations bound to the agent, registered in this process's hub, recorded as
//! the agent's presence in the store (refreshed while it lasts, so every node shows the same
//! status), audited when it starts and ends and when a credential is refused.

use std::time::Duration;

use serde_json::json;

use super::credentials::Agents;
use super::{AgentSession, AgentTargets};
use crate::control::admin::{FieldChange, Principal, Role};
use crate::deliver::destination::Target;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::store::PresenceRecord;

/// How long a connection's presence lasts without a refresh (the endpoint refreshes it at
/// each of its pings, every 10 s): a node that dies stops refreshing, and its agents show
/// offline after this long.
pub const PRESENCE_TTL: Duration = Duration::from_secs(30);

fn change(field: &str, value: serde_json::Value) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        before: None,
        after: Some(value),
    }
}

impl Agents<'_> {
    /// The principal an agent's own audit entries are written under (`agent:<name>`).
    fn principal(&self, agent: &str) -> Principal {
        Principal {
            tenant: self.relay.tenant_id().clone(),
            actor: format!("agent:{agent}"),
            role: Role::Viewer,
            client: None,
        }
    }

    /// The name this node's presence records carry: its identity, or this process's.
    fn node_name(&self) -> String {
        match self.relay.node_id() {
            Some(node) => node.as_str().to_owned(),
            None => self.hub().process_name(),
        }
    }

    /// Why `targets` cannot serve every destination of kind `agent` bound to `agent` in this
    /// relay's tenant: the first without a URL, or whose URL is outside its `allow_targets`.
    pub fn refusal(&self, agent: &str, targets: &AgentTargets) -> Option<String> {
        let catalog = self.relay.catalog();
        (catalog.destinations().iter()).find_map(|destination| match destination.target() {
            Target::Agent {
                agent: bound,
                allow_targets,
            } if bound == agent => targets.refusal(destination.name(), allow_targets),
            _ => None,
        })
    }

    /// Registers a connection of `agent` (authenticated) forwarding to `targets`: this node
    /// leases its deliveries from now on; its presence is stored and the connection audited.
    /// Replaces an earlier connection of the agent to this node.
    pub async fn connect(&self, agent: &str, targets: AgentTargets, version: &str) -> AgentSession {
        let session = (self.hub()).connect(&self.relay.held_agent(agent), targets);
        self.relay.wake_workers();
        self.store_presence(&session, version).await;
        let changes = vec![
            change("node", json!(self.node_name())),
            change("version", json!(version)),
            change("targets", json!(session.targets.values())),
        ];
        self.audit(agent, "connect", changes).await;
        session
    }

    /// Refreshes the stored presence of `session` (the endpoint calls it at each ping the
    /// agent answered), unless it was replaced or closed.
    pub async fn seen(&self, session: &AgentSession, version: &str) {
        if (self.hub().session_of(&session.agent)) == Some(session.id) {
            self.store_presence(session, version).await;
        }
    }

    /// The agent of `session` is stopping (it sent [`AgentFrame::Draining`](super::AgentFrame)):
    /// this node sends it nothing more and stops leasing its deliveries; the outcomes of the
    /// attempts it was sent are still taken until it disconnects.
    pub fn drain(&self, session: &AgentSession) {
        if self.hub().drain(&session.agent, session.id) {
            tracing::info!(agent = session.agent.agent, "agent draining");
        }
    }

    /// Ends `session` (the connection closed for `reason`): removed from the hub unless a
    /// later connection replaced it, its presence marked ended, the end audited.
    pub async fn disconnect(&self, session: &AgentSession, reason: &str) {
        self.hub().disconnect(&session.agent, session.id);
        let now = Timestamp::now();
        let tenant = &session.agent.tenant;
        let ended = self
            .relay
            .store()
            .end_agent_presence(
                tenant,
                &session.agent.agent,
                &self.node_name(),
                &session.presence_session,
                now,
            )
            .await;
        if let Err(error) = ended {
            tracing::warn!(%error, agent = session.agent.agent, "could not store that the agent disconnected");
        }
        let changes = vec![
            change("node", json!(self.node_name())),
            change("reason", json!(reason)),
        ];
        self.audit(&session.agent.agent, "disconnect", changes)
            .await;
    }

    /// Audits a refused agent credential (`claimed`: the agent the token names, if any).
    pub async fn refused(&self, claimed: Option<&str>, reason: &str) {
        let agent = claimed.unwrap_or("unknown");
        let changes = vec![change("reason", json!(reason))];
        self.audit(agent, "refuse", changes).await;
    }

    async fn store_presence(&self, session: &AgentSession, version: &str) {
        let now = Timestamp::now();
        let record = PresenceRecord {
            agent: session.agent.agent.clone(),
            node: self.node_name(),
            session: session.presence_session.clone(),
            connected_at: session.since,
            last_seen: now,
            expires_at: now.plus(PRESENCE_TTL),
            version: version.to_owned(),
            targets: session.targets.clone(),
        };
        let tenant: &TenantId = &session.agent.tenant;
        if let Err(error) = self.relay.store().put_agent_presence(tenant, record).await {
            tracing::warn!(%error, agent = session.agent.agent, "could not store the agent's presence");
        }
    }

    async fn audit(&self, agent: &str, action: &str, changes: Vec<FieldChange>) {
        let by = self.principal(agent);
        if let Err(error) = (self.relay.access())
            .audit(&by, action, "agent", agent, changes)
            .await
        {
            tracing::warn!(%error, agent, action, "could not audit the agent connection");
        }
    }
}
