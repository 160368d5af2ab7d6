//! Connecting: one multiplexed connection that reconnects by itself.

use redis::aio::ConnectionManager;

use crate::error::RedisStoreError;

/// Whether `url` names a Redis server (`redis://…`, or `rediss://…` for TLS).
pub fn is_redis_url(url: &str) -> bool {
    url.starts_with("redis://") || url.starts_with("rediss://")
}

/// Connects to `url` with a [`ConnectionManager`], shared by clones of the limiter and the
/// dedup cache: it multiplexes every command on one connection and reconnects after a loss.
pub async fn connect(url: &str) -> Result<ConnectionManager, RedisStoreError> {
    if !is_redis_url(url) {
        return Err(RedisStoreError::InvalidUrl(url.to_owned()));
    }
    let client = redis::Client::open(url)?;
    Ok(ConnectionManager::new(client).await?)
}

/// Checks a key prefix: every key this crate writes starts with it.
pub(crate) fn check_prefix(prefix: &str) -> Result<String, RedisStoreError> {
    let ok = prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    if ok {
        Ok(prefix.to_owned())
    } else {
        Err(RedisStoreError::InvalidPrefix(prefix.to_owned()))
    }
}

/// An unambiguous key for a list of parts: each is length-prefixed, so no choice of tenant,
/// source or idempotency key can collide with another.
pub(crate) fn key(prefix: &str, kind: &str, parts: &[&str]) -> String {
    let mut key = format!("{prefix}{kind}");
    for part in parts {
        key.push_str(&format!(":{}:{part}", part.len()));
    }
    key
}
