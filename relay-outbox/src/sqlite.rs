//! `rusqlite`: [`migrate`], [`write()`] in the app's transaction, and [`SqliteOutbox`] for a
//! mover (feature `rusqlite`).
//!
//! ```
//! use std::time::Duration;
//! use relay_core::{Destination, EventRoute, HandlerError, Message, Relay};
//! use relay_outbox::{Mover, MoverConfig, OutboxEvent, sqlite};
//! use serde_json::json;
//! use tokio::sync::mpsc;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (sent, mut received) = mpsc::unbounded_channel();
//! let relay = Relay::builder()
//!     .destination(Destination::handler("billing", move |m: Message| {
//!         let sent = sent.clone();
//!         async move { sent.send((m.event_id, m.event_type)).ok(); Ok::<(), HandlerError>(()) }
//!     }))
//!     .route(EventRoute::new("invoices").source("app").event_types(["invoice.*"]).to(["billing"]))
//!     .build()?;
//! let worker = relay.spawn_worker(Default::default());
//!
//! let dir = tempfile::tempdir()?;
//! let mut app_db = rusqlite::Connection::open(dir.path().join("app.db"))?;
//! app_db.execute_batch("CREATE TABLE invoices (id TEXT PRIMARY KEY, paid INTEGER)")?;
//! sqlite::migrate(&app_db)?;
//!
//! // The business change and its webhook commit together.
//! let tx = app_db.transaction()?;
//! tx.execute("INSERT INTO invoices VALUES ('inv_42', 1)", [])?;
//! let event_id = sqlite::write(&tx, &OutboxEvent::new("invoice.paid", json!({"id": "inv_42"})))?;
//! tx.commit()?;
//!
//! // Rolled back: nothing is ever sent.
//! let tx = app_db.transaction()?;
//! sqlite::write(&tx, &OutboxEvent::new("invoice.paid", json!({"id": "inv_43"})))?;
//! tx.rollback()?;
//!
//! let outbox = sqlite::SqliteOutbox::open(dir.path().join("app.db"))?;
//! let mover = Mover::new(relay.clone(), outbox, MoverConfig::default()).spawn();
//! assert_eq!(received.recv().await, Some((event_id, "invoice.paid".to_owned())));
//! tokio::time::sleep(Duration::from_millis(300)).await;
//! assert!(received.try_recv().is_err(), "the rolled back event is never sent");
//! mover.shutdown().await;
//! worker.shutdown().await;
//! # Ok(()) }
//! ```

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use relay_core::model::ids::EventId;
use rusqlite::{Connection, OptionalExtension as _, Transaction, params};

use crate::error::OutboxError;
use crate::event::{OutboxEvent, OutboxRow};
use crate::mover::OutboxBackend;
use crate::schema::{SQLITE_CLAIM, SQLITE_DDL, SQLITE_DEAD_LETTER, SQLITE_DELETE, SQLITE_INSERT};

/// Creates the outbox and dead-letter tables if missing.
pub fn migrate(conn: &Connection) -> Result<(), OutboxError> {
    Ok(conn.execute_batch(SQLITE_DDL)?)
}

/// Writes `event` into the outbox inside the app's transaction `tx`; it is published once
/// `tx` commits, and never if it rolls back. Returns the event's id.
pub fn write(tx: &Transaction<'_>, event: &OutboxEvent) -> Result<EventId, OutboxError> {
    let c = event.columns();
    tx.execute(
        SQLITE_INSERT,
        params![
            c.id,
            c.tenant,
            c.event_type,
            c.payload,
            c.idempotency_key,
            c.destinations,
            c.source
        ],
    )?;
    Ok(event.event_id())
}

/// A mover's connection to an SQLite outbox (its own connection; the app's may be busy).
#[derive(Debug, Clone)]
pub struct SqliteOutbox {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteOutbox {
    /// Opens the database at `path` for a mover, waiting up to 5 s on the app's write locks.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OutboxError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self::new(conn))
    }

    /// A mover on `conn` (set a busy timeout on it if others write to the database).
    pub fn new(conn: Connection) -> Self {
        Self {
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    /// Runs `f` on the connection on a blocking thread.
    async fn with<T, F>(&self, f: F) -> Result<T, OutboxError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let run = move || {
            let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut conn)
        };
        match tokio::task::spawn_blocking(run).await {
            Ok(result) => Ok(result?),
            Err(error) => Err(OutboxError::Blocking(error.to_string())),
        }
    }
}

#[async_trait]
impl OutboxBackend for SqliteOutbox {
    async fn claim(&mut self, limit: usize) -> Result<Vec<OutboxRow>, OutboxError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(move |conn| {
            let mut statement = conn.prepare_cached(SQLITE_CLAIM)?;
            let rows = statement.query_map([limit], |r| {
                Ok(OutboxRow {
                    id: r.get(0)?,
                    tenant: r.get(1)?,
                    event_type: r.get(2)?,
                    payload: r.get(3)?,
                    idempotency_key: r.get(4)?,
                    destinations: r.get(5)?,
                    source: r.get(6)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn delete(&mut self, id: &str) -> Result<(), OutboxError> {
        let id = id.to_owned();
        self.with(move |conn| conn.execute(SQLITE_DELETE, [id]).map(drop))
            .await
    }

    async fn dead_letter(&mut self, id: &str, error: &str) -> Result<(), OutboxError> {
        let (id, error) = (id.to_owned(), error.to_owned());
        self.with(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(SQLITE_DEAD_LETTER, params![id, error])?;
            tx.execute(SQLITE_DELETE, [&id])?;
            tx.commit()
        })
        .await
    }

    async fn finish(&mut self, _commit: bool) -> Result<(), OutboxError> {
        // Each delete committed on its own: there is nothing held across the round.
        Ok(())
    }
}

/// The number of rows waiting in the outbox of `conn` (for monitoring and tests).
pub fn pending(conn: &Connection) -> Result<u64, OutboxError> {
    let n: Option<i64> = conn
        .query_row("SELECT count(*) FROM relay_outbox", [], |r| r.get(0))
        .optional()?;
    Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}
