//! Browsing: event listings with delivery counts, dead-letter pages, discarding.

use relay_core::control::admin::{DeliveryCounts, EventQuery, EventSummary};
use relay_core::model::event::{Delivery, EventStatus};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::{DeadLetterFilter, StoreError};
use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::rows::{self, DELIVERY_COLUMNS, corrupt, id16, time};
use crate::writes::{DEAD_LETTER_WHERE, Db, dead_letter_params};

/// The tenant's events (`?1`) by the optional filters `?2` source, `?3` type (a SQLite `GLOB`
/// made by [`type_glob`]), `?4` since, `?5` until, `?6` key fragment, `?7` cursor (older
/// than), `?8` state (the SQL form of
/// [`EventState::of`](relay_core::control::admin::EventState::of)), `?10` text (an id prefix of
/// the event or of one of its deliveries, in their `evt_…`/`msg_…` form, or a key fragment),
/// `?11` a destination it has a delivery to and `?12` a status one of its attempts was answered
/// with, newest first, at most `?9`. The `(tenant, id)` index yields the rows in order, so a
/// page stops after `?9` groups.
pub(crate) const LIST_EVENTS: &str = "
SELECT e.id, e.source, e.event_type, e.idempotency_key, e.received_at, e.status,
    count(CASE WHEN d.status = 'pending' THEN 1 END) AS pending,
    count(CASE WHEN d.status = 'in_flight' THEN 1 END) AS in_flight,
    count(CASE WHEN d.status = 'delivered' THEN 1 END) AS delivered,
    count(CASE WHEN d.status = 'dead_lettered' THEN 1 END) AS dead_lettered,
    count(CASE WHEN d.status = 'discarded' THEN 1 END) AS discarded,
    count(d.id) AS total
FROM events e
LEFT JOIN deliveries d ON d.event_id = e.id AND d.tenant = e.tenant
WHERE e.tenant = ?1
    AND (?2 IS NULL OR e.source = ?2)
    AND (?3 IS NULL OR e.event_type GLOB ?3)
    AND (?4 IS NULL OR e.received_at >= ?4)
    AND (?5 IS NULL OR e.received_at < ?5)
    AND (?6 IS NULL OR instr(e.idempotency_key, ?6) > 0)
    AND (?7 IS NULL OR e.id < ?7)
    AND (?10 IS NULL OR substr('evt_' || lower(hex(e.id)), 1, length(?10)) = ?10
        OR instr(e.idempotency_key, ?10) > 0
        OR EXISTS (SELECT 1 FROM deliveries t WHERE t.event_id = e.id AND t.tenant = e.tenant
            AND substr('msg_' || lower(hex(t.id)), 1, length(?10)) = ?10))
    AND (?11 IS NULL OR EXISTS (SELECT 1 FROM deliveries t
        WHERE t.event_id = e.id AND t.tenant = e.tenant AND t.destination = ?11))
    AND (?12 IS NULL OR EXISTS (SELECT 1 FROM deliveries t
        JOIN attempts a ON a.delivery_id = t.id
        WHERE t.event_id = e.id AND t.tenant = e.tenant AND a.status_code = ?12))
GROUP BY e.id
HAVING ?8 IS NULL OR ?8 = CASE
    WHEN e.status = 'no_route' AND total = 0 THEN 'no_route'
    WHEN pending + in_flight > 0 THEN 'pending'
    WHEN dead_lettered > 0 THEN 'dead_lettered'
    ELSE 'delivered' END
ORDER BY e.id DESC
LIMIT ?9";

fn count(row: &Row<'_>, index: usize) -> rusqlite::Result<u32> {
    row.get(index)
}

fn summary(row: &Row<'_>) -> rusqlite::Result<EventSummary> {
    let status: String = row.get(5)?;
    Ok(EventSummary {
        id: EventId::from_bytes(id16(row, 0)?),
        source: row.get(1)?,
        event_type: row.get(2)?,
        idempotency_key: row.get(3)?,
        received_at: time(row, 4)?,
        status: EventStatus::parse(&status)
            .ok_or_else(|| corrupt(5, format!("event status {status:?}")))?,
        deliveries: DeliveryCounts {
            pending: count(row, 6)?,
            in_flight: count(row, 7)?,
            delivered: count(row, 8)?,
            dead_lettered: count(row, 9)?,
            discarded: count(row, 10)?,
        },
    })
}

/// [`LIST_EVENTS`] for one event, `?13`, found by key: what an exact id in the search text
/// becomes (the text itself, `?10`, is then NULL).
pub(crate) static LIST_ONE_EVENT: LazyLock<String> = LazyLock::new(|| {
    LIST_EVENTS.replacen(
        "WHERE e.tenant = ?1",
        "WHERE e.tenant = ?1 AND e.id = ?13",
        1,
    )
});

