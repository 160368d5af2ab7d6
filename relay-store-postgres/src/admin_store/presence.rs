//! Agent presence (`agent_presence`), and [`AgentPresenceStore`] for [`PgStore`].

use async_trait::async_trait;
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::{AgentPresenceStore, PresenceRecord, StoreError};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{execute, rows};
use crate::PgStore;
use crate::error::PgStoreError;
use crate::rows::get;

const PUT: &str = "INSERT INTO agent_presence (tenant, agent, node_id, session, connected_at,
         last_seen, expires_at, version, targets)
     VALUES ($1::text, $2::text, $3::text, $4::text, $5::int8, $6::int8, $7::int8, $8::text,
         $9::text)
     ON CONFLICT (tenant, agent, node_id) DO UPDATE SET session = excluded.session,
         connected_at = excluded.connected_at, last_seen = excluded.last_seen,
         expires_at = excluded.expires_at, version = excluded.version,
         targets = excluded.targets";

const END: &str = "UPDATE agent_presence SET expires_at = $5::int8, last_seen = $5::int8
     WHERE tenant = $1::text AND agent = $2::text AND node_id = $3::text
         AND session = $4::text";

const ALL: &str = "SELECT agent, node_id, session, connected_at, last_seen, expires_at, version,
         targets
     FROM agent_presence WHERE tenant = $1::text ORDER BY agent, node_id";

fn presence(row: &Row) -> Result<PresenceRecord, PgStoreError> {
    let targets: String = get(row, 7)?;
    Ok(PresenceRecord {
        agent: get(row, 0)?,
        node: get(row, 1)?,
        session: get(row, 2)?,
        connected_at: Timestamp::from_millis(get(row, 3)?),
        last_seen: Timestamp::from_millis(get(row, 4)?),
        expires_at: Timestamp::from_millis(get(row, 5)?),
        version: get(row, 6)?,
        targets: serde_json::from_str(&targets)
            .map_err(|e| PgStoreError::Corrupt(format!("agent targets: {e}")))?,
    })
}

#[async_trait]
impl AgentPresenceStore for PgStore {
    async fn put_agent_presence(
        &self,
        tenant: &TenantId,
        record: PresenceRecord,
    ) -> Result<(), StoreError> {
        let targets = serde_json::to_string(&record.targets)
            .map_err(|e| StoreError::Corrupt(format!("agent targets: {e}")))?;
        let params: [&(dyn ToSql + Sync); 9] = [
            &tenant.as_str(),
            &record.agent,
            &record.node,
            &record.session,
            &record.connected_at.as_millis(),
            &record.last_seen.as_millis(),
            &record.expires_at.as_millis(),
            &record.version,
            &targets,
        ];
        execute(self.pool(), PUT, &params).await.map(drop)
    }

    async fn end_agent_presence(
        &self,
        tenant: &TenantId,
        agent: &str,
        node: &str,
        session: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let params: [&(dyn ToSql + Sync); 5] =
            [&tenant.as_str(), &agent, &node, &session, &at.as_millis()];
        Ok(execute(self.pool(), END, &params).await? == 1)
    }

    async fn agent_presence(&self, tenant: &TenantId) -> Result<Vec<PresenceRecord>, StoreError> {
        let found = rows(self.pool(), ALL, &[&tenant.as_str()]).await?;
        Ok(found.iter().map(presence).collect::<Result<Vec<_>, _>>()?)
    }
}
