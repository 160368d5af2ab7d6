//! The delivery queue: leases with `FOR UPDATE SKIP LOCKED`, fencing tokens, attempts.
//!
//! A lease is the delivery row in status `in_flight` with `next_attempt_at` set to the
//! lease's expiry, a new `lease_token` ([`NEXT_TOKEN`]) and `lease_holder` set to the leasing
//! node's identity (or NULL), which that node's next life reclaims at once. `SKIP LOCKED` makes concurrent leasers
//! (tasks or nodes) pass over rows another one is taking, so no delivery is handed out
//! twice; an expired lease is just a due `in_flight` row, taken over with a larger token,
//! after which the old holder's writes match no row. Attempt completions are group-committed
//! (see [`crate::complete`]).

use std::sync::LazyLock;
use std::time::Duration;

use deadpool_postgres::Pool;
use relay_core::model::ids::NodeId;
use relay_core::model::time::Timestamp;
use relay_core::store::{HeldAgent, Lease, LeasedDelivery, StoreError};

use crate::error::Db;
use crate::held::{AGENT_HERE, HELD};
use crate::rows::{self, DELIVERY_COLUMNS, EVENT_COLUMNS, get, qualified};

/// A fencing token as stored (a token that does not fit matches no row).
fn token(lease: &Lease) -> i64 {
    i64::try_from(lease.token).unwrap_or(-1)
}

/// The token of a new lease of `d`: larger than its last one, and at least the lease
/// statement's start on the server's clock, in µs.
///
/// The lease commits without waiting for its WAL flush (see [`crate::pools`]), so a
/// server crash can lose it after its holder has started the attempt. The row is then back
/// as it was, and leased again; a token counted up from the lost one's predecessor would
/// be the lost one again, and the first holder's late completion would match the new
/// lease. A token taken from the clock after the restart is later than every token issued
/// before the crash, so the late completion matches nothing, as fencing requires. (Only a
/// server clock stepped back across a crash could bring an old token back, or, after a
/// failover, a standby whose clock is behind the old primary's by more than the failover
/// took: the same lease is lost when a standby is promoted before it received it.)
pub(crate) const NEXT_TOKEN: &str =
    "GREATEST(d.lease_token + 1, (extract(epoch FROM statement_timestamp()) * 1000000)::int8)";

/// The condition that `d` (due at `$1`) is unordered or the head of its lane: no delivery of
/// its lane created before it holds the lane (pending, in flight, or dead-lettered with
/// `on_dead_letter = block`), and none is in flight under an unexpired lease. A concurrent
/// leaser's uncommitted lease of the head leaves it pending in this snapshot, so the rest of
/// the lane stays behind it.
const LANE_HEAD: &str = "(d.ordering_key IS NULL OR NOT EXISTS (
         SELECT 1 FROM deliveries o
         WHERE o.tenant = d.tenant AND o.destination = d.destination
             AND o.ordering_key = d.ordering_key AND o.seq <> d.seq
             AND ((o.seq < d.seq AND (o.status IN ('pending', 'in_flight')
                      OR (o.status = 'dead_lettered' AND o.ordering_block)))
                  OR (o.status = 'in_flight' AND o.next_attempt_at > $1::int8))))";

/// Leases due rows that head their lane, are not held ([`HELD`]) and are bound to no agent or
/// to one this node holds ([`AGENT_HERE`]), oldest due first, skipping rows other leasers hold;
/// returns the token, the delivery (at 1), whether its event exists (at 14) and the event
/// (at 15).
pub(crate) static LEASE_DUE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH due AS (
             SELECT id, seq, next_attempt_at AS due_at FROM deliveries d
             WHERE status IN ('pending', 'in_flight') AND next_attempt_at <= $1::int8
                 AND {LANE_HEAD} AND NOT {HELD} AND {AGENT_HERE}
             ORDER BY next_attempt_at, seq
             LIMIT $2::int8
             FOR UPDATE SKIP LOCKED
         ),
         leased AS (
             UPDATE deliveries d SET status = 'in_flight', next_attempt_at = $3::int8,
                 lease_token = {NEXT_TOKEN}, updated_at = $1::int8,
                 lease_holder = $4::text
             FROM due WHERE d.id = due.id
             RETURNING due.due_at, due.seq AS due_seq, d.lease_token, {delivery}
         )
         SELECT l.lease_token, {leased}, e.id IS NOT NULL, {event}
         FROM leased l LEFT JOIN events e ON e.id = l.event_id AND e.tenant = l.tenant
         ORDER BY l.due_at, l.due_seq",
        delivery = qualified("d", DELIVERY_COLUMNS),
        leased = qualified("l", DELIVERY_COLUMNS),
        event = qualified("e", EVENT_COLUMNS),
    )
});

