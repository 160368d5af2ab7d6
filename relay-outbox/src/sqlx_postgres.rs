//! sqlx on PostgreSQL: [`migrate`], [`write()`] in the app's transaction, and
//! [`SqlxPostgresOutbox`] for a mover (feature `sqlx-postgres`).
//!
//! ```no_run
//! use relay_outbox::{Mover, MoverConfig, OutboxEvent, sqlx_postgres};
//! use serde_json::json;
//!
//! # async fn run(relay: relay_core::Relay) -> Result<(), Box<dyn std::error::Error>> {
//! let pool = sqlx::PgPool::connect("postgres://app@localhost/app").await?;
//! sqlx_postgres::migrate(&pool).await?;
//!
//! let mut tx = pool.begin().await?;
//! sqlx::query("UPDATE invoices SET paid = true WHERE id = 'inv_42'").execute(&mut *tx).await?;
//! let event = OutboxEvent::new("invoice.paid", json!({"id": "inv_42"}));
//! let event_id = sqlx_postgres::write(&mut tx, &event).await?;
//! tx.commit().await?;
//!
//! let outbox = sqlx_postgres::SqlxPostgresOutbox::new(pool.clone());
//! let mover = Mover::new(relay, outbox, MoverConfig::default()).spawn();
//! # let _ = (event_id, mover); Ok(()) }
//! ```

use async_trait::async_trait;
use relay_core::model::ids::EventId;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Postgres, Row as _, Transaction};

use crate::error::OutboxError;
use crate::event::{OutboxEvent, OutboxRow};
use crate::mover::OutboxBackend;
use crate::schema::{
    POSTGRES_CLAIM, POSTGRES_DEAD_LETTER, POSTGRES_DELETE, POSTGRES_INSERT, POSTGRES_MIGRATION,
};

/// Creates the outbox and dead-letter tables if missing (safe from several nodes at once).
pub async fn migrate(pool: &PgPool) -> Result<(), OutboxError> {
    sqlx::raw_sql(POSTGRES_MIGRATION).execute(pool).await?;
    Ok(())
}

/// Writes `event` into the outbox inside the app's transaction `tx`; it is published once
/// `tx` commits, and never if it rolls back. Returns the event's id.
pub async fn write(
    tx: &mut Transaction<'_, Postgres>,
    event: &OutboxEvent,
) -> Result<EventId, OutboxError> {
    let c = event.columns();
    sqlx::query(POSTGRES_INSERT)
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

/// A mover's pool for a PostgreSQL outbox: each round holds its rows locked in a
/// transaction (`FOR UPDATE SKIP LOCKED`), so movers on several nodes share one table.
#[derive(Debug)]
pub struct SqlxPostgresOutbox {
    pool: PgPool,
    round: Option<Transaction<'static, Postgres>>,
}

impl SqlxPostgresOutbox {
    /// A mover on `pool` (one connection is busy for the length of each round).
    pub fn new(pool: PgPool) -> Self {
        Self { pool, round: None }
    }

    /// The round's transaction, begun by [`OutboxBackend::claim`] (or here, if there is none).
    async fn round(&mut self) -> Result<&mut Transaction<'static, Postgres>, OutboxError> {
        if let Some(tx) = self.round.take() {
            return Ok(self.round.insert(tx));
        }
        let tx = self.pool.begin().await?;
        Ok(self.round.insert(tx))
    }
}

fn row(r: &PgRow) -> Result<OutboxRow, sqlx::Error> {
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
impl OutboxBackend for SqlxPostgresOutbox {
    async fn claim(&mut self, limit: usize) -> Result<Vec<OutboxRow>, OutboxError> {
        if let Some(stale) = self.round.take() {
            stale.rollback().await?;
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(POSTGRES_CLAIM)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?; // a dropped transaction rolls back
        self.round = Some(tx);
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    async fn delete(&mut self, id: &str) -> Result<(), OutboxError> {
        let tx = self.round().await?;
        sqlx::query(POSTGRES_DELETE)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn dead_letter(&mut self, id: &str, error: &str) -> Result<(), OutboxError> {
        let tx = self.round().await?;
        sqlx::query(POSTGRES_DEAD_LETTER)
            .bind(id)
            .bind(error)
            .execute(&mut **tx)
            .await?;
        sqlx::query(POSTGRES_DELETE)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn finish(&mut self, commit: bool) -> Result<(), OutboxError> {
        match self.round.take() {
            Some(tx) if commit => Ok(tx.commit().await?),
            Some(tx) => Ok(tx.rollback().await?),
            None => Ok(()),
        }
    }
}
