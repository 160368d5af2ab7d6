//! A schema of its own on the test server for one unit test, dropped at the end (also when
//! the test fails).

#![allow(clippy::unwrap_used)]

/// A fresh schema on the server `RELAY_TEST_POSTGRES_URL` names; dropped when this is.
pub(crate) struct Scratch {
    /// The server's URL.
    pub(crate) url: String,
    /// The schema's name (`relay_t_…`).
    pub(crate) name: String,
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
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
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
