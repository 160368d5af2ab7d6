//! sqlx on SQLite: [`migrate`], [`write()`] in the app's transaction, and
//! [`SqlxSqliteOutbox`] for a mover (feature `sqlx-sqlite`).
//!
//! ```no_run
//! use relay_outbox::{Mover, MoverConfig, OutboxEvent, sqlx_sqlite};
//! use serde_json::json;
//!
//! # async fn run(relay: relay_core::Relay) -> Result<(), Box<dyn std::error::Error>> {
//! let pool = sqlx::SqlitePool::connect("sqlite://app.db?mode=rwc").await?;
//! sqlx_sqlite::migrate(&pool).await?;
//!
//! let mut tx = pool.begin().await?;
//! sqlx::query("UPDATE invoices SET paid = 1 WHERE id = 'inv_42'").execute(&mut *tx).await?;
//! let event = OutboxEvent::new("invoice.paid", json!({"id": "inv_42"}));
//! let event_id = sqlx_sqlite::write(&mut tx, &event).await?;
//! tx.commit().await?;
//!
//! let mover = Mover::new(relay, sqlx_sqlite::SqlxSqliteOutbox::new(pool), MoverConfig::default());
//! let mover = mover.spawn();
//! # let _ = (event_id, mover); Ok(()) }
//! ```

use async_trait::async_trait;
use relay_core::model::ids::EventId;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row as _, Sqlite, Transaction};

use crate::error::OutboxError;
use crate::event::{OutboxEvent, OutboxRow};
use crate::mover::OutboxBackend;
use crate::schema::{SQLITE_CLAIM, SQLITE_DDL, SQLITE_DEAD_LETTER, SQLITE_DELETE, SQLITE_INSERT};

/// Creates the outbox and dead-letter tables if missing.
pub async fn migrate(pool: &SqlitePool) -> Result<(), OutboxError> {
    sqlx::raw_sql(SQLITE_DDL).execute(pool).await?;
    Ok(())
}

/// Writes `event` into the outbox inside the app's transaction `tx`; it is published once
/// `tx` commits, and never if it rolls back. Returns the event's id.
pub async fn write(
    tx: &mut Transaction<'_, Sqlite>,
    event: &OutboxEvent,
) -> Result<EventId, OutboxError> {
    let c = event.columns();
    sqlx::query(SQLITE_INSERT)
        .bind(c.id)
        .bind(c.tenant)
        .bind(c.event_type)
        .bind(c.payload)
        .bind(c.idempotency_key)
        .bind(c.destinations)
        .bind(c.source)
        .execute(&mut **tx)
        .await?;
    Ok(event.event_id())
}

/// A mover's pool for an SQLite outbox. Each delete commits on its own; nothing is held
/// across a round, so the app's writers are never kept waiting by a publish.
#[derive(Debug, Clone)]
pub struct SqlxSqliteOutbox {
    pool: SqlitePool,
}

impl SqlxSqliteOutbox {
    /// A mover on `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

fn row(r: &SqliteRow) -> Result<OutboxRow, sqlx::Error> {
    Ok(OutboxRow {
        id: r.try_get(0)?,
        tenant: r.try_get(1)?,
        event_type: r.try_get(2)?,
        payload: r.try_get(3)?,
        idempotency_key: r.try_get(4)?,
        destinations: r.try_get(5)?,
        source: r.try_get(6)?,
    })
}

#[async_trait]
impl OutboxBackend for SqlxSqliteOutbox {
    async fn claim(&mut self, limit: usize) -> Result<Vec<OutboxRow>, OutboxError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = sqlx::query(SQLITE_CLAIM)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    async fn delete(&mut self, id: &str) -> Result<(), OutboxError> {
        sqlx::query(SQLITE_DELETE)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn dead_letter(&mut self, id: &str, error: &str) -> Result<(), OutboxError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(SQLITE_DEAD_LETTER)
            .bind(id)
            .bind(error)
            .execute(&mut *tx)
            .await?;
        sqlx::query(SQLITE_DELETE)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Ok(tx.commit().await?)
    }

    async fn finish(&mut self, _commit: bool) -> Result<(), OutboxError> {
        // Each delete committed on its own: there is nothing held across the round.
        Ok(())
    }
}
