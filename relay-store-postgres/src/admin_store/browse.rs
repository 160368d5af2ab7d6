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

/// [`LIST_EVENTS`] for one event, `$13`, found by key: what an exact id in the search text
/// becomes (the text itself, `$10`, is then NULL).
static LIST_ONE_EVENT: LazyLock<String> = LazyLock::new(|| {
    LIST_EVENTS.replacen(
        "WHERE e.tenant = $1::text",
        "WHERE e.tenant = $1::text AND e.id = $13::uuid",
        1,
    )
});

/// The event `$1` if it is the tenant's (`$2`): a primary-key lookup.
const EVENT_BY_ID: &str = "SELECT id FROM events WHERE id = $1::uuid AND tenant = $2::text";
/// The event of delivery `$1` if it is the tenant's (`$2`): a primary-key lookup.
const EVENT_BY_DELIVERY: &str =
    "SELECT event_id FROM deliveries WHERE id = $1::uuid AND tenant = $2::text";

/// [`EventLog::list_events`](relay_core::store::EventLog::list_events). Search text that is
/// exactly the id of one of the tenant's events or deliveries is a key lookup; other text is
/// matched against every event (an id prefix, a key fragment).
pub(crate) async fn list_events(
    pool: &Pool,
    tenant: &TenantId,
    query: &EventQuery,
    limit: usize,
) -> Result<Vec<EventSummary>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let exact = match query.text.as_deref() {
        Some(text) => exact_event(pool, tenant, text).await?,
        None => None,
    };
    let text = if exact.is_some() {
        None
    } else {
        query.text.as_deref()
    };
    let (tenant, event_type, before) = (
        tenant.as_str(),
        query.event_type.as_deref().map(type_like),
        query.before.map(|b| b.as_uuid()),
    );
    let (since, until) = (
        query.since.map(Timestamp::as_millis),
        query.until.map(Timestamp::as_millis),
    );
    let (state, status) = (
        query.state.map(|s| s.as_str()),
        query.response_status.map(i32::from),
    );
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![
        &tenant,
        &query.source,
        &event_type,
        &since,
        &until,
        &query.key_contains,
        &before,
        &state,
        &limit,
        &text,
        &query.destination,
        &status,
    ];
    let found = match &exact {
        Some(id) => {
            params.push(id);
            rows(pool, &LIST_ONE_EVENT, &params).await?
        }
        None => rows(pool, LIST_EVENTS, &params).await?,
    };
    Ok(found.iter().map(summary).collect::<Result<_, _>>()?)
}

/// The tenant's event that `text` names exactly (its `evt_…` id, or the `msg_…` id of one of
/// its deliveries, as the API writes them), by a primary-key lookup; `None` when `text` is no
/// such id or names nothing of the tenant's.
async fn exact_event(
    pool: &Pool,
    tenant: &TenantId,
    text: &str,
) -> Result<Option<Uuid>, StoreError> {
    let (sql, key) = match (text.parse::<EventId>(), text.parse::<DeliveryId>()) {
        (Ok(id), _) if id.to_string() == text => (EVENT_BY_ID, id.as_uuid()),
        (_, Ok(id)) if id.to_string() == text => (EVENT_BY_DELIVERY, id.as_uuid()),
        _ => return Ok(None),
    };
    let found = rows(pool, sql, &[&key, &tenant.as_str()]).await?;
    Ok(match found.first() {
        Some(row) => Some(get::<Uuid>(row, 0)?),
        None => None,
    })
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
