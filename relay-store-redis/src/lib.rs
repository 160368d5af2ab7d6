//! # relay-store-redis
//!
//! State that several Relay nodes share through Redis, beside the durable store:
//!
//! - [`RedisRateLimiter`]: the [`RateLimiter`](relay_core::ingest::limit::RateLimiter) of every
//!   node at once: an exact sliding-window log per key (a sorted set), checked and updated by
//!   one Lua script, so no 60-second window admits more than the limit across the nodes.
//! - [`DedupCache`]: an [`EventIngest`](relay_core::store::EventIngest) wrapper that answers
//!   repeated ingests of a key from Redis before they reach the durable store. The durable
//!   store stays the source of truth: Redis only learns a key after the store committed its
//!   event, so it never claims a key without a committed event (see [`dedup`]).
//! - [`SharedCircuits`]: a [`CircuitStore`](relay_core::store::CircuitStore) that keeps
//!   every destination's circuit-breaker state in Redis (one Lua compare-and-set), so the
//!   nodes share their breakers without a database round trip, and falls back to the
//!   store's circuits while Redis is down (see [`circuit`], [`shared`]).
//! - [`share`]: a [`Stores`](relay_core::store::Stores) with both in front of a durable
//!   store, every other capability left to it.
//!
//! Built on the `redis` crate's async [`ConnectionManager`](redis::aio::ConnectionManager)
//! (one multiplexed connection that reconnects by itself), shared by clones.

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
