//! The enabled/disabled state of sources, destinations and routes (`object_state`), and
//! [`ObjectStateStore`] for [`PgStore`].

use async_trait::async_trait;
use relay_core::control::manage::{ObjectKind, UnknownKind};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::{ObjectStateStore, StateRecord, StoreError};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{execute, rows};
use crate::PgStore;
use crate::error::PgStoreError;
use crate::rows::get;

const PUT: &str = "INSERT INTO object_state
         (tenant, kind, name, enabled, changed_by, reason, changed_at)
     VALUES ($1::text, $2::text, $3::text, $4::bool, $5::text, $6::text, $7::int8)
     ON CONFLICT (tenant, kind, name) DO UPDATE SET enabled = excluded.enabled,
         changed_by = excluded.changed_by, reason = excluded.reason,
         changed_at = excluded.changed_at";

const DELETE: &str =
    "DELETE FROM object_state WHERE tenant = $1::text AND kind = $2::text AND name = $3::text";

const ALL: &str = "SELECT kind, name, enabled, changed_by, reason, changed_at
     FROM object_state WHERE tenant = $1::text";

fn state(row: &Row) -> Result<StateRecord, PgStoreError> {
    let kind: String = get(row, 0)?;
    Ok(StateRecord {
        kind: (kind.parse()).map_err(|e: UnknownKind| PgStoreError::Corrupt(e.to_string()))?,
        name: get(row, 1)?,
        enabled: get(row, 2)?,
        changed_by: get(row, 3)?,
        reason: get(row, 4)?,
        changed_at: Timestamp::from_millis(get(row, 5)?),
    })
}

#[async_trait]
impl ObjectStateStore for PgStore {
    async fn put_object_state(
        &self,
        tenant: &TenantId,
        record: StateRecord,
    ) -> Result<(), StoreError> {
        let params: [&(dyn ToSql + Sync); 7] = [
            &tenant.as_str(),
            &record.kind.as_str(),
            &record.name,
            &record.enabled,
            &record.changed_by,
            &record.reason,
            &record.changed_at.as_millis(),
        ];
        execute(self.pool(), PUT, &params).await.map(drop)
    }

    async fn object_states(&self, tenant: &TenantId) -> Result<Vec<StateRecord>, StoreError> {
        let found = rows(self.pool(), ALL, &[&tenant.as_str()]).await?;
        let mut records = found.iter().map(state).collect::<Result<Vec<_>, _>>()?;
        records.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        Ok(records)
    }

    async fn delete_object_state(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        let params: [&(dyn ToSql + Sync); 3] = [&tenant.as_str(), &kind.as_str(), &name];
        Ok(execute(self.pool(), DELETE, &params).await? == 1)
    }
}
