#![doc = include_str!("../README.md")]

pub mod circuit;
mod connect;
pub mod dedup;
mod error;
pub mod health;
mod limiter;
pub mod shared;

pub use connect::{REDIS_TIMEOUT, connect, is_redis_url};
pub use dedup::DedupCache;
pub use error::RedisStoreError;
pub use health::REDIS_BACKOFF;
pub use limiter::RedisRateLimiter;
/// The client crate, re-exported so callers can name its connection types.
pub use redis;
pub use shared::{SharedCircuits, connect_shared, share};
