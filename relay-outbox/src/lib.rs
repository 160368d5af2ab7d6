//! A transactional outbox for [Relay](relay_core): a business change and its webhook commit
//! together or not at all.
//!
//! The app writes the event into a table, `relay_outbox`, inside its own database
//! transaction (PostgreSQL or SQLite; the same database as Relay's store or another). A
//! [`Mover`] then takes the committed rows oldest first, publishes each with
//! [`Publish::event_id`](relay_core::publish::Publish::event_id) set to the row's id, in the
//! row's tenant, and deletes the row only once the publish committed.
//!
//! - **A rolled back transaction publishes nothing**: the row never existed.
//! - **A committed row is published once**, also if the process dies between the commit and
//!   the move, or between the publish and the delete: the row stays, is published again with
//!   the same id, and the relay answers `Duplicate` (nothing is sent twice) as long as the
//!   second move comes within the source's dedup window (24 hours by default).
//! - **A row the relay refuses for good** (an unknown destination or source, an invalid event
//!   type, a payload that breaks its event type's schema, a malformed id, payload or
//!   destination list) is moved to
//!   `relay_outbox_dead_letters` with the error, and logged; it does not block the rows
//!   behind it. Fix it and insert it back into `relay_outbox` to move it again.
//! - **The relay's store cannot commit** (`PublishError::Unavailable`): the row stays, and the
//!   mover backs off and tries again.
//!
//! Nothing but the table ties the app to this crate: [`schema`] has the DDL
//! ([`POSTGRES_DDL`], [`SQLITE_DDL`]) and the plain `INSERT` ([`POSTGRES_INSERT`],
//! [`SQLITE_INSERT`]) any driver can run. The helpers write the same row with the drivers
//! Rust apps use, each behind a feature (none is on by default):
//!
//! | feature | module | write in a transaction | mover backend |
//! |---|---|---|---|
//! | `tokio-postgres` | `postgres` | `postgres::write(&tokio_postgres::Transaction, ..)` | `PostgresOutbox` |
//! | `sqlx-postgres` | `sqlx_postgres` | `sqlx_postgres::write(&mut sqlx::Transaction<Postgres>, ..)` | `SqlxPostgresOutbox` |
//! | `sqlx-sqlite` | `sqlx_sqlite` | `sqlx_sqlite::write(&mut sqlx::Transaction<Sqlite>, ..)` | `SqlxSqliteOutbox` |
//! | `rusqlite` | `sqlite` | `sqlite::write(&rusqlite::Transaction, ..)` | `SqliteOutbox` |
//!
//! On PostgreSQL each round claims its rows with `FOR UPDATE SKIP LOCKED`, so every node may
//! run a mover on the same table. On SQLite run one mover per database file (a second one
//! is safe, since a repeated publish is a duplicate, but only wastes work).
//!
//! The example in `sqlite` runs the whole flow; `docs/src/outbox.md` describes the table,
//! the `INSERT` and the guarantee at length.

pub mod error;
pub mod event;
pub mod mover;
pub mod schema;

#[cfg(feature = "tokio-postgres")]
pub mod postgres;
#[cfg(feature = "rusqlite")]
pub mod sqlite;
#[cfg(feature = "sqlx-postgres")]
pub mod sqlx_postgres;
#[cfg(feature = "sqlx-sqlite")]
pub mod sqlx_sqlite;

pub use error::OutboxError;
pub use event::{OutboxEvent, OutboxRow};
pub use mover::{MovedHook, Mover, MoverConfig, MoverHandle, OutboxBackend, Round};
pub use schema::{POSTGRES_DDL, POSTGRES_INSERT, SQLITE_DDL, SQLITE_INSERT};
