//! The delivery queue's own writes, run for every delivery: leasing due deliveries, completing
//! an attempt, releasing a lease.

use std::time::Duration;

use relay_core::model::event::DeliveryStatus;
use relay_core::model::ids::NodeId;
use relay_core::model::time::Timestamp;
use relay_core::store::{
    AttemptCompletion, HeldAgent, Lease, LeasedDelivery, NextStep, StoreError,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::held::{AGENT_HERE, HELD};
use crate::rows::{self, DELIVERY_COLUMNS, EVENT_COLUMNS};
use crate::writes::Db;

/// The condition that `d` (due at `?1`) is unordered or the head of its lane: no delivery of
/// its lane created before it holds the lane (pending, in flight, or dead-lettered with
/// `on_dead_letter = block`), and none is in flight under an unexpired lease.
const LANE_HEAD: &str = "(d.ordering_key IS NULL OR NOT EXISTS (
         SELECT 1 FROM deliveries o
         WHERE o.tenant = d.tenant AND o.destination = d.destination
             AND o.ordering_key = d.ordering_key AND o.seq <> d.seq
             AND ((o.seq < d.seq AND (o.status IN ('pending', 'in_flight')
                      OR (o.status = 'dead_lettered' AND o.ordering_block = 1)))
                  OR (o.status = 'in_flight' AND o.next_attempt_at > ?1))))";

/// [`DeliveryQueue::lease_due`](relay_core::store::DeliveryQueue::lease_due): the global queue, lane heads
/// only, none of a destination that is disabled or whose circuit is open ([`HELD`]).
pub(crate) fn lease_due(
    conn: &Connection,
    holder: Option<&NodeId>,
    agents: &[HeldAgent],
    now: Timestamp,
    limit: usize,
    lease_for: Duration,
) -> Result<Vec<LeasedDelivery>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let due: Vec<i64> = conn
        .prepare_cached(&format!(
            "SELECT seq FROM deliveries d
             WHERE status IN ('pending', 'in_flight') AND next_attempt_at <= ?1
                 AND {LANE_HEAD} AND NOT {HELD} AND {AGENT_HERE}
             ORDER BY next_attempt_at, seq LIMIT ?2"
        ))
        .db()?
        .query_map(params![now.as_millis(), limit, held_keys(agents)], |row| {
            row.get(0)
        })
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()?;
    let expires = now.plus(lease_for).as_millis();
    let mut update = conn
        .prepare_cached(&format!(
            "UPDATE deliveries SET status = 'in_flight', next_attempt_at = ?2,
                 lease_token = lease_token + 1, updated_at = ?3, lease_holder = ?4
             WHERE seq = ?1 RETURNING lease_token, {DELIVERY_COLUMNS}"
        ))
        .db()?;
    let mut load = conn
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1 AND tenant = ?2"
        ))
        .db()?;
    let mut leased: Vec<LeasedDelivery> = Vec::with_capacity(due.len());
    for seq in due {
        let (token, delivery) = update
            .query_row(
                params![seq, expires, now.as_millis(), holder.map(NodeId::as_str)],
                |row| Ok((row.get::<_, i64>(0)?, rows::delivery(row, 1)?)),
            )
            .db()?;
        // An event's deliveries are created together, so they are usually leased one after
        // the other: the event is read once for them.
        let event = match leased.last() {
            Some(last)
                if last.event.id == delivery.event_id && last.event.tenant == delivery.tenant =>
            {
                last.event.clone()
            }
            _ => load
                .query_row(
                    params![delivery.event_id.as_bytes(), delivery.tenant.as_str()],
                    |row| rows::event(row, 0),
                )
                .optional()
                .db()?
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("delivery {} without its event", delivery.id))
                })?,
        };
        leased.push(LeasedDelivery {
            lease: Lease {
                tenant: delivery.tenant.clone(),
                delivery_id: delivery.id,
                token: u64::try_from(token).unwrap_or(0),
            },
            delivery,
            event,
        });
    }
    Ok(leased)
}

/// The agents a node holds, as the JSON array of keys the lease query reads.
fn held_keys(agents: &[HeldAgent]) -> String {
    let keys: Vec<String> = agents.iter().map(HeldAgent::key).collect();
    serde_json::to_string(&keys).unwrap_or_else(|_| "[]".to_owned())
}

