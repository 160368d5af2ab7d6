//! The writes, each run by the writer thread inside a group-commit transaction (the delivery
//! queue's per-delivery writes are in [`crate::lease`]).

use relay_core::deliver::ordering::OnDeadLetter;
use relay_core::model::event::{DeliveryStatus, EventStatus};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::codec::encode_headers;
use relay_core::store::{
    DeadLetterFilter, InsertOutcome, NewDelivery, NewEvent, ScheduleReport, StoreError,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::SqliteStoreError;

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
