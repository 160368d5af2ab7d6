//! Circuit-breaker state: one row per (tenant, destination), changed by compare-and-set on
//! its version.

use relay_core::deliver::circuit::{CircuitDetail, CircuitPhase, CircuitState, VersionedCircuit};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::SqliteStoreError;
use crate::writes::Db;

/// [`CircuitStore::circuit`](relay_core::store::CircuitStore::circuit).
pub(crate) fn circuit(
    conn: &Connection,
    tenant: &TenantId,
    destination: &str,
) -> Result<Option<VersionedCircuit>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT phase, failures, window_started, until, version, detail FROM circuits
             WHERE tenant = ?1 AND destination = ?2",
        )
        .db()?
        .query_row(params![tenant.as_str(), destination], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, u32>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, String>(5)?,
            ))
        })
        .optional()
        .db()?;
    let Some((phase, failures, window_started, until, version, detail)) = row else {
        return Ok(None);
    };
    let phase = CircuitPhase::parse(&phase).ok_or_else(|| {
        StoreError::from(SqliteStoreError::Corrupt(format!(
            "unknown circuit phase {phase:?}"
        )))
    })?;
    let version = u64::try_from(version).map_err(|_| {
        StoreError::from(SqliteStoreError::Corrupt(format!(
            "negative circuit version {version}"
        )))
    })?;
    Ok(Some(VersionedCircuit {
        state: CircuitState {
            phase,
            failures,
            window_started: Timestamp::from_millis(window_started),
            until: Timestamp::from_millis(until),
            detail: CircuitDetail::decode(&detail)
                .map_err(|e| StoreError::from(SqliteStoreError::Corrupt(e.to_string())))?,
        },
        version,
    }))
}

/// [`CircuitStore::swap_circuit`](relay_core::store::CircuitStore::swap_circuit).
pub(crate) fn swap_circuit(
    conn: &Connection,
    tenant: &TenantId,
    destination: &str,
    expected: Option<u64>,
    state: &CircuitState,
) -> Result<bool, StoreError> {
    let values = (
        state.phase.as_str(),
        state.failures,
        state.window_started.as_millis(),
        state.until.as_millis(),
        state.detail.encode(),
    );
    let changed = match expected {
        None => conn
            .prepare_cached(
                "INSERT INTO circuits
                     (tenant, destination, phase, failures, window_started, until, detail,
                      version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)
                 ON CONFLICT (tenant, destination) DO NOTHING",
            )
            .db()?
            .execute(params![
                tenant.as_str(),
                destination,
                values.0,
                values.1,
                values.2,
                values.3,
                values.4
            ])
            .db()?,
        Some(version) => {
            let version = i64::try_from(version).unwrap_or(i64::MAX);
            conn.prepare_cached(
                "UPDATE circuits
                 SET phase = ?3, failures = ?4, window_started = ?5, until = ?6,
                     detail = ?7, version = version + 1
                 WHERE tenant = ?1 AND destination = ?2 AND version = ?8",
            )
            .db()?
            .execute(params![
                tenant.as_str(),
                destination,
                values.0,
                values.1,
                values.2,
                values.3,
                values.4,
                version
            ])
            .db()?
        }
    };
    Ok(changed == 1)
}
