//! Test support: a fresh schema per test in the database named by `RELAY_TEST_POSTGRES_URL`,
//! dropped when the test ends, so tests run in parallel and across runs without meeting.

#![allow(dead_code, clippy::unwrap_used)]

use relay_store_postgres::{PgOptions, PgStore};

/// The variable naming the test server.
pub const URL_VAR: &str = "RELAY_TEST_POSTGRES_URL";

/// A schema of its own for one test; dropped (with everything in it) on drop.
#[derive(Debug)]
pub struct TestSchema {
    /// The server's URL.
    pub url: String,
    /// The schema's name (`relay_t_…`).
    pub name: String,
}

impl TestSchema {
    /// A fresh schema name on the test server, or `None` (after `SKIPPED: …`) without one.
    pub fn new(test: &str) -> Option<Self> {
        let url = relay_core::testing::backend_from_env(
            URL_VAR,
            test,
            "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
        )?;
        let name = format!("relay_t_{}", uuid::Uuid::now_v7().simple());
        Some(Self { url, name })
    }

    /// The options of a store on this schema.
    pub fn options(&self) -> PgOptions {
        PgOptions::default().schema(&self.name)
    }

    /// A plain connection to the test server with this schema on its search path, for
    /// setup and inspection.
    pub async fn admin(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("SET search_path = \"{}\"", self.name))
            .await
            .unwrap();
        client
    }

    /// A store (a "node") on this schema; several share its tables.
    pub async fn store(&self) -> PgStore {
        PgStore::connect(&self.url, self.options()).await.unwrap()
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: clean up from a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (client, connection) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}
