//! The gateway's store for one measurement: a fresh SQLite file in a temporary directory, or a
//! fresh PostgreSQL database (created at the server `RELAY_TEST_POSTGRES_URL` names, dropped
//! afterwards).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use relay_core::store::Store;
use relay_store_postgres::{PgOptions, PgStore};
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use tempfile::TempDir;

use crate::cli::StoreChoice;
use crate::error::BenchError;
use crate::proc;

/// Where the PostgreSQL server is (`scripts/services.sh` prints it).
pub const POSTGRES_URL_VAR: &str = "RELAY_TEST_POSTGRES_URL";

/// An open store and what to clean up after it.
#[derive(Debug)]
pub enum BenchStore {
    /// SQLite in a temporary directory.
    Sqlite {
        /// The store.
        store: SqliteStore,
        /// Its directory (removed on drop).
        dir: TempDir,
    },
    /// A PostgreSQL database of its own.
    Postgres {
        /// The store.
        store: PgStore,
        /// The server's URL (for dropping the database).
        admin_url: String,
        /// The database's name.
        database: String,
    },
}

impl BenchStore {
    /// Opens a fresh store of the `choice` kind (SQLite under `dir`, with `options`).
    pub async fn open(
        choice: StoreChoice,
        dir: &Path,
        options: SqliteOptions,
    ) -> Result<Self, BenchError> {
        match choice {
            StoreChoice::Sqlite => {
                let dir = tempfile::tempdir_in(dir)?;
                let store = SqliteStore::open(dir.path().join("relay.db"), options)?;
                Ok(Self::Sqlite { store, dir })
            }
            StoreChoice::Postgres => {
                let admin_url = std::env::var(POSTGRES_URL_VAR).map_err(|_| {
                    BenchError::Setup(format!(
                        "--store postgres needs {POSTGRES_URL_VAR} (eval \"$(scripts/services.sh)\")"
                    ))
                })?;
                let database = format!(
                    "relay_bench_{}_{}",
                    std::process::id(),
                    relay_core::model::time::Timestamp::now().as_millis()
                );
                admin(&admin_url, &format!("CREATE DATABASE {database}")).await?;
                let url = with_database(&admin_url, &database);
                let store = PgStore::connect(&url, PgOptions::default())
                    .await
                    .map_err(|e| BenchError::Setup(format!("PostgreSQL store: {e}")))?;
                Ok(Self::Postgres {
                    store,
                    admin_url,
                    database,
                })
            }
        }
    }

    /// The store as the relay takes it.
    pub fn dyn_store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite { store, .. } => Arc::new(store.clone()),
            Self::Postgres { store, .. } => Arc::new(store.clone()),
        }
    }

    /// Transactions committed so far.
    pub fn commit_count(&self) -> u64 {
        match self {
            Self::Sqlite { store, .. } => store.commit_count(),
            Self::Postgres { store, .. } => store.commit_count(),
        }
    }

    /// The SQLite database file (none for PostgreSQL).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self {
            Self::Sqlite { dir, .. } => Some(dir.path().join("relay.db")),
            Self::Postgres { .. } => None,
        }
    }

    /// The size of SQLite's WAL file now.
    pub fn wal_bytes(&self) -> Option<u64> {
        self.sqlite_path().and_then(|p| proc::wal_bytes(&p))
    }

    /// Closes the store (every other handle must be dropped already) and removes its data:
    /// waits for SQLite's threads, or drops the PostgreSQL database.
    pub async fn close(self) -> Result<(), BenchError> {
        match self {
            Self::Sqlite { store, dir } => {
                drop(store);
                proc::wait_store_threads_gone(Duration::from_secs(60)).await;
                drop(dir);
                Ok(())
            }
            Self::Postgres {
                store,
                admin_url,
                database,
            } => {
                drop(store);
                admin(
                    &admin_url,
                    &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
                )
                .await
            }
        }
    }
}

/// Runs one statement on the server's maintenance connection.
pub(crate) async fn admin(url: &str, statement: &str) -> Result<(), BenchError> {
    let pg = |e: tokio_postgres::Error| BenchError::Setup(format!("PostgreSQL: {e}"));
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(pg)?;
    let task = tokio::spawn(connection);
    let result = client.batch_execute(statement).await.map_err(pg);
    drop(client);
    let _ = task.await;
    result
}

/// `url` with its database (the path) replaced by `database`.
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_in_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=require", "x"),
            "postgresql://u:p@h/x?sslmode=require"
        );
        assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
    }
}
