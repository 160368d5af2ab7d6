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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use relay_core::deliver::circuit::{CircuitBreaker, Signal};

    use super::*;
    use crate::schema;

    #[test]
    fn a_row_from_before_the_detail_reads_and_a_new_one_keeps_its_window() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tenant = TenantId::default_tenant();
        {
            let tx = conn.transaction().unwrap();
            // Schema 12: before migration 13 gave circuits their detail.
            schema::apply_between(&tx, 0, 12).unwrap();
            tx.execute(
                "INSERT INTO circuits
                     (tenant, destination, phase, failures, window_started, until, version)
                 VALUES (?1, 'old', 'open', 5, 1000, 31000, 4)",
                params![tenant.as_str()],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        schema::migrate(&mut conn).unwrap();
        let old = circuit(&conn, &tenant, "old").unwrap().unwrap();
        assert_eq!(old.version, 4);
        assert_eq!(
            (old.state.phase, old.state.failures, old.state.until),
            (CircuitPhase::Open, 5, Timestamp::from_millis(31_000))
        );
        assert_eq!(old.state.why().as_deref(), Some("5 consecutive failures"));
        assert!(old.state.detail.window.is_empty());

        let breaker = CircuitBreaker::default();
        let at = Timestamp::from_millis(5_000);
        let closed = breaker.record(None, Signal::Failure, false, at).unwrap();
        assert!(swap_circuit(&conn, &tenant, "new", None, &closed).unwrap());
        let read = circuit(&conn, &tenant, "new").unwrap().unwrap();
        assert_eq!(read.state, closed);
        assert_eq!(read.state.detail.window.tally(at).failures, 1);

        conn.execute("UPDATE circuits SET detail = 'junk'", [])
            .unwrap();
        assert!(matches!(
            circuit(&conn, &tenant, "new"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
