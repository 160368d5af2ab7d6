//! Agent presence (`agent_presence`), and [`AgentPresenceStore`] for [`SqliteStore`]: writes
//! through the writer thread, reads on the read pool.

use async_trait::async_trait;
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::{AgentPresenceStore, PresenceRecord, StoreError};
use rusqlite::{Connection, Row, params};

use crate::SqliteStore;
use crate::rows::{corrupt, time};
use crate::writes::Db;

const COLUMNS: &str =
    "agent, node_id, session, connected_at, last_seen, expires_at, version, targets";

fn presence(row: &Row<'_>) -> rusqlite::Result<PresenceRecord> {
    let targets: String = row.get(7)?;
    Ok(PresenceRecord {
        agent: row.get(0)?,
        node: row.get(1)?,
        session: row.get(2)?,
        connected_at: time(row, 3)?,
        last_seen: time(row, 4)?,
        expires_at: time(row, 5)?,
        version: row.get(6)?,
        targets: serde_json::from_str(&targets).map_err(|e| corrupt(7, e.to_string()))?,
    })
}

fn put(conn: &Connection, tenant: &TenantId, record: &PresenceRecord) -> Result<(), StoreError> {
    let targets = serde_json::to_string(&record.targets)
        .map_err(|e| StoreError::Corrupt(format!("agent targets: {e}")))?;
    conn.prepare_cached(&format!(
        "INSERT INTO agent_presence (tenant, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (tenant, agent, node_id) DO UPDATE SET session = excluded.session,
             connected_at = excluded.connected_at, last_seen = excluded.last_seen,
             expires_at = excluded.expires_at, version = excluded.version,
             targets = excluded.targets"
    ))
    .db()?
    .execute(params![
        tenant.as_str(),
        record.agent,
        record.node,
        record.session,
        record.connected_at.as_millis(),
        record.last_seen.as_millis(),
        record.expires_at.as_millis(),
        record.version,
        targets,
    ])
    .db()?;
    Ok(())
}

fn end(
    conn: &Connection,
    tenant: &TenantId,
    key: &(String, String, String),
    at: Timestamp,
) -> Result<bool, StoreError> {
    let (agent, node, session) = key;
    let ended = conn
        .prepare_cached(
            "UPDATE agent_presence SET expires_at = ?5, last_seen = ?5
             WHERE tenant = ?1 AND agent = ?2 AND node_id = ?3 AND session = ?4",
        )
        .db()?
        .execute(params![
            tenant.as_str(),
            agent,
            node,
            session,
            at.as_millis()
        ])
        .db()?;
    Ok(ended == 1)
}

fn all(conn: &Connection, tenant: &TenantId) -> Result<Vec<PresenceRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM agent_presence WHERE tenant = ?1 ORDER BY agent, node_id"
    ))
    .db()?
    .query_map([tenant.as_str()], presence)
    .db()?
    .collect::<rusqlite::Result<_>>()
    .db()
}

#[async_trait]
impl AgentPresenceStore for SqliteStore {
    async fn put_agent_presence(
        &self,
        tenant: &TenantId,
        record: PresenceRecord,
    ) -> Result<(), StoreError> {
        let tenant = tenant.clone();
        self.write(move |conn| put(conn, &tenant, &record)).await
    }

    async fn end_agent_presence(
        &self,
        tenant: &TenantId,
        agent: &str,
        node: &str,
        session: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let tenant = tenant.clone();
        let key = (agent.to_owned(), node.to_owned(), session.to_owned());
        self.write(move |conn| end(conn, &tenant, &key, at)).await
    }

    async fn agent_presence(&self, tenant: &TenantId) -> Result<Vec<PresenceRecord>, StoreError> {
        let tenant = tenant.clone();
        self.read(move |conn| all(conn, &tenant)).await
    }
}