/// A head due again at `?1`: the pending deliveries behind it on its lane (which cannot go
/// before it) are made due no earlier, so leasing does not pass over them meanwhile.
fn hold_lane_until(conn: &Connection, head: &Lease, at: Timestamp) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE deliveries AS f SET next_attempt_at = ?1
         FROM (SELECT tenant, destination, ordering_key, seq FROM deliveries
               WHERE id = ?2 AND tenant = ?3 AND ordering_key IS NOT NULL) AS h
         WHERE f.tenant = h.tenant AND f.destination = h.destination
             AND f.ordering_key = h.ordering_key AND f.seq > h.seq
             AND f.status = 'pending' AND f.next_attempt_at < ?1",
    )
    .db()?
    .execute(params![
        at.as_millis(),
        head.delivery_id.as_bytes(),
        head.tenant.as_str()
    ])
    .db()?;
    Ok(())
}

/// An attempt's completion with its detail already encoded, by the caller rather than the
/// writer thread (which every write waits for).
pub(crate) struct EncodedCompletion {
    completion: AttemptCompletion,
    detail: Option<String>,
}

impl EncodedCompletion {
    /// Encodes `completion`'s attempt detail.
    pub(crate) fn new(completion: AttemptCompletion) -> Self {
        let detail = completion.attempt.detail.to_json();
        Self { completion, detail }
    }
}

/// [`DeliveryQueue::complete_attempt`](relay_core::store::DeliveryQueue::complete_attempt).
pub(crate) fn complete_attempt(
    conn: &Connection,
    encoded: &EncodedCompletion,
) -> Result<(), StoreError> {
    let AttemptCompletion {
        lease,
        attempt,
        next,
    } = &encoded.completion;
    let (status, at) = match next {
        NextStep::Delivered => (DeliveryStatus::Delivered, attempt.started_at),
        NextStep::RetryAt(at) => (DeliveryStatus::Pending, *at),
        NextStep::DeadLettered => (DeliveryStatus::DeadLettered, attempt.started_at),
    };
    let changed = conn
        .prepare_cached(
            "UPDATE deliveries SET status = ?1, next_attempt_at = ?2, attempts = attempts + 1,
                 cycle_attempts = cycle_attempts + 1, last_error = ?3, updated_at = ?4
             WHERE id = ?5 AND tenant = ?6 AND lease_token = ?7 AND status = 'in_flight'",
        )
        .db()?
        .execute(params![
            status.as_str(),
            at.as_millis(),
            attempt.error,
            Timestamp::now().as_millis(),
            lease.delivery_id.as_bytes(),
            lease.tenant.as_str(),
            i64::try_from(lease.token).unwrap_or(-1),
        ])
        .db()?;
    if changed == 0 {
        return Err(StoreError::LeaseLost(lease.delivery_id));
    }
    if let NextStep::RetryAt(at) = next {
        hold_lane_until(conn, lease, *at)?;
    }
    conn.prepare_cached(
        "INSERT INTO attempts (tenant, delivery_id, number, started_at, latency_ms, status_code,
             error, response_excerpt, outcome, detail, request_body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .db()?
    .execute(params![
        lease.tenant.as_str(),
        attempt.delivery_id.as_bytes(),
        attempt.number,
        attempt.started_at.as_millis(),
        attempt.latency_ms,
        attempt.status_code,
        attempt.error,
        attempt.response_excerpt,
        attempt.outcome.as_str(),
        encoded.detail,
        attempt.detail.request_body.as_deref(),
    ])
    .db()?;
    Ok(())
}

/// [`DeliveryQueue::release`](relay_core::store::DeliveryQueue::release).
pub(crate) fn release(
    conn: &Connection,
    lease: &Lease,
    due_at: Timestamp,
) -> Result<(), StoreError> {
    let released = conn
        .prepare_cached(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = ?1
             WHERE id = ?2 AND tenant = ?3 AND lease_token = ?4 AND status = 'in_flight'",
        )
        .db()?
        .execute(params![
            due_at.as_millis(),
            lease.delivery_id.as_bytes(),
            lease.tenant.as_str(),
            i64::try_from(lease.token).unwrap_or(-1),
        ])
        .db()?;
    if released > 0 {
        hold_lane_until(conn, lease, due_at)?;
    }
    Ok(())
}
