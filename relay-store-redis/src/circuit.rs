//! Circuit-breaker state in Redis, shared by every node on the same server and prefix.
//!
//! One hash per `(tenant, destination)` holds the [`VersionedCircuit`]: `v` (the version),
//! `p` (the phase), `f` (failures), `w` (window start, ms), `u` (until, ms) and `d` (the
//! window's buckets and the probes' tally, relay-core's `CircuitDetail` text; absent in a
//! hash written before it existed, which reads as an empty window). Reads are one
//! `HMGET`; the versioned compare-and-set of [`CircuitStore::swap_circuit`] is one Lua script, so
//! concurrent writers from the same version see exactly one winner, on one node or many.
//!
//! Every write sets the key's time to live to [`CIRCUIT_TTL`] (7 days). A live circuit is
//! written on every change, so the TTL only removes the circuits of destinations and tenants
//! that no longer exist. A circuit that outlived it is absent, which the breaker reads as
//! closed: an open circuit nobody touched for a week would have been probed by the first
//! delivery anyway, and a failure count is only kept for the breaker's window (a minute by
//! default). A compare-and-set cannot mistake a new key for an expired one of the same
//! version: a worker holds a version for one attempt (seconds), not a week.
//!
//! [`CircuitStore::swap_circuit`]: relay_core::store::CircuitStore::swap_circuit

use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;
use relay_core::deliver::circuit::{CircuitDetail, CircuitPhase, CircuitState, VersionedCircuit};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;

use crate::connect;
use crate::error::RedisStoreError;

/// How long a circuit's key lives after its last write.
pub const CIRCUIT_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Writes the state (ARGV 2..5, and the detail ARGV[7]) with version `v + 1` when the stored
/// version is ARGV[1] (`""`: nothing stored), sets the TTL (ARGV[6] ms), and answers the version written; 0
/// when the stored version differs.
const COMPARE_AND_SET: &str = r"
local current = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '' then
    if current then return 0 end
elseif (not current) or tonumber(current) ~= tonumber(ARGV[1]) then
    return 0
end
local version = (current and tonumber(current) or 0) + 1
redis.call('HSET', KEYS[1], 'v', version, 'p', ARGV[2], 'f', ARGV[3], 'w', ARGV[4], 'u', ARGV[5], 'd', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return version
";

/// The circuits of every destination under one key prefix.
#[derive(Clone)]
pub(crate) struct RedisCircuits {
    connection: ConnectionManager,
    prefix: String,
    script: Script,
}

impl RedisCircuits {
    /// Circuits on `connection` under a checked `prefix`.
    pub(crate) fn new(connection: ConnectionManager, prefix: String) -> Self {
        Self {
            connection,
            prefix,
            script: Script::new(COMPARE_AND_SET),
        }
    }

    /// The key of a destination's circuit.
    pub(crate) fn key(&self, tenant: &TenantId, destination: &str) -> String {
        connect::key(&self.prefix, "circuit", &[tenant.as_str(), destination])
    }

    /// The stored circuit; `Ok(None)` when none is stored. The outer error is Redis failing,
    /// the inner one a hash that does not decode.
    pub(crate) async fn get(
        &self,
        tenant: &TenantId,
        destination: &str,
    ) -> Result<Result<Option<VersionedCircuit>, StoreError>, RedisStoreError> {
        let mut connection = self.connection.clone();
        let fields: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.key(tenant, destination))
            .arg(&["v", "p", "f", "w", "u", "d"])
            .query_async(&mut connection)
            .await?;
        Ok(decode(&fields))
    }

    /// The versioned compare-and-set: writes `state` as version `expected + 1` (1 when
    /// `expected` is `None`) only if the stored version is still `expected`.
    pub(crate) async fn swap(
        &self,
        tenant: &TenantId,
        destination: &str,
        expected: Option<u64>,
        state: &CircuitState,
    ) -> Result<bool, RedisStoreError> {
        let mut connection = self.connection.clone();
        let written: i64 = self
            .script
            .key(self.key(tenant, destination))
            .arg(expected.map_or_else(String::new, |v| v.to_string()))
            .arg(state.phase.as_str())
            .arg(state.failures)
            .arg(state.window_started.as_millis())
            .arg(state.until.as_millis())
            .arg(u64::try_from(CIRCUIT_TTL.as_millis()).unwrap_or(u64::MAX))
            .arg(state.detail.encode())
            .invoke_async(&mut connection)
            .await?;
        Ok(written > 0)
    }
}

/// A circuit from its hash fields `v, p, f, w, u, d`; absent when `v` is.
fn decode(fields: &[Option<String>]) -> Result<Option<VersionedCircuit>, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("circuit hash in redis: {fields:?}"));
    let [Some(version), phase, failures, window, until, detail] = fields else {
        return Ok(None);
    };
    let text = |field: &Option<String>| field.clone().ok_or_else(corrupt);
    let millis = |field: &Option<String>| {
        text(field)?
            .parse::<i64>()
            .map(Timestamp::from_millis)
            .map_err(|_| corrupt())
    };
    Ok(Some(VersionedCircuit {
        version: version.parse().map_err(|_| corrupt())?,
        state: CircuitState {
            phase: CircuitPhase::parse(&text(phase)?).ok_or_else(corrupt)?,
            failures: text(failures)?.parse().map_err(|_| corrupt())?,
            window_started: millis(window)?,
            until: millis(until)?,
            detail: CircuitDetail::decode(detail.as_deref().unwrap_or(""))
                .map_err(|_| corrupt())?,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(values: [Option<&str>; 6]) -> Vec<Option<String>> {
        values.iter().map(|v| v.map(str::to_owned)).collect()
    }

    #[test]
    fn hashes_decode_or_are_reported_corrupt() {
        assert_eq!(decode(&fields([None; 6])).ok(), Some(None));
        // A hash written before the detail existed has no `d`.
        let open = decode(&fields([
            Some("3"),
            Some("open"),
            Some("5"),
            Some("1000"),
            Some("31000"),
            None,
        ]));
        assert_eq!(
            open.ok().flatten(),
            Some(VersionedCircuit {
                version: 3,
                state: CircuitState {
                    phase: CircuitPhase::Open,
                    failures: 5,
                    window_started: Timestamp::from_millis(1000),
                    until: Timestamp::from_millis(31000),
                    detail: CircuitDetail::default(),
                },
            })
        );
        for bad in [
            [
                Some("x"),
                Some("open"),
                Some("5"),
                Some("1"),
                Some("2"),
                None,
            ],
            [
                Some("1"),
                Some("ajar"),
                Some("5"),
                Some("1"),
                Some("2"),
                None,
            ],
            [Some("1"), Some("open"), None, Some("1"), Some("2"), None],
            [
                Some("1"),
                Some("open"),
                Some("5"),
                Some("1"),
                Some("soon"),
                None,
            ],
            [
                Some("1"),
                Some("open"),
                Some("5"),
                Some("1"),
                Some("2"),
                Some("9;"),
            ],
        ] {
            assert!(
                matches!(decode(&fields(bad)), Err(StoreError::Corrupt(_))),
                "{bad:?}"
            );
        }
    }
}
