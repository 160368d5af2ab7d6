//! The writes, each run by the writer thread inside a group-commit transaction.

use std::time::Duration;

use relay_core::deliver::ordering::OnDeadLetter;
use relay_core::model::event::{DeliveryStatus, EventStatus};
use relay_core::model::ids::{DeliveryId, EventId, NodeId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::codec::encode_headers;
use relay_core::store::{
    AttemptCompletion, DeadLetterFilter, HeldAgent, InsertOutcome, Lease, LeasedDelivery,
    NewDelivery, NewEvent, NextStep, ScheduleReport, StoreError,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::SqliteStoreError;
use crate::held::{AGENT_HERE, HELD};
use crate::rows::{self, DELIVERY_COLUMNS, EVENT_COLUMNS};

/// Converts SQLite results into store results.
pub(crate) trait Db<T> {
    /// The result with a SQLite error as a [`StoreError`].
    fn db(self) -> Result<T, StoreError>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(|e| SqliteStoreError::from(e).into())
    }
}

fn insert_delivery(
    conn: &Connection,
    tenant: &TenantId,
    event: EventId,
    new: &NewDelivery,
    now: Timestamp,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO deliveries (id, tenant, event_id, destination, route, status,
             next_attempt_at, created_at, updated_at, ordering_key, ordering_block, agent)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        new.id.as_bytes(),
        tenant.as_str(),
        event.as_bytes(),
        new.destination,
        new.route,
        now.as_millis(),
        new.ordering.as_ref().map(|o| o.key.as_str()),
        new.ordering
            .as_ref()
            .is_some_and(|o| o.on_dead_letter == OnDeadLetter::Block),
        new.agent,
    ])?;
    Ok(())
}

