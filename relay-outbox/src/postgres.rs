//! `tokio-postgres`: [`migrate`], [`write()`] in the app's transaction, and
//! [`PostgresOutbox`] for a mover (feature `tokio-postgres`).
//!
//! ```no_run
//! use relay_outbox::{Mover, MoverConfig, OutboxEvent, postgres};
//! use serde_json::json;
//!
//! # async fn run(relay: relay_core::Relay) -> Result<(), Box<dyn std::error::Error>> {
//! let url = "postgres://app@localhost/app";
//! let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
//! tokio::spawn(connection);
//! postgres::migrate(&client).await?;
//!
//! let tx = client.transaction().await?;
//! tx.execute("UPDATE invoices SET paid = true WHERE id = 'inv_42'", &[]).await?;
//! let event = OutboxEvent::new("invoice.paid", json!({"id": "inv_42"}));
//! let event_id = postgres::write(&tx, &event).await?;
//! tx.commit().await?;
//!
//! // On every node: movers share the table through FOR UPDATE SKIP LOCKED.
//! let outbox = postgres::PostgresOutbox::new(url.parse()?, tokio_postgres::NoTls);
//! let mover = Mover::new(relay, outbox, MoverConfig::default()).spawn();
//! # let _ = (event_id, mover); Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use relay_core::model::ids::EventId;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, Config, Socket, Transaction};

use crate::error::OutboxError;
use crate::event::{OutboxEvent, OutboxRow};
use crate::mover::OutboxBackend;
use crate::schema::{
    POSTGRES_CLAIM, POSTGRES_DEAD_LETTER, POSTGRES_DELETE, POSTGRES_INSERT, POSTGRES_MIGRATION,
};

/// Creates the outbox and dead-letter tables if missing (safe from several nodes at once).
/// Run it on a client outside any transaction.
pub async fn migrate(client: &Client) -> Result<(), OutboxError> {
    Ok(client.batch_execute(POSTGRES_MIGRATION).await?)
}

/// Writes `event` into the outbox inside the app's transaction `tx`; it is published once
/// `tx` commits, and never if it rolls back. Returns the event's id.
pub async fn write(tx: &Transaction<'_>, event: &OutboxEvent) -> Result<EventId, OutboxError> {
    let c = event.columns();
    tx.execute(
        POSTGRES_INSERT,
        &[
            &c.id,
            &c.tenant,
            &c.event_type,
            &c.payload,
            &c.idempotency_key,
            &c.destinations,
            &c.source,
        ],
    )
    .await?;
    Ok(event.event_id())
}

type Connect = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Client, OutboxError>> + Send>> + Send + Sync,
>;

/// A mover's connection to a PostgreSQL outbox: it connects (and reconnects after an error)
/// itself, and holds each round's rows locked in a transaction (`FOR UPDATE SKIP LOCKED`),
/// so movers on several nodes share one table.
pub struct PostgresOutbox {
    connect: Connect,
    client: Option<Client>,
}

impl PostgresOutbox {
    /// A mover's connection made from `config` with `tls` (e.g. `tokio_postgres::NoTls`).
    pub fn new<T>(config: Config, tls: T) -> Self
    where
        T: MakeTlsConnect<Socket> + Clone + Send + Sync + 'static,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let connect: Connect = Arc::new(move || {
            let (config, tls) = (config.clone(), tls.clone());
            Box::pin(async move {
                let (client, connection) = config.connect(tls).await?;
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::warn!(%error, "outbox mover's PostgreSQL connection ended");
                    }
                });
                Ok(client)
            })
        });
        Self {
            connect,
            client: None,
        }
    }

    /// The open client, connecting first if there is none.
    async fn client(&mut self) -> Result<&Client, OutboxError> {
        if let Some(client) = self.client.take().filter(|c| !c.is_closed()) {
            return Ok(self.client.insert(client));
        }
        let client = (self.connect)().await?;
        Ok(self.client.insert(client))
    }

    /// `result`, dropping the client (and so its connection and open transaction) on error.
    fn keep<T>(&mut self, result: Result<T, tokio_postgres::Error>) -> Result<T, OutboxError> {
        if result.is_err() {
            self.client = None;
        }
        Ok(result?)
    }
}

impl std::fmt::Debug for PostgresOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOutbox")
            .field("connected", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl OutboxBackend for PostgresOutbox {
    async fn claim(&mut self, limit: usize) -> Result<Vec<OutboxRow>, OutboxError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let claimed = match client.batch_execute("BEGIN").await {
            Ok(()) => client.query(POSTGRES_CLAIM, &[&limit]).await,
            Err(error) => Err(error),
        };
        let rows = self.keep(claimed)?;
        Ok(rows
            .iter()
            .map(|r| OutboxRow {
                id: r.get(0),
                tenant: r.get(1),
                event_type: r.get(2),
                payload: r.get(3),
                idempotency_key: r.get(4),
                destinations: r.get(5),
                source: r.get(6),
            })
            .collect())
    }

    async fn delete(&mut self, id: &str) -> Result<(), OutboxError> {
        let client = self.client().await?;
        let deleted = client.execute(POSTGRES_DELETE, &[&id]).await;
        self.keep(deleted).map(drop)
    }

    async fn dead_letter(&mut self, id: &str, error: &str) -> Result<(), OutboxError> {
        let client = self.client().await?;
        let moved = match client.execute(POSTGRES_DEAD_LETTER, &[&id, &error]).await {
            Ok(_) => client.execute(POSTGRES_DELETE, &[&id]).await,
            Err(error) => Err(error),
        };
        self.keep(moved).map(drop)
    }

    async fn finish(&mut self, commit: bool) -> Result<(), OutboxError> {
        let Some(client) = &self.client else {
            return Ok(()); // the connection, and its transaction, are gone already
        };
        let ended = (client.batch_execute(if commit { "COMMIT" } else { "ROLLBACK" })).await;
        self.keep(ended)
    }
}
