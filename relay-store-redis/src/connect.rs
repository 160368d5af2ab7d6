//! Connecting: one multiplexed connection that reconnects by itself.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::RedisStoreError;

/// Whether `url` names a Redis server (`redis://…`, or `rediss://…` for TLS).
pub fn is_redis_url(url: &str) -> bool {
    url.starts_with("redis://") || url.starts_with("rediss://")
}

/// How long connecting, and each command, may take before it fails (and the caller falls
/// back: the dedup cache and the circuits to the durable store).
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// Connects to `url` with a [`ConnectionManager`], shared by clones of the limiter and the
/// dedup cache: it multiplexes every command on one connection and reconnects after a loss.
///
/// A command fails after [`REDIS_TIMEOUT`], and a lost connection is re-established by one
/// attempt (of at most [`REDIS_TIMEOUT`]) when the next command needs it, without retries:
/// the client's default retries back off for minutes while every command waits for them, so
/// a Redis that is down would hold up ingest and deliveries instead of failing fast.
pub async fn connect(url: &str) -> Result<ConnectionManager, RedisStoreError> {
    if !is_redis_url(url) {
        return Err(RedisStoreError::InvalidUrl(url.to_owned()));
    }
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_number_of_retries(0)
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_response_timeout(Some(REDIS_TIMEOUT));
    Ok(ConnectionManager::new_with_config(client, config).await?)
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