/// [`EventIngest::insert_event`](relay_core::store::EventIngest::insert_event).
pub(crate) fn insert_event(conn: &Connection, new: &NewEvent) -> Result<InsertOutcome, StoreError> {
    let event = &new.event;
    let tenant = event.tenant.as_str();
    let existing: Option<(Vec<u8>, i64)> = conn
        .prepare_cached(
            "SELECT event_id, expires_at FROM dedup
             WHERE tenant = ?1 AND source = ?2 AND idempotency_key = ?3",
        )
        .db()?
        .query_row(
            params![tenant, event.source, event.idempotency_key],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .db()?;
    if let Some((original, expires_at)) = existing
        && expires_at > event.received_at.as_millis()
    {
        let original: [u8; 16] = original
            .try_into()
            .map_err(|_| StoreError::Corrupt("dedup event id is not 16 bytes".into()))?;
        return Ok(InsertOutcome::Duplicate {
            original: EventId::from_bytes(original),
        });
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO dedup (tenant, source, idempotency_key, event_id, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .db()?
    .execute(params![
        tenant,
        event.source,
        event.idempotency_key,
        event.id.as_bytes(),
        new.dedup_until.as_millis(),
    ])
    .db()?;
    conn.prepare_cached(
        "INSERT INTO events (id, tenant, source, event_type, idempotency_key, headers, body,
             received_at, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .db()?
    .execute(params![
        event.id.as_bytes(),
        tenant,
        event.source,
        event.event_type,
        event.idempotency_key,
        encode_headers(&event.headers),
        &event.body[..],
        event.received_at.as_millis(),
        event.status.as_str(),
    ])
    .db()?;
    for delivery in &new.deliveries {
        insert_delivery(conn, &event.tenant, event.id, delivery, event.received_at).db()?;
    }
    Ok(InsertOutcome::Inserted)
}

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

fn reschedule(
    conn: &Connection,
    seq: i64,
    agent: Option<&str>,
    now: Timestamp,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?2, cycle_attempts = 0,
             updated_at = ?2, agent = ?3
         WHERE seq = ?1",
    )?
    .execute(params![seq, now.as_millis(), agent])?;
    Ok(())
}

/// [`DeliveryQueue::schedule`](relay_core::store::DeliveryQueue::schedule).
pub(crate) fn schedule(
    conn: &Connection,
    tenant: &TenantId,
    event: EventId,
    plan: Vec<NewDelivery>,
    force: bool,
    now: Timestamp,
) -> Result<ScheduleReport, StoreError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM events WHERE id = ?1 AND tenant = ?2")
        .db()?
        .exists(params![event.as_bytes(), tenant.as_str()])
        .db()?;
    if !exists {
        return Err(StoreError::NotFound);
    }
    let existing: Vec<(i64, String, String)> = conn
        .prepare_cached(
            "SELECT seq, destination, status FROM deliveries
             WHERE event_id = ?1 AND tenant = ?2 ORDER BY seq",
        )
        .db()?
        .query_map(params![event.as_bytes(), tenant.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()?;
    let mut report = ScheduleReport::default();
    for new in plan {
        let found = existing.iter().find(|(_, d, _)| *d == new.destination);
        let Some((seq, _, status)) = found else {
            insert_delivery(conn, tenant, event, &new, now).db()?;
            report.scheduled.push(new.id);
            continue;
        };
        if relay_core::store::replay_skips(DeliveryStatus::parse(status), force) {
            report.skipped.push(new.destination);
            continue;
        }
        reschedule(conn, *seq, new.agent.as_deref(), now).db()?;
        let id: Vec<u8> = conn
            .prepare_cached("SELECT id FROM deliveries WHERE seq = ?1")
            .db()?
            .query_row([seq], |row| row.get(0))
            .db()?;
        let id: [u8; 16] = id
            .try_into()
            .map_err(|_| StoreError::Corrupt("delivery id is not 16 bytes".into()))?;
        report.scheduled.push(DeliveryId::from_bytes(id));
    }
    if !report.scheduled.is_empty() {
        conn.prepare_cached("UPDATE events SET status = ?1 WHERE id = ?2 AND tenant = ?3")
            .db()?
            .execute(params![
                EventStatus::Routed.as_str(),
                event.as_bytes(),
                tenant.as_str()
            ])
            .db()?;
    }
    Ok(report)
}

/// The WHERE clause selecting a tenant's dead letters by a [`DeadLetterFilter`] bound as
/// `?1` tenant, `?2` destination, `?3` event id, `?4` source, `?5` since.
pub(crate) const DEAD_LETTER_WHERE: &str = "d.tenant = ?1 AND d.status = 'dead_lettered'
    AND (?2 IS NULL OR d.destination = ?2)
    AND (?3 IS NULL OR d.event_id = ?3)
    AND (?4 IS NULL OR COALESCE((SELECT e.source FROM events e
         WHERE e.id = d.event_id AND e.tenant = d.tenant), '') = ?4)
    AND (?5 IS NULL OR d.updated_at >= ?5)";

/// The values bound to [`DEAD_LETTER_WHERE`]'s `?1` to `?5`.
pub(crate) type DeadLetterParams = (
    String,
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
    Option<i64>,
);

/// The parameters for [`DEAD_LETTER_WHERE`].
pub(crate) fn dead_letter_params(tenant: &TenantId, filter: &DeadLetterFilter) -> DeadLetterParams {
    (
        tenant.as_str().to_owned(),
        filter.destination.clone(),
        filter.event_id.map(|e| e.as_bytes().to_vec()),
        filter.source.clone(),
        filter.since.map(Timestamp::as_millis),
    )
}

/// [`DeliveryQueue::redrive`](relay_core::store::DeliveryQueue::redrive).
pub(crate) fn redrive(
    conn: &Connection,
    tenant: &TenantId,
    filter: &DeadLetterFilter,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let (t, dest, event, source, since) = dead_letter_params(tenant, filter);
    let moved = conn
        .prepare_cached(&format!(
            "UPDATE deliveries AS d SET status = 'pending', next_attempt_at = ?6,
                 cycle_attempts = 0, updated_at = ?6
             WHERE {DEAD_LETTER_WHERE}"
        ))
        .db()?
        .execute(params![t, dest, event, source, since, now.as_millis()])
        .db()?;
    Ok(moved as u64)
}

/// [`EventLog::prune`](relay_core::store::EventLog::prune).
pub(crate) fn prune(
    conn: &Connection,
    cutoff: Timestamp,
    now: Timestamp,
    batch: usize,
) -> Result<u64, StoreError> {
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    conn.prepare_cached(
        "DELETE FROM dedup WHERE (tenant, source, idempotency_key) IN
             (SELECT tenant, source, idempotency_key FROM dedup WHERE expires_at <= ?1 LIMIT ?2)",
    )
    .db()?
    .execute(params![now.as_millis(), batch.saturating_mul(4)])
    .db()?;
    let doomed: Vec<Vec<u8>> = conn
        .prepare_cached(
            "SELECT id FROM events e WHERE received_at < ?1 AND NOT EXISTS
                 (SELECT 1 FROM deliveries d WHERE d.event_id = e.id
                      AND d.status IN ('pending', 'in_flight'))
             ORDER BY received_at LIMIT ?2",
        )
        .db()?
        .query_map(params![cutoff.as_millis(), batch], |row| row.get(0))
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()?;
    for id in &doomed {
        conn.prepare_cached(
            "DELETE FROM attempts WHERE delivery_id IN
                 (SELECT id FROM deliveries WHERE event_id = ?1)",
        )
        .db()?
        .execute([id])
        .db()?;
        conn.prepare_cached("DELETE FROM deliveries WHERE event_id = ?1")
            .db()?
            .execute([id])
            .db()?;
        conn.prepare_cached("DELETE FROM events WHERE id = ?1")
            .db()?
            .execute([id])
            .db()?;
    }
    Ok(doomed.len() as u64)
}
