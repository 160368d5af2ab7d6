//! Operations: replay (schedule), redrive, retention (prune).

use std::sync::LazyLock;

use deadpool_postgres::Pool;
use relay_core::deliver::ordering::OnDeadLetter;
use relay_core::model::event::{DeliveryStatus, EventStatus};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::{DeadLetterFilter, NewDelivery, ScheduleReport, StoreError};
use uuid::Uuid;

use crate::error::{Db, PgStoreError};
use crate::reads::{DEAD_LETTER_WHERE, FilterParams};
use crate::rows::get;

/// [`DeliveryQueue::schedule`](relay_core::store::DeliveryQueue::schedule), in one transaction that locks
/// the event (so concurrent replays of one event take turns) and its deliveries.
pub(crate) async fn schedule(
    pool: &Pool,
    tenant: &TenantId,
    event: EventId,
    plan: Vec<NewDelivery>,
    force: bool,
    now: Timestamp,
) -> Result<ScheduleReport, StoreError> {
    let mut client = pool.get().await.db()?;
    let tx = client.transaction().await.db()?;
    let (event_id, tenant_id, now_ms) = (event.as_uuid(), tenant.as_str(), now.as_millis());
    let lock = tx
        .prepare_cached("SELECT 1 FROM events WHERE id = $1::uuid AND tenant = $2::text FOR UPDATE")
        .await
        .db()?;
    if tx
        .query_opt(&lock, &[&event_id, &tenant_id])
        .await
        .db()?
        .is_none()
    {
        return Err(StoreError::NotFound);
    }
    let existing = tx
        .prepare_cached(
            "SELECT id, destination, status FROM deliveries
             WHERE event_id = $1::uuid AND tenant = $2::text ORDER BY seq FOR UPDATE",
        )
        .await
        .db()?;
    let existing: Vec<(Uuid, String, String)> = tx
        .query(&existing, &[&event_id, &tenant_id])
        .await
        .db()?
        .iter()
        .map(|row| Ok((get(row, 0)?, get(row, 1)?, get(row, 2)?)))
        .collect::<Result<_, PgStoreError>>()?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO deliveries (id, tenant, event_id, destination, route, status,
                 next_attempt_at, created_at, updated_at, ordering_key, ordering_block, agent)
             VALUES ($1::uuid, $2::text, $3::uuid, $4::text, $5::text, 'pending',
                 $6::int8, $6::int8, $6::int8, $7::text, $8::bool, $9::text)",
        )
        .await
        .db()?;
    let reschedule = tx
        .prepare_cached(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $2::int8,
                 cycle_attempts = 0, updated_at = $2::int8, agent = $3::text
             WHERE id = $1::uuid",
        )
        .await
        .db()?;
    let mut report = ScheduleReport::default();
    for new in plan {
        let found = existing.iter().find(|(_, d, _)| *d == new.destination);
        let Some((id, _, status)) = found else {
            let key = new.ordering.as_ref().map(|o| o.key.as_str());
            let block = new
                .ordering
                .as_ref()
                .is_some_and(|o| o.on_dead_letter == OnDeadLetter::Block);
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 9] = [
                &new.id.as_uuid(),
                &tenant_id,
                &event_id,
                &new.destination,
                &new.route,
                &now_ms,
                &key,
                &block,
                &new.agent,
            ];
            tx.execute(&insert, &params).await.db()?;
            report.scheduled.push(new.id);
            continue;
        };
        if relay_core::store::replay_skips(DeliveryStatus::parse(status), force) {
            report.skipped.push(new.destination);
            continue;
        }
        tx.execute(&reschedule, &[id, &now_ms, &new.agent])
            .await
            .db()?;
        report
            .scheduled
            .push(DeliveryId::from_bytes(id.into_bytes()));
    }
    if !report.scheduled.is_empty() {
        let routed = tx
            .prepare_cached(
                "UPDATE events SET status = $1::text WHERE id = $2::uuid AND tenant = $3::text",
            )
            .await
            .db()?;
        tx.execute(
            &routed,
            &[&EventStatus::Routed.as_str(), &event_id, &tenant_id],
        )
        .await
        .db()?;
    }
    tx.commit().await.db()?;
    Ok(report)
}

static REDRIVE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE deliveries AS d SET status = 'pending', next_attempt_at = $6::int8,
             cycle_attempts = 0, updated_at = $6::int8
         WHERE {DEAD_LETTER_WHERE}"
    )
});

/// [`DeliveryQueue::redrive`](relay_core::store::DeliveryQueue::redrive): one statement.
pub(crate) async fn redrive(
    pool: &Pool,
    tenant: &TenantId,
    filter: &DeadLetterFilter,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let now = now.as_millis();
    let params = FilterParams::new(tenant, filter);
    let client = pool.get().await.db()?;
    let statement = client.prepare_cached(&REDRIVE).await.db()?;
    client.execute(&statement, &params.with(&now)).await.db()
}

/// Deletes up to `$2` expired dedup entries (expired at `$1`).
const PRUNE_DEDUP: &str = "
WITH expired AS (
    SELECT ctid FROM dedup WHERE expires_at <= $1::int8 LIMIT $2::int8 FOR UPDATE SKIP LOCKED
)
DELETE FROM dedup USING expired WHERE dedup.ctid = expired.ctid";

/// Deletes up to `$2` events received before `$1` with nothing pending or in flight, their
/// deliveries and attempts; returns one row per event. Events another pruner or a replay
/// holds are skipped, so pruners on several nodes never wait on each other.
const PRUNE_EVENTS: &str = "
WITH doomed AS (
    SELECT e.id FROM events e
    WHERE e.received_at < $1::int8 AND NOT EXISTS (
        SELECT 1 FROM deliveries d
        WHERE d.event_id = e.id AND d.status IN ('pending', 'in_flight'))
    ORDER BY e.received_at LIMIT $2::int8
    FOR UPDATE SKIP LOCKED
),
gone_deliveries AS (
    DELETE FROM deliveries d USING doomed WHERE d.event_id = doomed.id RETURNING d.id
),
gone_attempts AS (
    DELETE FROM attempts a USING gone_deliveries g WHERE a.delivery_id = g.id
)
DELETE FROM events e USING doomed WHERE e.id = doomed.id";

/// [`EventLog::prune`](relay_core::store::EventLog::prune).
pub(crate) async fn prune(
    pool: &Pool,
    cutoff: Timestamp,
    now: Timestamp,
    batch: usize,
) -> Result<u64, StoreError> {
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    let client = pool.get().await.db()?;
    let dedup = client.prepare_cached(PRUNE_DEDUP).await.db()?;
    client
        .execute(&dedup, &[&now.as_millis(), &batch.saturating_mul(4)])
        .await
        .db()?;
    let events = client.prepare_cached(PRUNE_EVENTS).await.db()?;
    client
        .execute(&events, &[&cutoff.as_millis(), &batch])
        .await
        .db()
}
