//! Browsing: event listings with delivery counts, dead-letter pages, discarding.

use std::sync::LazyLock;

use deadpool_postgres::Pool;
use relay_core::control::admin::{DeliveryCounts, EventQuery, EventSummary};
use relay_core::model::event::{Delivery, EventStatus};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::{DeadLetterFilter, StoreError};
use tokio_postgres::Row;
use uuid::Uuid;

use super::{execute, rows};
use crate::error::PgStoreError;
use crate::reads::{DEAD_LETTER_WHERE, FilterParams};
use crate::rows::{self as decode, DELIVERY_COLUMNS, count, get, qualified};

/// The tenant's events (`$1`) by the optional filters `$2` source, `$3` type (a `LIKE` pattern
/// made by [`type_like`]), `$4` since, `$5` until, `$6` key fragment, `$7` cursor (older than),
/// `$8` state (the SQL form of
/// [`EventState::of`](relay_core::control::admin::EventState::of)), `$10` text (an id prefix of
/// the event or of one of its deliveries, in their `evt_…`/`msg_…` form, or a key fragment),
/// `$11` a destination it has a delivery to and `$12` a status one of its attempts was answered
/// with, newest first, at most `$9`. The
/// `(tenant, id)` index yields events in order; each one's deliveries are counted by the
/// lateral subquery on `deliveries_event`, so a page stops after `$9` matches.
const LIST_EVENTS: &str = "
SELECT e.id, e.source, e.event_type, e.idempotency_key, e.received_at, e.status,
    c.pending, c.in_flight, c.delivered, c.dead_lettered, c.discarded
FROM events e
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE d.status = 'pending')::int4 AS pending,
        count(*) FILTER (WHERE d.status = 'in_flight')::int4 AS in_flight,
        count(*) FILTER (WHERE d.status = 'delivered')::int4 AS delivered,
        count(*) FILTER (WHERE d.status = 'dead_lettered')::int4 AS dead_lettered,
        count(*) FILTER (WHERE d.status = 'discarded')::int4 AS discarded,
        count(*)::int4 AS total
    FROM deliveries d WHERE d.event_id = e.id AND d.tenant = e.tenant
) c
WHERE e.tenant = $1::text
    AND ($2::text IS NULL OR e.source = $2::text)
    AND ($3::text IS NULL OR e.event_type LIKE $3::text ESCAPE '\\')
    AND ($4::int8 IS NULL OR e.received_at >= $4::int8)
    AND ($5::int8 IS NULL OR e.received_at < $5::int8)
    AND ($6::text IS NULL OR strpos(e.idempotency_key, $6::text) > 0)
    AND ($7::uuid IS NULL OR e.id < $7::uuid)
    AND ($10::text IS NULL
        OR left('evt_' || replace(e.id::text, '-', ''), length($10::text)) = $10::text
        OR strpos(e.idempotency_key, $10::text) > 0
        OR EXISTS (SELECT 1 FROM deliveries t WHERE t.event_id = e.id AND t.tenant = e.tenant
            AND left('msg_' || replace(t.id::text, '-', ''), length($10::text)) = $10::text))
    AND ($11::text IS NULL OR EXISTS (SELECT 1 FROM deliveries t
        WHERE t.event_id = e.id AND t.tenant = e.tenant AND t.destination = $11::text))
    AND ($12::int4 IS NULL OR EXISTS (SELECT 1 FROM deliveries t
        JOIN attempts a ON a.delivery_id = t.id
        WHERE t.event_id = e.id AND t.tenant = e.tenant AND a.status_code = $12::int4))
    AND ($8::text IS NULL OR $8::text = CASE
        WHEN e.status = 'no_route' AND c.total = 0 THEN 'no_route'
        WHEN c.pending + c.in_flight > 0 THEN 'pending'
        WHEN c.dead_lettered > 0 THEN 'dead_lettered'
        ELSE 'delivered' END)
ORDER BY e.id DESC
LIMIT $9::int8";

static DEAD_LETTER_PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM deliveries d
         WHERE {DEAD_LETTER_WHERE} AND ($6::uuid IS NULL OR d.id > $6::uuid)
         ORDER BY d.id LIMIT $7::int8",
        qualified("d", DELIVERY_COLUMNS)
    )
});

static DISCARD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE deliveries AS d SET status = 'discarded', next_attempt_at = $6::int8,
             updated_at = $6::int8
         WHERE {DEAD_LETTER_WHERE}"
    )
});

fn summary(row: &Row) -> Result<EventSummary, PgStoreError> {
    let status: String = get(row, 5)?;
    Ok(EventSummary {
        id: EventId::from_bytes(get::<Uuid>(row, 0)?.into_bytes()),
        source: get(row, 1)?,
        event_type: get(row, 2)?,
        idempotency_key: get(row, 3)?,
        received_at: Timestamp::from_millis(get(row, 4)?),
        status: EventStatus::parse(&status)
            .ok_or_else(|| PgStoreError::Corrupt(format!("event status {status:?}")))?,
        deliveries: DeliveryCounts {
            pending: count(row, 6)?,
            in_flight: count(row, 7)?,
            delivered: count(row, 8)?,
            dead_lettered: count(row, 9)?,
            discarded: count(row, 10)?,
        },
    })
}

pub(crate) async fn list_events(
    pool: &Pool,
    tenant: &TenantId,
    query: &EventQuery,
    limit: usize,
) -> Result<Vec<EventSummary>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let found = rows(
        pool,
        LIST_EVENTS,
        &[
            &tenant.as_str(),
            &query.source,
            &query.event_type.as_deref().map(type_like),
            &query.since.map(Timestamp::as_millis),
            &query.until.map(Timestamp::as_millis),
            &query.key_contains,
            &query.before.map(|b| b.as_uuid()),
            &query.state.map(|s| s.as_str()),
            &limit,
            &query.text,
            &query.destination,
            &query.response_status.map(i32::from),
        ],
    )
    .await?;
    Ok(found.iter().map(summary).collect::<Result<_, _>>()?)
}

/// An event-type [glob](relay_core::route::Glob) (`*` any run of characters, everything else
/// itself) as a `LIKE … ESCAPE '\'` pattern: `%`, `_` and `\` stand for themselves.
pub(crate) fn type_like(glob: &str) -> String {
    let mut pattern = String::with_capacity(glob.len());
    for c in glob.chars() {
        match c {
            '*' => pattern.push('%'),
            '%' | '_' | '\\' => {
                pattern.push('\\');
                pattern.push(c);
            }
            c => pattern.push(c),
        }
    }
    pattern
}

pub(crate) async fn dead_letter_page(
    pool: &Pool,
    tenant: &TenantId,
    filter: &DeadLetterFilter,
    after: Option<DeliveryId>,
    limit: usize,
) -> Result<Vec<Delivery>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let after = after.map(|a| a.as_uuid());
    let params = FilterParams::new(tenant, filter);
    let [t, d, e, s, since, after] = params.with(&after);
    let found = rows(pool, &DEAD_LETTER_PAGE, &[t, d, e, s, since, after, &limit]).await?;
    Ok(found
        .iter()
        .map(|row| decode::delivery(row, 0))
        .collect::<Result<_, _>>()?)
}

pub(crate) async fn discard_dead_letters(
    pool: &Pool,
    tenant: &TenantId,
    filter: &DeadLetterFilter,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let now = now.as_millis();
    let params = FilterParams::new(tenant, filter);
    execute(pool, &DISCARD, &params.with(&now)).await
}
