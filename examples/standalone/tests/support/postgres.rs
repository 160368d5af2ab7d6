//! A PostgreSQL schema of a test's own, dropped at the end (even when the test fails), with
//! the Redis keys under its name.

use relay_store_postgres::tokio_postgres;

/// A schema for one run.
pub struct Schema {
    url: String,
    /// The schema's name (also the Redis key prefix, with a `:`).
    pub name: String,
}

impl Schema {
    /// Creates `{prefix}_{pid}_{random}` on the server of `url`.
    pub async fn create(url: &str, prefix: &str) -> Self {
        let name = format!("{prefix}_{}_{}", std::process::id(), rand::random::<u32>());
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE SCHEMA \"{name}\""))
            .await
            .expect("create schema");
        Self {
            url: url.to_owned(),
            name,
        }
    }

    /// `url` with the schema as its search path, for `relay --database-url`.
    pub fn database_url(&self) -> String {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-csearch_path%3D{}",
            self.url, self.name
        )
    }
}

/// Deletes the Redis keys starting with `prefix` (the dedup cache, rate-limit entries and
/// circuits).
fn delete_redis_keys(prefix: &str) {
    use relay_store_redis::redis;
    let Some(url) = std::env::var("RELAY_TEST_REDIS_URL").ok() else {
        return;
    };
    let Ok(mut connection) = redis::Client::open(url.as_str()).and_then(|c| c.get_connection())
    else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut connection)
        .unwrap_or_default();
    for chunk in keys.chunks(500) {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(chunk).query(&mut connection);
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        delete_redis_keys(&format!("{}:", self.name));
        let (url, name) = (self.url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
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
    }
}
