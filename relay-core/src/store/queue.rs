//! [`DeliveryQueue`]: the delivery queue: leases with fencing tokens and holders, reclaims,
//! completions, releases, replays.

use async_trait::async_trait;

use std::time::Duration;

use super::{
    AttemptCompletion, DeadLetterFilter, HeldAgent, Lease, LeasedDelivery, NewDelivery,
    ScheduleReport, StoreError,
};
use crate::model::ids::{EventId, NodeId, TenantId};
use crate::model::time::Timestamp;

/// Due deliveries, leased with fencing tokens, completed or released; replays and dead
/// letters move deliveries back into it or out of it for good.
#[async_trait]
pub trait DeliveryQueue: Send + Sync + std::fmt::Debug {
    /// Leases up to `limit` deliveries that are due at `now` (pending ones whose time has come,
    /// and in-flight ones whose lease expired), oldest due first. Each lease lasts `lease_for`
    /// and carries a fresh fencing token. The leases have no holder: they come back when they
    /// expire (or when a store that owns its data alone, like SQLite, is opened again); see
    /// [`DeliveryQueue::lease_due_as`]. Deliveries bound to an agent are not leased (no
    /// agent is held).
    async fn lease_due(
        &self,
        now: Timestamp,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        self.lease_due_as(None, &[], now, limit, lease_for).await
    }

    /// [`DeliveryQueue::lease_due`], recording `holder` (a node's stable identity) on each
    /// lease, so that [`DeliveryQueue::reclaim`] by the same identity (the node's next life)
    /// gives them back at once.
    ///
    /// A delivery with an ordering key is leased only at the head of its lane (same tenant,
    /// destination and key): when no delivery of the lane created before it (earlier in
    /// ingest order) is pending or in flight, or dead-lettered with
    /// [`OnDeadLetter::Block`](crate::deliver::ordering::OnDeadLetter::Block), and no other delivery of
    /// the lane is in flight under an unexpired lease. So at most one delivery per lane is
    /// leased at a time, and the lane advances only when its head is delivered or
    /// dead-lettered.
    ///
    /// A delivery bound to an agent ([`NewDelivery::agent`]) is leased only when that agent
    /// is among `agents`, the agents whose connections the leasing node holds; the others
    /// wait without a write, as deliveries of a disabled destination do.
    async fn lease_due_as(
        &self,
        holder: Option<&NodeId>,
        agents: &[HeldAgent],
        now: Timestamp,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError>;

    /// Gives back at once every in-flight delivery leased by `holder`, expired or not: each is
    /// pending again, due at `now`, without an attempt, and its next lease has a larger
    /// fencing token, so a late completion or release of the old lease changes nothing
    /// ([`StoreError::LeaseLost`]). Called by a node when it starts: the leases recorded under
    /// its identity belong to its previous life. Returns how many came back.
    async fn reclaim(&self, holder: &NodeId, now: Timestamp) -> Result<u64, StoreError>;

    /// Records an attempt and moves the delivery on, if the lease is still held; otherwise
    /// [`StoreError::LeaseLost`] and nothing is written. When an ordered delivery is to be
    /// retried, the pending deliveries behind it on its lane are made due no earlier than it.
    async fn complete_attempt(&self, completion: AttemptCompletion) -> Result<(), StoreError>;

    /// Gives a leased delivery back without an attempt, due again at `due_at` (shutdown,
    /// an open circuit, a rate limit); the pending deliveries behind an ordered one on its
    /// lane are made due no earlier. A lost lease is not an error here.
    async fn release(&self, lease: &Lease, due_at: Timestamp) -> Result<(), StoreError>;

    /// Schedules an event for (re)delivery to `plan`: a destination without a delivery gets a
    /// new one; a pending or dead-lettered one is due again at `now` with a fresh retry
    /// budget; a delivered one is skipped unless `force`; an in-flight one is left alone. An
    /// event marked `no_route` becomes `routed` when anything is scheduled.
    async fn schedule(
        &self,
        tenant: &TenantId,
        event: EventId,
        plan: Vec<NewDelivery>,
        force: bool,
        now: Timestamp,
    ) -> Result<ScheduleReport, StoreError>;

    /// Moves dead-lettered deliveries matching `filter` back to pending, due at `now` with a
    /// fresh retry budget. Returns how many moved; a second call moves none of them again.
    async fn redrive(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Moves dead-lettered deliveries matching `filter` to `discarded` (final: never
    /// attempted again, not redriven). Returns how many moved.
    async fn discard_dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// How many deliveries are pending or in flight, over every tenant (the `relay_queue_depth`
    /// gauge). Called now and then by the delivery worker, so it must be cheap: an index count.
    async fn queue_depth(&self) -> Result<u64, StoreError>;
}
