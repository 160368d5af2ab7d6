//! The transactional outbox's test support: an app database per driver (a fresh PostgreSQL
//! database or an SQLite file) with a business table, writes in the app's transaction, and
//! a mover on it. Used by `tests/outbox.rs` and its crash child, `src/bin/outbox_crash.rs`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use relay_core::Relay;
use relay_core::deliver::destination::Destination;
use relay_core::model::ids::EventId;
use relay_core::route::EventRoute;
use relay_core::store::Store;
use relay_outbox::{Mover, MoverConfig, MoverHandle, OutboxEvent};
use tokio_postgres::NoTls;

use crate::loopback;

/// The destination every outbox relay has (an HTTP receiver), and the route to it.
pub const DESTINATION: &str = "hooks";

/// The drivers the outbox has helpers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// `tokio-postgres`.
    TokioPostgres,
    /// sqlx on PostgreSQL.
    SqlxPostgres,
    /// sqlx on SQLite.
    SqlxSqlite,
    /// `rusqlite`.
    Rusqlite,
}

impl Driver {
    /// Whether the app database is PostgreSQL.
    pub fn is_postgres(self) -> bool {
        matches!(self, Self::TokioPostgres | Self::SqlxPostgres)
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TokioPostgres => "tokio-postgres",
            Self::SqlxPostgres => "sqlx-postgres",
            Self::SqlxSqlite => "sqlx-sqlite",
            Self::Rusqlite => "rusqlite",
        })
    }
}

impl FromStr for Driver {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [
            Self::TokioPostgres,
            Self::SqlxPostgres,
            Self::SqlxSqlite,
            Self::Rusqlite,
        ]
        .into_iter()
        .find(|d| d.to_string() == s)
        .ok_or_else(|| format!("unknown driver {s:?}"))
    }
}

/// A relay on `store` with an HTTP destination [`DESTINATION`] at `url` (loopback allowed)
/// and a route from the `app` source for every event type to it.
pub fn relay(store: Arc<dyn Store>, url: &str) -> Relay {
    Relay::builder()
        .store(store)
        .allow_cidrs(loopback())
        .destination(Destination::http(DESTINATION, url).expect("receiver URL"))
        .route(
            EventRoute::new("everything")
                .source("app")
                .event_types(["*"])
                .to([DESTINATION]),
        )
        .build()
        .expect("valid relay")
}

/// The app's database: `url` is a PostgreSQL URL or an SQLite file's path.
#[derive(Debug, Clone)]
pub struct AppDb {
    /// The driver the app uses.
    pub driver: Driver,
    /// Where the database is.
    pub url: String,
}

/// The business table written beside each outbox row.
const BUSINESS_DDL: &str = "CREATE TABLE IF NOT EXISTS invoices (id TEXT PRIMARY KEY)";

