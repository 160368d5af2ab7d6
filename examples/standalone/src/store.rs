//! Opening the store named by `server.database_url`.

use std::sync::Arc;
use std::time::Duration;

use relay_core::store::Store;
use relay_core::store::memory::MemoryStore;
use relay_store_postgres::{PgOptions, PgStore, PgStoreError};
use relay_store_sqlite::{SqliteOptions, SqliteStore, SqliteStoreError, Synchronous};

use crate::config::model::{Server, SqliteSynchronous};
use crate::keys::Backing;

/// How often the background pruner looks for expired events.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// A database URL this build cannot open.
#[derive(Debug, thiserror::Error)]
pub enum StoreUrlError {
    /// A scheme no store of this build handles.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH, postgres://… or memory://")]
    Unsupported(String),
    /// The SQLite file cannot be opened or migrated.
    #[error("{url}: {source}")]
    Sqlite {
        /// The URL.
        url: String,
        /// Why.
        source: SqliteStoreError,
    },
    /// The PostgreSQL database cannot be reached or migrated.
    #[error("{url}: {source}")]
    Postgres {
        /// The URL, without its password.
        url: String,
        /// Why.
        source: PgStoreError,
    },
}

/// An open store and, for SQLite and PostgreSQL, its background pruner.
pub struct Opened {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The pruner task, aborted when the gateway stops.
    pub pruner: Option<tokio::task::JoinHandle<()>>,
    /// The database file, for a file-backed store.
    pub file: Option<std::path::PathBuf>,
    /// Whether the database is shared with other nodes (PostgreSQL).
    pub shared: bool,
}

impl Opened {
    /// What the credential key must fit.
    pub fn backing(&self) -> Backing<'_> {
        match (&self.file, self.shared) {
            (_, true) => Backing::Shared,
            (Some(file), false) => Backing::File(file),
            (None, false) => Backing::Memory,
        }
    }
}

/// How a command uses the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// It delivers (or changes the schema): a SQLite file is locked for this process alone,
    /// and the deliveries its previous owner left in flight are due at once.
    Owner,
    /// It reads, or writes admin data, beside a running owner (`relay doctor`, `relay key`,
    /// `relay user`): no lock, no lease touched.
    Beside,
}

/// Opens (creating it if needed, and bringing its schema up to date when `migrate`) the
/// store at `url`, with `server`'s durability and retention. Call from within a tokio
/// runtime.
pub async fn open(
    url: &str,
    server: &Server,
    migrate: bool,
    usage: Use,
) -> Result<Opened, StoreUrlError> {
    let retention = server.retention();
    if url == "memory://" {
        tracing::warn!("memory:// store: nothing survives a restart");
        let store = Arc::new(MemoryStore::new());
        let weak = Arc::downgrade(&store);
        let pruner =
            relay_core::store::spawn_pruner(move || weak.upgrade(), retention, PRUNE_EVERY);
        return Ok(Opened {
            store,
            pruner: Some(pruner),
            file: None,
            shared: false,
        });
    }
    if relay_store_postgres::is_postgres_url(url) {
        let store = PgStore::connect(url, PgOptions::default().migrate_on_open(migrate))
            .await
            .map_err(|source| StoreUrlError::Postgres {
                url: redact(url),
                source,
            })?;
        // Every node prunes; each skips the rows another one is pruning.
        let pruner = store.spawn_pruner(retention, PRUNE_EVERY);
        return Ok(Opened {
            store: Arc::new(store),
            pruner: Some(pruner),
            file: None,
            shared: true,
        });
    }
    if !url.starts_with("sqlite:") {
        return Err(StoreUrlError::Unsupported(url.to_owned()));
    }
    let synchronous = match server.sqlite_synchronous {
        SqliteSynchronous::Full => Synchronous::Full,
        SqliteSynchronous::Normal => Synchronous::Normal,
    };
    let store = SqliteStore::open_url(
        url,
        SqliteOptions::default()
            .synchronous(synchronous)
            .migrate_on_open(migrate)
            .exclusive(usage == Use::Owner),
    )
    .map_err(|source| StoreUrlError::Sqlite {
        url: url.to_owned(),
        source,
    })?;
    let pruner = store.spawn_pruner(retention, PRUNE_EVERY);
    Ok(Opened {
        file: Some(store.path().to_owned()),
        store: Arc::new(store),
        pruner: Some(pruner),
        shared: false,
    })
}

/// `url` without the password of its user part, for logs and messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://relay:s3cret@db:5432/relay?sslmode=require"),
            "postgres://relay:***@db:5432/relay?sslmode=require"
        );
        assert_eq!(
            redact("postgres://relay@db/relay"),
            "postgres://relay@db/relay"
        );
        assert_eq!(redact("sqlite://relay.db"), "sqlite://relay.db");
        assert_eq!(redact("memory://"), "memory://");
    }
}
