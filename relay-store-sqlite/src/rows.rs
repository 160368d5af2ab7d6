//! Mapping between rows and relay-core's records.

use bytes::Bytes;
use relay_core::model::attempt_detail::AttemptDetail;
use relay_core::model::event::{
    Attempt, AttemptOutcome, Delivery, DeliveryStatus, Event, EventStatus,
};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::codec::decode_headers;
use rusqlite::Row;
use rusqlite::types::Type;

/// The event columns [`event`] reads, in order.
pub(crate) const EVENT_COLUMNS: &str =
    "tenant, id, source, event_type, idempotency_key, headers, body, received_at, status";

/// The delivery columns [`delivery`] reads, in order.
pub(crate) const DELIVERY_COLUMNS: &str = "tenant, id, event_id, destination, route, status, \
     attempts, cycle_attempts, next_attempt_at, last_error, created_at, updated_at, ordering_key";

/// The attempt columns [`attempt`] reads, in order.
pub(crate) const ATTEMPT_COLUMNS: &str = "delivery_id, number, started_at, latency_ms, status_code, error, response_excerpt, outcome, \
     detail, request_body";

pub(crate) fn corrupt(index: usize, reason: impl Into<String>) -> rusqlite::Error {
    let reason: String = reason.into();
    rusqlite::Error::FromSqlConversionFailure(index, Type::Text, reason.into())
}

pub(crate) fn id16(row: &Row<'_>, index: usize) -> rusqlite::Result<[u8; 16]> {
    let bytes: Vec<u8> = row.get(index)?;
    bytes
        .try_into()
        .map_err(|_| corrupt(index, "id is not 16 bytes"))
}

pub(crate) fn time(row: &Row<'_>, index: usize) -> rusqlite::Result<Timestamp> {
    Ok(Timestamp::from_millis(row.get(index)?))
}

/// A client address stored as text (NULL: not known).
pub(crate) fn client(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<std::net::IpAddr>> {
    let text: Option<String> = row.get(index)?;
    text.map(|t| t.parse().map_err(|_| corrupt(index, "not an IP address")))
        .transpose()
}

/// An event from `EVENT_COLUMNS` starting at `at`.
pub(crate) fn event(row: &Row<'_>, at: usize) -> rusqlite::Result<Event> {
    let headers: Vec<u8> = row.get(at + 5)?;
    let status: String = row.get(at + 8)?;
    Ok(Event {
        tenant: TenantId::new(row.get::<_, String>(at)?),
        id: EventId::from_bytes(id16(row, at + 1)?),
        source: row.get(at + 2)?,
        event_type: row.get(at + 3)?,
        idempotency_key: row.get(at + 4)?,
        headers: decode_headers(&headers).map_err(|e| corrupt(at + 5, e.to_string()))?,
        body: Bytes::from(row.get::<_, Vec<u8>>(at + 6)?),
        received_at: time(row, at + 7)?,
        status: EventStatus::parse(&status)
            .ok_or_else(|| corrupt(at + 8, format!("event status {status:?}")))?,
    })
}

/// A delivery from `DELIVERY_COLUMNS` starting at `at`.
pub(crate) fn delivery(row: &Row<'_>, at: usize) -> rusqlite::Result<Delivery> {
    let status: String = row.get(at + 5)?;
    Ok(Delivery {
        tenant: TenantId::new(row.get::<_, String>(at)?),
        id: DeliveryId::from_bytes(id16(row, at + 1)?),
        event_id: EventId::from_bytes(id16(row, at + 2)?),
        destination: row.get(at + 3)?,
        route: row.get(at + 4)?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt(at + 5, format!("delivery status {status:?}")))?,
        attempts: row.get(at + 6)?,
        cycle_attempts: row.get(at + 7)?,
        next_attempt_at: time(row, at + 8)?,
        last_error: row.get(at + 9)?,
        created_at: time(row, at + 10)?,
        updated_at: time(row, at + 11)?,
        ordering_key: row.get(at + 12)?,
    })
}

/// An attempt from `ATTEMPT_COLUMNS`.
pub(crate) fn attempt(row: &Row<'_>) -> rusqlite::Result<Attempt> {
    let outcome: String = row.get(7)?;
    Ok(Attempt {
        delivery_id: DeliveryId::from_bytes(id16(row, 0)?),
        number: row.get(1)?,
        started_at: time(row, 2)?,
        latency_ms: row.get(3)?,
        status_code: row.get(4)?,
        error: row.get(5)?,
        response_excerpt: row.get(6)?,
        outcome: AttemptOutcome::parse(&outcome)
            .ok_or_else(|| corrupt(7, format!("attempt outcome {outcome:?}")))?,
        detail: AttemptDetail::from_stored(
            row.get::<_, Option<String>>(8)?.as_deref(),
            row.get::<_, Option<Vec<u8>>>(9)?.map(Bytes::from),
        )
        .map_err(|e| corrupt(8, format!("attempt detail: {e}")))?,
    })
}