impl AppDb {
    /// Creates the business table and the outbox's (with the driver's `migrate`).
    pub async fn migrate(&self) {
        match self.driver {
            Driver::TokioPostgres => {
                let client = pg_client(&self.url).await;
                client.batch_execute(BUSINESS_DDL).await.expect("DDL");
                relay_outbox::postgres::migrate(&client)
                    .await
                    .expect("migrate");
            }
            Driver::SqlxPostgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("pool");
                sqlx::raw_sql(BUSINESS_DDL)
                    .execute(&pool)
                    .await
                    .expect("DDL");
                relay_outbox::sqlx_postgres::migrate(&pool)
                    .await
                    .expect("migrate");
            }
            Driver::SqlxSqlite => {
                let pool = self.sqlx_sqlite().await;
                sqlx::raw_sql(BUSINESS_DDL)
                    .execute(&pool)
                    .await
                    .expect("DDL");
                relay_outbox::sqlx_sqlite::migrate(&pool)
                    .await
                    .expect("migrate");
            }
            Driver::Rusqlite => {
                let conn = rusqlite::Connection::open(&self.url).expect("open");
                conn.execute_batch(BUSINESS_DDL).expect("DDL");
                relay_outbox::sqlite::migrate(&conn).expect("migrate");
            }
        }
    }

    /// In one app transaction: an invoice row per event (its id the event's) and the event
    /// into the outbox; then commits or rolls back. Returns the events' ids.
    pub async fn write(&self, events: &[OutboxEvent], commit: bool) -> Vec<EventId> {
        let mut ids = Vec::new();
        match self.driver {
            Driver::TokioPostgres => {
                let mut client = pg_client(&self.url).await;
                let tx = client.transaction().await.expect("begin");
                for event in events {
                    let id = event.event_id().to_string();
                    let invoice = "INSERT INTO invoices (id) VALUES ($1)";
                    tx.execute(invoice, &[&id]).await.expect("invoice");
                    ids.push(
                        relay_outbox::postgres::write(&tx, event)
                            .await
                            .expect("write"),
                    );
                }
                if commit {
                    tx.commit().await
                } else {
                    tx.rollback().await
                }
                .expect("end");
            }
            Driver::SqlxPostgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("pool");
                let mut tx = pool.begin().await.expect("begin");
                for event in events {
                    sqlx::query("INSERT INTO invoices (id) VALUES ($1)")
                        .bind(event.event_id().to_string())
                        .execute(&mut *tx)
                        .await
                        .expect("invoice");
                    let id = relay_outbox::sqlx_postgres::write(&mut tx, event).await;
                    ids.push(id.expect("write"));
                }
                if commit {
                    tx.commit().await
                } else {
                    tx.rollback().await
                }
                .expect("end");
            }
            Driver::SqlxSqlite => {
                let pool = self.sqlx_sqlite().await;
                let mut tx = pool.begin().await.expect("begin");
                for event in events {
                    sqlx::query("INSERT INTO invoices (id) VALUES (?1)")
                        .bind(event.event_id().to_string())
                        .execute(&mut *tx)
                        .await
                        .expect("invoice");
                    let id = relay_outbox::sqlx_sqlite::write(&mut tx, event).await;
                    ids.push(id.expect("write"));
                }
                if commit {
                    tx.commit().await
                } else {
                    tx.rollback().await
                }
                .expect("end");
            }
            Driver::Rusqlite => {
                let mut conn = rusqlite::Connection::open(&self.url).expect("open");
                conn.busy_timeout(Duration::from_secs(5)).expect("busy");
                let tx = conn.transaction().expect("begin");
                for event in events {
                    let invoice = "INSERT INTO invoices (id) VALUES (?1)";
                    tx.execute(invoice, [event.event_id().to_string()])
                        .expect("invoice");
                    ids.push(relay_outbox::sqlite::write(&tx, event).expect("write"));
                }
                if commit { tx.commit() } else { tx.rollback() }.expect("end");
            }
        }
        ids
    }

    /// The number of rows in `table` (read with a plain driver of the database's kind).
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        if self.driver.is_postgres() {
            let client = pg_client(&self.url).await;
            client.query_one(&sql, &[]).await.expect("count").get(0)
        } else {
            let conn = rusqlite::Connection::open(&self.url).expect("open");
            conn.query_row(&sql, [], |r| r.get(0)).expect("count")
        }
    }

    /// The dead letters' errors.
    pub async fn dead_letter_errors(&self) -> Vec<String> {
        let sql = "SELECT error FROM relay_outbox_dead_letters ORDER BY failed_at";
        if self.driver.is_postgres() {
            let client = pg_client(&self.url).await;
            let rows = client.query(sql, &[]).await.expect("dead letters");
            rows.iter().map(|r| r.get(0)).collect()
        } else {
            let conn = rusqlite::Connection::open(&self.url).expect("open");
            let mut statement = conn.prepare(sql).expect("prepare");
            let rows = statement.query_map([], |r| r.get(0)).expect("query");
            rows.collect::<Result<_, _>>().expect("rows")
        }
    }

    /// A mover on this database into `relay`.
    pub async fn mover(&self, relay: Relay, config: MoverConfig) -> MoverHandle {
        match self.driver {
            Driver::TokioPostgres => {
                let config_pg = self.url.parse().expect("PostgreSQL URL");
                let outbox = relay_outbox::postgres::PostgresOutbox::new(config_pg, NoTls);
                Mover::new(relay, outbox, config).spawn()
            }
            Driver::SqlxPostgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("pool");
                let outbox = relay_outbox::sqlx_postgres::SqlxPostgresOutbox::new(pool);
                Mover::new(relay, outbox, config).spawn()
            }
            Driver::SqlxSqlite => {
                let outbox =
                    relay_outbox::sqlx_sqlite::SqlxSqliteOutbox::new(self.sqlx_sqlite().await);
                Mover::new(relay, outbox, config).spawn()
            }
            Driver::Rusqlite => {
                let outbox = relay_outbox::sqlite::SqliteOutbox::open(&self.url).expect("open");
                Mover::new(relay, outbox, config).spawn()
            }
        }
    }

    async fn sqlx_sqlite(&self) -> sqlx::SqlitePool {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&self.url)
            .create_if_missing(true)
            .busy_timeout(Duration::from_secs(5));
        sqlx::SqlitePool::connect_with(options).await.expect("pool")
    }
}

/// A connected `tokio-postgres` client (its connection on a task).
pub async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("PostgreSQL");
    tokio::spawn(connection);
    client
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.rsplit_once('/').map_or(base, |(a, _)| a);
    match query {
        Some(query) => format!("{authority}/{database}?{query}"),
        None => format!("{authority}/{database}"),
    }
}

/// A fresh PostgreSQL database on the server at `server_url`; drop it with
/// [`drop_database`].
pub async fn create_database(server_url: &str, prefix: &str) -> (String, String) {
    let name = format!("{prefix}_{:016x}", rand_suffix());
    let client = pg_client(server_url).await;
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    (with_database(server_url, &name), name)
}

/// Drops the database `name` (closing its connections).
pub async fn drop_database(server_url: &str, name: &str) {
    let client = pg_client(server_url).await;
    client
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("drop database");
}

fn rand_suffix() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ (u64::from(std::process::id()) << 32)
}
