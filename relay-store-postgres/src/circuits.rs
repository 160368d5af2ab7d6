//! Circuit-breaker state: one row per (tenant, destination), changed by compare-and-set on
//! its version. Each swap is one statement, so the check and the write are atomic: the first
//! write is an `INSERT … ON CONFLICT DO NOTHING` (of concurrent first writers, one inserts),
//! later ones an `UPDATE … WHERE version = $expected` (of concurrent writers from one
//! version, the first to lock the row matches; the others re-check it after that commit and
//! match nothing).

use deadpool_postgres::Pool;
use relay_core::deliver::circuit::{CircuitDetail, CircuitPhase, CircuitState, VersionedCircuit};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;

use crate::error::{Db, PgStoreError};
use crate::rows::get;

const SELECT: &str = "SELECT phase, failures, window_started, until, version, detail
     FROM circuits
     WHERE tenant = $1::text AND destination = $2::text";

const INSERT_FIRST: &str = "INSERT INTO circuits
         (tenant, destination, phase, failures, window_started, until, detail, version)
     VALUES ($1::text, $2::text, $3::text, $4::int8, $5::int8, $6::int8, $7::text, 1)
     ON CONFLICT (tenant, destination) DO NOTHING";

const UPDATE_FROM: &str = "UPDATE circuits
     SET phase = $3::text, failures = $4::int8, window_started = $5::int8, until = $6::int8,
         detail = $7::text, version = version + 1
     WHERE tenant = $1::text AND destination = $2::text AND version = $8::int8";

/// [`CircuitStore::circuit`](relay_core::store::CircuitStore::circuit).
pub(crate) async fn circuit(
    pool: &Pool,
    tenant: &TenantId,
    destination: &str,
) -> Result<Option<VersionedCircuit>, StoreError> {
    let client = pool.get().await.db()?;
    let statement = client.prepare_cached(SELECT).await.db()?;
    let Some(row) = client
        .query_opt(&statement, &[&tenant.as_str(), &destination])
        .await
        .db()?
    else {
        return Ok(None);
    };
    let phase: String = get(&row, 0)?;
    let failures: i64 = get(&row, 1)?;
    let version: i64 = get(&row, 4)?;
    let detail: String = get(&row, 5)?;
    let corrupt = |what: String| StoreError::from(PgStoreError::Corrupt(what));
    Ok(Some(VersionedCircuit {
        state: CircuitState {
            phase: CircuitPhase::parse(&phase)
                .ok_or_else(|| corrupt(format!("unknown circuit phase {phase:?}")))?,
            failures: u32::try_from(failures)
                .map_err(|_| corrupt(format!("circuit failures {failures}")))?,
            window_started: Timestamp::from_millis(get(&row, 2)?),
            until: Timestamp::from_millis(get(&row, 3)?),
            detail: CircuitDetail::decode(&detail).map_err(|e| corrupt(e.to_string()))?,
        },
        version: u64::try_from(version)
            .map_err(|_| corrupt(format!("negative circuit version {version}")))?,
    }))
}

/// [`CircuitStore::swap_circuit`](relay_core::store::CircuitStore::swap_circuit).
pub(crate) async fn swap_circuit(
    pool: &Pool,
    tenant: &TenantId,
    destination: &str,
    expected: Option<u64>,
    state: &CircuitState,
) -> Result<bool, StoreError> {
    let (tenant, phase) = (tenant.as_str(), state.phase.as_str());
    let failures = i64::from(state.failures);
    let (window_started, until) = (state.window_started.as_millis(), state.until.as_millis());
    let detail = state.detail.encode();
    let client = pool.get().await.db()?;
    let changed = match expected {
        None => {
            let statement = client.prepare_cached(INSERT_FIRST).await.db()?;
            client
                .execute(
                    &statement,
                    &[
                        &tenant,
                        &destination,
                        &phase,
                        &failures,
                        &window_started,
                        &until,
                        &detail,
                    ],
                )
                .await
                .db()?
        }
        Some(version) => {
            // No stored version exceeds i64::MAX, so a larger one matches nothing.
            let Ok(version) = i64::try_from(version) else {
                return Ok(false);
            };
            let statement = client.prepare_cached(UPDATE_FROM).await.db()?;
            client
                .execute(
                    &statement,
                    &[
                        &tenant,
                        &destination,
                        &phase,
                        &failures,
                        &window_started,
                        &until,
                        &detail,
                        &version,
                    ],
                )
                .await
                .db()?
        }
    };
    Ok(changed == 1)
}
