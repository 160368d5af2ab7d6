//! Test support: a key prefix of its own per test on the server named by
//! `RELAY_TEST_REDIS_URL`, whose keys are deleted when the test ends.

#![allow(dead_code, clippy::unwrap_used)]

use relay_store_redis::redis;

/// A test's own corner of the Redis server.
#[derive(Debug)]
pub struct TestRedis {
    /// The server's URL.
    pub url: String,
    /// Every key of the test starts with it.
    pub prefix: String,
}

impl TestRedis {
    /// A fresh prefix on the test server, or `None` (after `SKIPPED: …`) without one.
    pub fn new(test: &str) -> Option<Self> {
        let url = relay_core::testing::backend_from_env(
            "RELAY_TEST_REDIS_URL",
            test,
            "run `eval \"$(scripts/services.sh)\"` to start Redis",
        )?;
        let prefix = format!("relay_t_{}:", uuid::Uuid::now_v7().simple());
        Some(Self { url, prefix })
    }

    /// A plain connection, for inspection.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut connection) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut connection)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut connection);
        }
    }
}
