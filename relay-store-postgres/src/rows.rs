//! Mapping between rows and relay-core's records.

use bytes::Bytes;
use relay_core::model::attempt_detail::AttemptDetail;
use relay_core::model::event::{
    Attempt, AttemptOutcome, Delivery, DeliveryStatus, Event, EventStatus,
};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::codec::decode_headers;
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;
use uuid::Uuid;

use crate::error::PgStoreError;

/// The event columns [`event`] reads, in order.
pub(crate) const EVENT_COLUMNS: &str =
    "tenant, id, source, event_type, idempotency_key, headers, body, received_at, status";

/// The delivery columns [`delivery`] reads, in order.
pub(crate) const DELIVERY_COLUMNS: &str = "tenant, id, event_id, destination, route, status, \
     attempts, cycle_attempts, next_attempt_at, last_error, created_at, updated_at, ordering_key";

/// The attempt columns [`attempt`] reads, in order.
pub(crate) const ATTEMPT_COLUMNS: &str = "delivery_id, number, started_at, latency_ms, status_code, error, response_excerpt, outcome, \
     detail, request_body";

/// `DELIVERY_COLUMNS` qualified by a table alias, e.g. `d.tenant, d.id, …`.
pub(crate) fn qualified(alias: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn corrupt(what: impl Into<String>) -> PgStoreError {
    PgStoreError::Corrupt(what.into())
}

/// Column `index`; a missing column or a type that does not decode is a corrupt row.
pub(crate) fn get<'r, T: FromSql<'r>>(row: &'r Row, index: usize) -> Result<T, PgStoreError> {
    row.try_get(index)
        .map_err(|e| corrupt(format!("column {index}: {e}")))
}

/// A client address stored as text (NULL: not known).
pub(crate) fn client(row: &Row, index: usize) -> Result<Option<std::net::IpAddr>, PgStoreError> {
    let text: Option<String> = get(row, index)?;
    text.map(|t| {
        t.parse()
            .map_err(|_| corrupt(format!("column {index}: not an IP address")))
    })
    .transpose()
}

fn time(row: &Row, index: usize) -> Result<Timestamp, PgStoreError> {
    Ok(Timestamp::from_millis(get(row, index)?))
}

pub(crate) fn count(row: &Row, index: usize) -> Result<u32, PgStoreError> {
    let value: i32 = get(row, index)?;
    u32::try_from(value).map_err(|_| corrupt(format!("negative count {value}")))
}

/// An event from `EVENT_COLUMNS` starting at `at`.
pub(crate) fn event(row: &Row, at: usize) -> Result<Event, PgStoreError> {
    let headers: Vec<u8> = get(row, at + 5)?;
    let status: String = get(row, at + 8)?;
    Ok(Event {
        tenant: TenantId::new(get::<String>(row, at)?),
        id: EventId::from_bytes(get::<Uuid>(row, at + 1)?.into_bytes()),
        source: get(row, at + 2)?,
        event_type: get(row, at + 3)?,
        idempotency_key: get(row, at + 4)?,
        headers: decode_headers(&headers).map_err(|e| corrupt(e.to_string()))?,
        body: Bytes::from(get::<Vec<u8>>(row, at + 6)?),
        received_at: time(row, at + 7)?,
        status: EventStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("event status {status:?}")))?,
    })
}

/// A delivery from `DELIVERY_COLUMNS` starting at `at`.
pub(crate) fn delivery(row: &Row, at: usize) -> Result<Delivery, PgStoreError> {
    let status: String = get(row, at + 5)?;
    Ok(Delivery {
        tenant: TenantId::new(get::<String>(row, at)?),
        id: DeliveryId::from_bytes(get::<Uuid>(row, at + 1)?.into_bytes()),
        event_id: EventId::from_bytes(get::<Uuid>(row, at + 2)?.into_bytes()),
        destination: get(row, at + 3)?,
        route: get(row, at + 4)?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("delivery status {status:?}")))?,
        attempts: count(row, at + 6)?,
        cycle_attempts: count(row, at + 7)?,
        next_attempt_at: time(row, at + 8)?,
        last_error: get(row, at + 9)?,
        created_at: time(row, at + 10)?,
        updated_at: time(row, at + 11)?,
        ordering_key: get(row, at + 12)?,
    })
}

/// An attempt from `ATTEMPT_COLUMNS`.
pub(crate) fn attempt(row: &Row) -> Result<Attempt, PgStoreError> {
    let outcome: String = get(row, 7)?;
    let latency: i64 = get(row, 3)?;
    let status_code: Option<i32> = get(row, 4)?;
    Ok(Attempt {
        delivery_id: DeliveryId::from_bytes(get::<Uuid>(row, 0)?.into_bytes()),
        number: count(row, 1)?,
        started_at: time(row, 2)?,
        latency_ms: u32::try_from(latency).map_err(|_| corrupt(format!("latency {latency}")))?,
        status_code: status_code
            .map(|c| u16::try_from(c).map_err(|_| corrupt(format!("status code {c}"))))
            .transpose()?,
        error: get(row, 5)?,
        response_excerpt: get(row, 6)?,
        outcome: AttemptOutcome::parse(&outcome)
            .ok_or_else(|| corrupt(format!("attempt outcome {outcome:?}")))?,
        detail: AttemptDetail::from_stored(
            get::<Option<String>>(row, 8)?.as_deref(),
            get::<Option<Vec<u8>>>(row, 9)?.map(Bytes::from),
        )
        .map_err(|e| corrupt(format!("attempt detail: {e}")))?,
    })
}