/// [`DeliveryQueue::lease_due_as`](relay_core::store::DeliveryQueue::lease_due_as): one
/// statement.
pub(crate) async fn lease_due(
    pool: &Pool,
    holder: Option<&NodeId>,
    agents: &[HeldAgent],
    now: Timestamp,
    limit: usize,
    lease_for: Duration,
) -> Result<Vec<LeasedDelivery>, StoreError> {
    let agents: Vec<String> = agents.iter().map(HeldAgent::key).collect();
    let client = pool.get().await.db()?;
    let statement = client.prepare_cached(&LEASE_DUE).await.db()?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let expires = now.plus(lease_for).as_millis();
    let rows = client
        .query(
            &statement,
            &[
                &now.as_millis(),
                &limit,
                &expires,
                &holder.map(NodeId::as_str),
                &agents,
            ],
        )
        .await
        .db()?;
    let mut leased = Vec::with_capacity(rows.len());
    for row in &rows {
        let token: i64 = get(row, 0)?;
        let delivery = rows::delivery(row, 1)?;
        let has_event: bool = get(row, 14)?;
        if !has_event {
            return Err(StoreError::Corrupt(format!(
                "delivery {} without its event",
                delivery.id
            )));
        }
        let event = rows::event(row, 15)?;
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

/// [`DeliveryQueue::reclaim`](relay_core::store::DeliveryQueue::reclaim): `holder`'s
/// in-flight deliveries pending again, due at `now`. A row another node is taking over at
/// the same moment (its lease expired) is re-checked after that node's commit and is no
/// longer `holder`'s.
pub(crate) async fn reclaim(
    pool: &Pool,
    holder: &NodeId,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let client = pool.get().await.db()?;
    let statement = client
        .prepare_cached(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $2::int8,
                 lease_holder = NULL
             WHERE status = 'in_flight' AND lease_holder = $1::text",
        )
        .await
        .db()?;
    client
        .execute(&statement, &[&holder.as_str(), &now.as_millis()])
        .await
        .db()
}

/// Run after a head was made due again at `$1`: the pending deliveries behind it on its lane
/// (which cannot go before it) are made due no earlier, so leasing does not pass over them
/// meanwhile. `held` is the head's row as `RETURNING tenant, destination, ordering_key, seq`.
const HOLD_LANE: &str = "
UPDATE deliveries f SET next_attempt_at = $1::int8
FROM held h
WHERE h.ordering_key IS NOT NULL AND f.tenant = h.tenant AND f.destination = h.destination
    AND f.ordering_key = h.ordering_key AND f.seq > h.seq
    AND f.status = 'pending' AND f.next_attempt_at < $1::int8";

/// Releases the delivery `$2` of tenant `$3` under token `$4`, due at `$1`, and holds its lane.
static RELEASE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH held AS (
             UPDATE deliveries SET status = 'pending', next_attempt_at = $1::int8
             WHERE id = $2::uuid AND tenant = $3::text AND lease_token = $4::int8
                 AND status = 'in_flight'
             RETURNING tenant, destination, ordering_key, seq
         ){HOLD_LANE}"
    )
});

/// [`DeliveryQueue::release`](relay_core::store::DeliveryQueue::release).
pub(crate) async fn release(
    pool: &Pool,
    lease: &Lease,
    due_at: Timestamp,
) -> Result<(), StoreError> {
    let client = pool.get().await.db()?;
    let statement = client.prepare_cached(&RELEASE).await.db()?;
    client
        .execute(
            &statement,
            &[
                &due_at.as_millis(),
                &lease.delivery_id.as_uuid(),
                &lease.tenant.as_str(),
                &token(lease),
            ],
        )
        .await
        .db()?;
    Ok(())
}
