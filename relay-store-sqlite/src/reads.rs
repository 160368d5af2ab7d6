//! Reads: a small pool of read-only connections used on tokio's blocking threads.

use std::sync::{Arc, Mutex};

use relay_core::model::event::{Attempt, Delivery, Event};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::store::{DeadLetterFilter, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::Semaphore;

use crate::error::SqliteStoreError;
use crate::rows::{self, ATTEMPT_COLUMNS, DELIVERY_COLUMNS, EVENT_COLUMNS};
use crate::writes::{DEAD_LETTER_WHERE, Db, dead_letter_params};

/// Read-only connections, handed out one per read.
#[derive(Debug)]
pub(crate) struct ReadPool {
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl ReadPool {
    pub(crate) fn new(connections: Vec<Connection>) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(connections.len())),
            idle: Arc::new(Mutex::new(connections)),
        }
    }

    /// Runs `read` on an idle connection on the blocking pool.
    pub(crate) async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| SqliteStoreError::ReadTask(e.to_string()))?;
        let idle = Arc::clone(&self.idle);
        let task = tokio::task::spawn_blocking(move || {
            let conn = idle
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .pop();
            let Some(conn) = conn else {
                return Err(SqliteStoreError::ReadTask("no idle connection".into()).into());
            };
            let result = read(&conn);
            idle.lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .push(conn);
            drop(permit);
            result
        });
        task.await
            .map_err(|e| SqliteStoreError::ReadTask(e.to_string()))?
    }
}

pub(crate) fn event(
    conn: &Connection,
    tenant: &TenantId,
    id: EventId,
) -> Result<Option<Event>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1 AND tenant = ?2"
    ))
    .db()?
    .query_row(params![id.as_bytes(), tenant.as_str()], |row| {
        rows::event(row, 0)
    })
    .optional()
    .db()
}

pub(crate) fn deliveries(
    conn: &Connection,
    tenant: &TenantId,
    event: EventId,
) -> Result<Vec<Delivery>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE event_id = ?1 AND tenant = ?2
         ORDER BY seq"
    ))
    .db()?
    .query_map(params![event.as_bytes(), tenant.as_str()], |row| {
        rows::delivery(row, 0)
    })
    .db()?
    .collect::<rusqlite::Result<_>>()
    .db()
}

pub(crate) fn delivery(
    conn: &Connection,
    tenant: &TenantId,
    id: DeliveryId,
) -> Result<Option<Delivery>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?1 AND tenant = ?2"
    ))
    .db()?
    .query_row(params![id.as_bytes(), tenant.as_str()], |row| {
        rows::delivery(row, 0)
    })
    .optional()
    .db()
}

pub(crate) fn attempts(
    conn: &Connection,
    tenant: &TenantId,
    delivery: DeliveryId,
) -> Result<Vec<Attempt>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE delivery_id = ?1 AND tenant = ?2
         ORDER BY seq"
    ))
    .db()?
    .query_map(params![delivery.as_bytes(), tenant.as_str()], rows::attempt)
    .db()?
    .collect::<rusqlite::Result<_>>()
    .db()
}

pub(crate) fn dead_letters(
    conn: &Connection,
    tenant: &TenantId,
    filter: &DeadLetterFilter,
    limit: usize,
) -> Result<Vec<Delivery>, StoreError> {
    let (t, dest, event, source, since) = dead_letter_params(tenant, filter);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let columns = DELIVERY_COLUMNS
        .split(", ")
        .map(|c| format!("d.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    conn.prepare_cached(&format!(
        "SELECT {columns} FROM deliveries d WHERE {DEAD_LETTER_WHERE}
         ORDER BY d.updated_at, d.id LIMIT ?6"
    ))
    .db()?
    .query_map(params![t, dest, event, source, since, limit], |row| {
        rows::delivery(row, 0)
    })
    .db()?
    .collect::<rusqlite::Result<_>>()
    .db()
}

pub(crate) fn ping(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached("SELECT 1")
        .db()?
        .query_row([], |_| Ok(()))
        .db()
}

/// Pending and in-flight deliveries of every tenant (counted on the `deliveries_due` index).
pub(crate) fn queue_depth(conn: &Connection) -> Result<u64, StoreError> {
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'in_flight')")
        .db()?
        .query_row([], |row| row.get(0))
        .db()?;
    Ok(u64::try_from(count).unwrap_or(0))
}
