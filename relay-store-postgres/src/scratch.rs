//! A schema (or a database) of its own on the test server for one unit test, dropped at the
//! end (also when the test fails).

#![allow(clippy::unwrap_used)]

/// `count` events received from `from` (ms after T0) on, 1 ms apart, each with a pending
/// delivery to `a` and one to `b`, written directly (thousands at once).
pub(crate) const SEED: &str = "
WITH e AS (
    INSERT INTO events (id, tenant, source, event_type, idempotency_key, headers, body,
                        received_at, status)
    SELECT gen_random_uuid(), 'default', 'github', 'push', 'k' || ($1::int8 + g), '\\x'::bytea,
           '\\x7b7d'::bytea, $2::int8 + g, 'routed'
    FROM generate_series(0, $3::int8 - 1) g
    RETURNING id, received_at
)
INSERT INTO deliveries (id, tenant, event_id, destination, route, status, next_attempt_at,
                        created_at, updated_at)
SELECT gen_random_uuid(), 'default', e.id, d, 'all', 'pending', e.received_at, e.received_at,
       e.received_at
FROM e CROSS JOIN (VALUES ('a'), ('b')) v(d)
ORDER BY e.received_at, d";

/// A fresh schema (or database) on the server `RELAY_TEST_POSTGRES_URL` names; dropped when
/// this is.
pub(crate) struct Scratch {
    /// The server's URL.
    pub(crate) url: String,
    /// The schema's (or database's) name (`relay_t_…`).
    pub(crate) name: String,
    /// A database rather than a schema.
    database: bool,
}

impl Scratch {
    /// A new schema name for the test `what`; `None` without a server (skipped loudly, or a
    /// failure with `RELAY_REQUIRE_BACKENDS=1`).
    pub(crate) fn from_env(what: &str) -> Option<Self> {
        let url = relay_core::testing::backend_from_env(
            "RELAY_TEST_POSTGRES_URL",
            what,
            "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
        )?;
        Some(Self {
            url,
            name: format!("relay_t_{}", uuid::Uuid::now_v7().simple()),
            database: false,
        })
    }

    /// A new database of its own for the test `what`, created now, for a test that other
    /// tests' schema changes must not reach (a `CREATE SCHEMA` anywhere in a database drops
    /// every session's cached plans there); its connection settings, or `None` without a
    /// server.
    pub(crate) async fn database(what: &str) -> Option<(Self, tokio_postgres::Config)> {
        let mut scratch = Self::from_env(what)?;
        scratch.database = true;
        let (client, connection) = tokio_postgres::connect(&scratch.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE \"{}\"", scratch.name))
            .await
            .unwrap();
        let mut config: tokio_postgres::Config = scratch.url.parse().unwrap();
        config.dbname(&scratch.name);
        Some((scratch, config))
    }
}

impl Scratch {
    /// A store on this schema, with the default options (the schema created and migrated).
    pub(crate) async fn store(&self) -> crate::PgStore {
        crate::PgStore::connect(&self.url, crate::PgOptions::default().schema(&self.name))
            .await
            .unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let drop = match self.database {
            true => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            false => format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"),
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (client, connection) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client.batch_execute(&drop).await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "could not drop test schema or database {}: {dropped:?}",
                self.name
            );
        }
    }
}
