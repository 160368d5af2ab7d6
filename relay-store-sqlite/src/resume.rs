//! Giving leases back at once: all of them when the owner opens the file, a holder's when a
//! node with that identity starts.

use relay_core::model::ids::NodeId;
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use rusqlite::{Connection, params};

use crate::writes::Db;

/// Makes every in-flight delivery pending again, due at `now`: the owner of the file, just
/// opened, holds none of them, so they were leased by its previous life (or by a store
/// opened before it in this process). Their next lease has a larger fencing token. Returns
/// how many.
pub(crate) fn release_leases(conn: &Connection, now: Timestamp) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?1
         WHERE status = 'in_flight'",
        params![now.as_millis()],
    )
}

/// [`DeliveryQueue::reclaim`](relay_core::store::DeliveryQueue::reclaim): `holder`'s
/// in-flight deliveries pending again, due at `now`.
pub(crate) fn reclaim(
    conn: &Connection,
    holder: &NodeId,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let reclaimed = conn
        .prepare_cached(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = ?2, lease_holder = NULL
             WHERE status = 'in_flight' AND lease_holder = ?1",
        )
        .db()?
        .execute(params![holder.as_str(), now.as_millis()])
        .db()?;
    Ok(reclaimed as u64)
}
