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

    /// Runs `read` on an idle connection on the blocking pool. The connection goes back to
    /// the pool whatever happens, a panicking `read` included (it answers
    /// [`SqliteStoreError::ReadPanicked`]; a transaction it left open is rolled back first).
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
            let Some(checkout) = Checkout::take(idle) else {
                return Err(SqliteStoreError::ReadTask("no idle connection".into()).into());
            };
            let result = relay_core::unwind::catch(|| read(checkout.conn()));
            drop(checkout);
            drop(permit);
            result.map_err(|panic| StoreError::from(SqliteStoreError::ReadPanicked(panic)))?
        });
        task.await
            .map_err(|e| SqliteStoreError::ReadTask(e.to_string()))?
    }

    /// How many connections are idle (all of them when no read runs).
    #[cfg(test)]
    pub(crate) fn idle(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .len()
    }
}

/// A connection taken from the pool, put back when dropped.
struct Checkout {
    conn: Option<Connection>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Checkout {
    fn take(idle: Arc<Mutex<Vec<Connection>>>) -> Option<Self> {
        let conn = idle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .pop()?;
        Some(Self {
            conn: Some(conn),
            idle,
        })
    }

    fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("a checkout holds its connection until dropped"))
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // A read that panicked inside a transaction would otherwise keep its snapshot (and
        // hold back WAL checkpoints) for as long as the connection lives.
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        self.idle
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(conn);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use relay_core::store::StoreError;

    use crate::{SqliteOptions, SqliteStore};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_read_gives_its_connection_back() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteOptions::default().readers(2);
        let store = SqliteStore::open(dir.path().join("relay.db"), options).unwrap();
        for round in 0..5 {
            let failed = store
                .read(move |conn| -> Result<(), StoreError> {
                    if round % 2 == 0 {
                        // Panic with a read transaction open: it is rolled back.
                        conn.execute_batch("BEGIN; SELECT 1;").unwrap();
                    }
                    panic!("a bug in read {round}")
                })
                .await
                .unwrap_err();
            assert!(failed.to_string().contains("unavailable"), "{failed}");
            let source = std::error::Error::source(&failed).map(ToString::to_string);
            assert_eq!(
                source.as_deref(),
                Some(format!("a read panicked: a bug in read {round}").as_str())
            );
            assert_eq!(store.inner.readers.idle(), 2, "round {round}");
        }
        // Every connection still reads, outside any leftover transaction.
        for _ in 0..4 {
            let autocommit = store.read(|conn| Ok(conn.is_autocommit())).await.unwrap();
            assert!(autocommit);
        }
    }
}
