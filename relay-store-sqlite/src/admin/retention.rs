//! Retention of expired sessions, old audit entries and old metric points. The rows to delete
//! are found on the read pool (a scan there never holds up the writer) and deleted by key on
//! the writer, each delete checking the age again.

use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use rusqlite::{Connection, params};

use crate::writes::Db;

/// Expired sessions (read through the `sessions_expiry` index).
pub(super) const EXPIRED_SESSIONS: &str =
    "SELECT token_hash FROM sessions WHERE expires_at < ?1 LIMIT ?2";
/// Old audit entries (read through the `audit_log_at` index).
pub(super) const OLD_AUDIT: &str = "SELECT id FROM audit_log WHERE at < ?1 LIMIT ?2";
/// Old metric points (read through the `metric_points_minute` index).
pub(super) const OLD_POINTS: &str = "SELECT tenant, minute, scope, name, metric FROM metric_points
     WHERE minute < ?1 LIMIT ?2";

fn limit(batch: usize) -> i64 {
    i64::try_from(batch).unwrap_or(i64::MAX)
}

/// The token digests of at most `batch` sessions that expired before `before`.
pub(super) fn expired_sessions(
    conn: &Connection,
    before: Timestamp,
    batch: usize,
) -> Result<Vec<Vec<u8>>, StoreError> {
    conn.prepare_cached(EXPIRED_SESSIONS)
        .db()?
        .query_map(params![before.as_millis(), limit(batch)], |row| row.get(0))
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()
}

/// Deletes these sessions (those still expired before `before`); returns how many went.
pub(super) fn delete_sessions(
    conn: &Connection,
    hashes: &[Vec<u8>],
    before: Timestamp,
) -> Result<u64, StoreError> {
    let mut delete = conn
        .prepare_cached("DELETE FROM sessions WHERE token_hash = ?1 AND expires_at < ?2")
        .db()?;
    let mut gone = 0;
    for hash in hashes {
        gone += delete.execute(params![hash, before.as_millis()]).db()? as u64;
    }
    Ok(gone)
}

/// The ids of at most `batch` audit entries made before `before`.
pub(super) fn old_audit(
    conn: &Connection,
    before: Timestamp,
    batch: usize,
) -> Result<Vec<Vec<u8>>, StoreError> {
    conn.prepare_cached(OLD_AUDIT)
        .db()?
        .query_map(params![before.as_millis(), limit(batch)], |row| row.get(0))
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()
}

/// Deletes these audit entries (those made before `before`); returns how many went.
pub(super) fn delete_audit(
    conn: &Connection,
    ids: &[Vec<u8>],
    before: Timestamp,
) -> Result<u64, StoreError> {
    let mut delete = conn
        .prepare_cached("DELETE FROM audit_log WHERE id = ?1 AND at < ?2")
        .db()?;
    let mut gone = 0;
    for id in ids {
        gone += delete.execute(params![id, before.as_millis()]).db()? as u64;
    }
    Ok(gone)
}

/// A metric point's key: tenant, minute, scope, name, metric.
pub(super) type PointKey = (String, i64, String, String, String);

/// The keys of at most `batch` metric points of minutes before `before`.
pub(super) fn old_points(
    conn: &Connection,
    before: Timestamp,
    batch: usize,
) -> Result<Vec<PointKey>, StoreError> {
    conn.prepare_cached(OLD_POINTS)
        .db()?
        .query_map(params![before.as_millis(), limit(batch)], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()
}

/// Deletes these metric points; returns how many went.
pub(super) fn delete_points(conn: &Connection, keys: &[PointKey]) -> Result<u64, StoreError> {
    let mut delete = conn
        .prepare_cached(
            "DELETE FROM metric_points
             WHERE tenant = ?1 AND minute = ?2 AND scope = ?3 AND name = ?4 AND metric = ?5",
        )
        .db()?;
    let mut gone = 0;
    for (tenant, minute, scope, name, metric) in keys {
        gone += delete
            .execute(params![tenant, minute, scope, name, metric])
            .db()? as u64;
    }
    Ok(gone)
}
