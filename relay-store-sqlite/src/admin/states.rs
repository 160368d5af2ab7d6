//! The enabled/disabled state of sources, destinations and routes (`object_state`), and
//! [`ObjectStateStore`] for [`SqliteStore`]: writes through the writer thread, reads on the
//! read pool.

use async_trait::async_trait;
use relay_core::control::manage::{ObjectKind, UnknownKind};
use relay_core::model::ids::TenantId;
use relay_core::store::{ObjectStateStore, StateRecord, StoreError};
use rusqlite::{Connection, Row, params};

use crate::SqliteStore;
use crate::rows::{corrupt, time};
use crate::writes::Db;

const COLUMNS: &str = "kind, name, enabled, changed_by, reason, changed_at";

fn state(row: &Row<'_>) -> rusqlite::Result<StateRecord> {
    let kind: String = row.get(0)?;
    Ok(StateRecord {
        kind: kind
            .parse()
            .map_err(|e: UnknownKind| corrupt(0, e.to_string()))?,
        name: row.get(1)?,
        enabled: row.get(2)?,
        changed_by: row.get(3)?,
        reason: row.get(4)?,
        changed_at: time(row, 5)?,
    })
}

fn put(conn: &Connection, tenant: &TenantId, record: &StateRecord) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO object_state (tenant, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (tenant, kind, name) DO UPDATE SET enabled = excluded.enabled,
             changed_by = excluded.changed_by, reason = excluded.reason,
             changed_at = excluded.changed_at"
    ))
    .db()?
    .execute(params![
        tenant.as_str(),
        record.kind.as_str(),
        record.name,
        record.enabled,
        record.changed_by,
        record.reason,
        record.changed_at.as_millis(),
    ])
    .db()?;
    Ok(())
}

fn all(conn: &Connection, tenant: &TenantId) -> Result<Vec<StateRecord>, StoreError> {
    let mut records: Vec<StateRecord> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM object_state WHERE tenant = ?1"
        ))
        .db()?
        .query_map([tenant.as_str()], state)
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()?;
    records.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(records)
}

fn delete(
    conn: &Connection,
    tenant: &TenantId,
    kind: ObjectKind,
    name: &str,
) -> Result<bool, StoreError> {
    let deleted = conn
        .prepare_cached("DELETE FROM object_state WHERE tenant = ?1 AND kind = ?2 AND name = ?3")
        .db()?
        .execute(params![tenant.as_str(), kind.as_str(), name])
        .db()?;
    Ok(deleted == 1)
}

#[async_trait]
impl ObjectStateStore for SqliteStore {
    async fn put_object_state(
        &self,
        tenant: &TenantId,
        record: StateRecord,
    ) -> Result<(), StoreError> {
        let tenant = tenant.clone();
        self.write(move |conn| put(conn, &tenant, &record)).await
    }

    async fn object_states(&self, tenant: &TenantId) -> Result<Vec<StateRecord>, StoreError> {
        let tenant = tenant.clone();
        self.read(move |conn| all(conn, &tenant)).await
    }

    async fn delete_object_state(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        let (tenant, name) = (tenant.clone(), name.to_owned());
        self.write(move |conn| delete(conn, &tenant, kind, &name))
            .await
    }
}
