//! A rate limiter whose budget several nodes share: an exact sliding-window log per key in a
//! Redis sorted set, checked and updated atomically by one Lua script.

use std::time::Duration;

use async_trait::async_trait;
use redis::Script;
use redis::aio::ConnectionManager;
use relay_core::ingest::limit::{LimiterError, RateDecision, RateLimit, RateLimiter, WINDOW};
use relay_core::model::time::Timestamp;

use crate::connect::{self, check_prefix};
use crate::error::RedisStoreError;

/// Drops the entries at or before `now - window`; admits (adding `member` at `now`) when
/// fewer than `limit` remain, answering -1; otherwise answers the milliseconds until the
/// oldest entry leaves the window.
const SLIDING_WINDOW: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[4])
    redis.call('PEXPIRE', KEYS[1], window)
    return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] == nil then
    return window
end
return math.max(tonumber(oldest[2]) + window - now, 0)
";

/// A [`RateLimiter`] in Redis: no 60-second window admits more than the limit across every
/// node using the same server and prefix. Cheap to clone.
///
/// ```no_run
/// use relay_core::ingest::limit::{RateLimit, RateLimiter};
/// use relay_core::model::time::Timestamp;
/// use relay_store_redis::RedisRateLimiter;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let limiter = RedisRateLimiter::connect("redis://127.0.0.1:6379", "relay:").await?;
/// let decision = limiter
///     .acquire("source:github", RateLimit { per_minute: 600 }, Timestamp::now())
///     .await?;
/// println!("{decision:?}");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisRateLimiter {
    connection: ConnectionManager,
    prefix: String,
    script: Script,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// Connects to `url`; every key starts with `prefix` (e.g. `relay:`).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, RedisStoreError> {
        Self::new(connect::connect(url).await?, prefix)
    }

    /// A limiter on an existing connection; every key starts with `prefix`.
    pub fn new(connection: ConnectionManager, prefix: &str) -> Result<Self, RedisStoreError> {
        Ok(Self {
            connection,
            prefix: check_prefix(prefix)?,
            script: Script::new(SLIDING_WINDOW),
        })
    }
}

impl RedisRateLimiter {
    /// Admits one more for `key` in the `kind` namespace when fewer than `limit` were admitted
    /// in the `window` before `now`.
    async fn admit(
        &self,
        kind: &str,
        key: &str,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<RateDecision, LimiterError> {
        let member = uuid::Uuid::now_v7().simple().to_string();
        let mut connection = self.connection.clone();
        let wait: i64 = self
            .script
            .key(connect::key(&self.prefix, kind, &[key]))
            .arg(now.as_millis())
            .arg(i64::try_from(window.as_millis()).unwrap_or(i64::MAX))
            .arg(limit)
            .arg(member)
            .invoke_async(&mut connection)
            .await
            .map_err(|e| LimiterError(Box::new(RedisStoreError::from(e))))?;
        Ok(if wait < 0 {
            RateDecision::Allowed
        } else {
            RateDecision::Limited {
                retry_after: Duration::from_millis(wait.unsigned_abs()),
            }
        })
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn acquire(
        &self,
        key: &str,
        limit: RateLimit,
        now: Timestamp,
    ) -> Result<RateDecision, LimiterError> {
        self.admit("rate", key, limit.per_minute, WINDOW, now).await
    }

    /// The shared per-second budget: no one-second window admits more than `per_second`
    /// across every node on the same server and prefix.
    async fn acquire_per_second(
        &self,
        key: &str,
        per_second: u32,
        now: Timestamp,
    ) -> Result<Option<RateDecision>, LimiterError> {
        self.admit("rate1s", key, per_second, Duration::from_secs(1), now)
            .await
            .map(Some)
    }
}