/// [`EventLog::list_events`](relay_core::store::EventLog::list_events). Search text that is
/// exactly the id of one of the tenant's events or deliveries is a key lookup; other text is
/// matched against every event (an id prefix, a key fragment).
pub(crate) fn list_events(
    conn: &Connection,
    tenant: &TenantId,
    query: &EventQuery,
    limit: usize,
) -> Result<Vec<EventSummary>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let exact = match query.text.as_deref() {
        Some(text) => exact_event(conn, tenant, text)?,
        None => None,
    };
    let text = if exact.is_some() {
        None
    } else {
        query.text.as_deref()
    };
    let filters = params![
        tenant.as_str(),
        query.source,
        query.event_type.as_deref().map(type_glob),
        query.since.map(Timestamp::as_millis),
        query.until.map(Timestamp::as_millis),
        query.key_contains,
        query.before.map(|b| b.as_bytes().to_vec()),
        query.state.map(|s| s.as_str()),
        limit,
        text,
        query.destination,
        query.response_status,
    ];
    let found = match exact {
        Some(id) => {
            let id = id.as_bytes().to_vec();
            let mut all = filters.to_vec();
            all.push(&id);
            conn.prepare_cached(&LIST_ONE_EVENT)
                .db()?
                .query_map(all.as_slice(), summary)
                .db()?
                .collect::<rusqlite::Result<_>>()
        }
        None => conn
            .prepare_cached(LIST_EVENTS)
            .db()?
            .query_map(filters, summary)
            .db()?
            .collect::<rusqlite::Result<_>>(),
    };
    found.db()
}

/// The event `?1` if it is the tenant's (`?2`): a lookup in the unique index of event ids.
pub(crate) const EVENT_BY_ID: &str = "SELECT id FROM events WHERE id = ?1 AND tenant = ?2";
/// The event of delivery `?1` if it is the tenant's (`?2`): a lookup in the unique index of
/// delivery ids.
pub(crate) const EVENT_BY_DELIVERY: &str =
    "SELECT event_id FROM deliveries WHERE id = ?1 AND tenant = ?2";

/// The tenant's event that `text` names exactly (its `evt_…` id, or the `msg_…` id of one of
/// its deliveries, as the API writes them), by a primary-key lookup; `None` when `text` is no
/// such id or names nothing of the tenant's.
fn exact_event(
    conn: &Connection,
    tenant: &TenantId,
    text: &str,
) -> Result<Option<EventId>, StoreError> {
    let (sql, key) = match (text.parse::<EventId>(), text.parse::<DeliveryId>()) {
        (Ok(id), _) if id.to_string() == text => (EVENT_BY_ID, id.as_bytes().to_vec()),
        (_, Ok(id)) if id.to_string() == text => (EVENT_BY_DELIVERY, id.as_bytes().to_vec()),
        _ => return Ok(None),
    };
    conn.prepare_cached(sql)
        .db()?
        .query_row(params![key, tenant.as_str()], |row| id16(row, 0))
        .optional()
        .db()
        .map(|found| found.map(EventId::from_bytes))
}

/// An event-type [glob](relay_core::route::Glob) (`*` any run of characters, everything else
/// itself) as a SQLite `GLOB` pattern: `?` and `[` stand for themselves.
pub(crate) fn type_glob(glob: &str) -> String {
    let mut pattern = String::with_capacity(glob.len());
    for c in glob.chars() {
        match c {
            '?' => pattern.push_str("[?]"),
            '[' => pattern.push_str("[[]"),
            c => pattern.push(c),
        }
    }
    pattern
}

/// The dead letters matching [`DEAD_LETTER_WHERE`] with ids after `?6`, by id, at most `?7`.
pub(crate) fn dead_letter_page_sql() -> String {
    let columns = DELIVERY_COLUMNS
        .split(", ")
        .map(|c| format!("d.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {columns} FROM deliveries d
         WHERE {DEAD_LETTER_WHERE} AND (?6 IS NULL OR d.id > ?6)
         ORDER BY d.id LIMIT ?7"
    )
}

/// [`EventLog::dead_letter_page`](relay_core::store::EventLog::dead_letter_page).
pub(crate) fn dead_letter_page(
    conn: &Connection,
    tenant: &TenantId,
    filter: &DeadLetterFilter,
    after: Option<DeliveryId>,
    limit: usize,
) -> Result<Vec<Delivery>, StoreError> {
    let (t, dest, event, source, since) = dead_letter_params(tenant, filter);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    conn.prepare_cached(&dead_letter_page_sql())
        .db()?
        .query_map(
            params![
                t,
                dest,
                event,
                source,
                since,
                after.map(|a| a.as_bytes().to_vec()),
                limit
            ],
            |row| rows::delivery(row, 0),
        )
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()
}

/// [`DeliveryQueue::discard_dead_letters`](relay_core::store::DeliveryQueue::discard_dead_letters):
/// one UPDATE; `discarded` is outside the due index and every redrive and lease query.
pub(crate) fn discard_dead_letters(
    conn: &Connection,
    tenant: &TenantId,
    filter: &DeadLetterFilter,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let (t, dest, event, source, since) = dead_letter_params(tenant, filter);
    let moved = conn
        .prepare_cached(&format!(
            "UPDATE deliveries AS d SET status = 'discarded', next_attempt_at = ?6,
                 updated_at = ?6
             WHERE {DEAD_LETTER_WHERE}"
        ))
        .db()?
        .execute(params![t, dest, event, source, since, now.as_millis()])
        .db()?;
    Ok(moved as u64)
}
