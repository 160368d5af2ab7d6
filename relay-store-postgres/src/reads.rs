//! Reads, each one prepared statement on a pooled connection, always scoped by tenant.

use std::sync::LazyLock;

use deadpool_postgres::Pool;
use relay_core::model::event::{Attempt, Delivery, Event};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::{DeadLetterFilter, StoreError};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::error::{Db, PgStoreError};
use crate::rows::{self, ATTEMPT_COLUMNS, DELIVERY_COLUMNS, EVENT_COLUMNS, qualified};

static EVENT: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1::uuid AND tenant = $2::text")
});

static DELIVERIES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries
         WHERE event_id = $1::uuid AND tenant = $2::text ORDER BY seq"
    )
});

static DELIVERY: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1::uuid AND tenant = $2::text")
});

static ATTEMPTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts
         WHERE delivery_id = $1::uuid AND tenant = $2::text ORDER BY seq"
    )
});

/// The WHERE clause selecting a tenant's dead letters `d` by a [`DeadLetterFilter`] bound as
/// `$1` tenant, `$2` destination, `$3` event id, `$4` source, `$5` since (NULL: any).
pub(crate) const DEAD_LETTER_WHERE: &str = "d.tenant = $1::text AND d.status = 'dead_lettered'
    AND ($2::text IS NULL OR d.destination = $2::text)
    AND ($3::uuid IS NULL OR d.event_id = $3::uuid)
    AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM events e
         WHERE e.id = d.event_id AND e.tenant = d.tenant AND e.source = $4::text))
    AND ($5::int8 IS NULL OR d.updated_at >= $5::int8)";

static DEAD_LETTERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM deliveries d WHERE {DEAD_LETTER_WHERE}
         ORDER BY d.updated_at, d.id LIMIT $6::int8",
        qualified("d", DELIVERY_COLUMNS)
    )
});

/// A [`DeadLetterFilter`]'s values for `$1` to `$5` of [`DEAD_LETTER_WHERE`].
pub(crate) struct FilterParams<'a> {
    tenant: &'a str,
    destination: Option<&'a str>,
    event: Option<Uuid>,
    source: Option<&'a str>,
    since: Option<i64>,
}

impl<'a> FilterParams<'a> {
    pub(crate) fn new(tenant: &'a TenantId, filter: &'a DeadLetterFilter) -> Self {
        Self {
            tenant: tenant.as_str(),
            destination: filter.destination.as_deref(),
            event: filter.event_id.map(|e| e.as_uuid()),
            source: filter.source.as_deref(),
            since: filter.since.map(Timestamp::as_millis),
        }
    }

    /// The five parameters followed by `extra`.
    pub(crate) fn with<'p>(&'p self, extra: &'p (dyn ToSql + Sync)) -> [&'p (dyn ToSql + Sync); 6] {
        [
            &self.tenant,
            &self.destination,
            &self.event,
            &self.source,
            &self.since,
            extra,
        ]
    }
}

async fn query(
    pool: &Pool,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, StoreError> {
    let client = pool.get().await.db()?;
    let statement = client.prepare_cached(sql).await.db()?;
    client.query(&statement, params).await.db()
}

fn deliveries_of(rows: &[tokio_postgres::Row]) -> Result<Vec<Delivery>, StoreError> {
    Ok(rows
        .iter()
        .map(|row| rows::delivery(row, 0))
        .collect::<Result<_, PgStoreError>>()?)
}

pub(crate) async fn event(
    pool: &Pool,
    tenant: &TenantId,
    id: EventId,
) -> Result<Option<Event>, StoreError> {
    let rows = query(pool, &EVENT, &[&id.as_uuid(), &tenant.as_str()]).await?;
    Ok(rows.first().map(|row| rows::event(row, 0)).transpose()?)
}

pub(crate) async fn deliveries(
    pool: &Pool,
    tenant: &TenantId,
    event: EventId,
) -> Result<Vec<Delivery>, StoreError> {
    let rows = query(pool, &DELIVERIES, &[&event.as_uuid(), &tenant.as_str()]).await?;
    deliveries_of(&rows)
}

pub(crate) async fn delivery(
    pool: &Pool,
    tenant: &TenantId,
    id: DeliveryId,
) -> Result<Option<Delivery>, StoreError> {
    let rows = query(pool, &DELIVERY, &[&id.as_uuid(), &tenant.as_str()]).await?;
    Ok(rows.first().map(|row| rows::delivery(row, 0)).transpose()?)
}

pub(crate) async fn attempts(
    pool: &Pool,
    tenant: &TenantId,
    delivery: DeliveryId,
) -> Result<Vec<Attempt>, StoreError> {
    let rows = query(pool, &ATTEMPTS, &[&delivery.as_uuid(), &tenant.as_str()]).await?;
    Ok(rows
        .iter()
        .map(rows::attempt)
        .collect::<Result<_, PgStoreError>>()?)
}

pub(crate) async fn dead_letters(
    pool: &Pool,
    tenant: &TenantId,
    filter: &DeadLetterFilter,
    limit: usize,
) -> Result<Vec<Delivery>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let params = FilterParams::new(tenant, filter);
    let rows = query(pool, &DEAD_LETTERS, &params.with(&limit)).await?;
    deliveries_of(&rows)
}

pub(crate) async fn ping(pool: &Pool) -> Result<(), StoreError> {
    let client = pool.get().await.db()?;
    client.simple_query("SELECT 1").await.db()?;
    Ok(())
}

/// Pending and in-flight deliveries of every tenant (counted on the `deliveries_due` index).
pub(crate) async fn queue_depth(pool: &Pool) -> Result<u64, StoreError> {
    let client = pool.get().await.db()?;
    let row = client
        .query_one(
            "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'in_flight')",
            &[],
        )
        .await
        .db()?;
    let count: i64 = row.try_get(0).db()?;
    Ok(u64::try_from(count).unwrap_or(0))
}
