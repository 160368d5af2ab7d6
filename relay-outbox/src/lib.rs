#![doc = include_str!("../README.md")]

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
