//! Watching for agents connected nowhere: a delivery worker looks every few seconds, and
//! tells the observers (the `agent_offline` alert) how long each agent a destination is bound
//! to has been connected to no node.

use std::collections::BTreeSet;

use crate::model::time::Timestamp;
use crate::observe::Observer as _;
use crate::relay::Relay;

impl Relay {
    /// Tells the observers about every agent bound to a destination of this relay's tenant
    /// that no node holds a connection of, and for how long (since its last connection ended
    /// or lapsed; since this process started, for one never seen).
    pub(crate) async fn watch_agents(&self) {
        let catalog = self.catalog();
        let bound: BTreeSet<&str> = (catalog.destinations().iter())
            .filter_map(|d| d.agent_name())
            .collect();
        if bound.is_empty() {
            return;
        }
        let presence = match self.store().agent_presence(self.tenant_id()).await {
            Ok(presence) => presence,
            Err(error) => {
                tracing::debug!(%error, "could not read agent presence");
                return;
            }
        };
        let now = Timestamp::now();
        for agent in bound {
            let mine = presence.iter().filter(|p| p.agent == agent);
            if mine.clone().any(|p| p.is_live(now)) {
                continue;
            }
            let since =
                (mine.map(|p| p.expires_at).max()).unwrap_or_else(|| self.agent_hub().started());
            (self.observers()).on_agent_offline(self.tenant_id(), agent, now.since(since));
        }
    }
}
