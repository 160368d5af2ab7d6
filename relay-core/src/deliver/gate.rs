//! What a leased delivery passes before it is attempted: a paused destination (see
//! [`super::pause`]), its agent
//! connected to this node, its in-flight cap, its `max_per_second` throttle, its circuit breaker, and its route's rate limit. A delivery stopped here goes back to
//! the queue without an attempt being made or counted.

use std::time::Duration;

use crate::catalog::Catalog;
use crate::deliver::circuit::Signal;
use crate::deliver::circuit_gate::{CircuitTicket, jitter};
use crate::ingest::limit::RateDecision;
use crate::model::event::Delivery;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::relay::{InFlightSlot, Relay};
use crate::store::Lease;

/// How long a delivery to a paused destination waits before it is looked at again.
const PAUSED_RECHECK: Duration = Duration::from_secs(30);
/// How long a delivery leased by a node its agent is not connected to waits.
const AGENT_RECHECK: Duration = Duration::from_secs(1);
/// How long a delivery over its destination's in-flight cap waits (plus jitter).
const IN_FLIGHT_RECHECK: Duration = Duration::from_millis(100);

/// A delivery cleared to be attempted, and what it holds while it is.
#[derive(Debug, Default)]
pub(crate) struct Pass {
    _slot: Option<InFlightSlot>,
    pub(crate) circuit: Option<CircuitTicket>,
}

impl Relay {
    /// Clears a leased delivery for its attempt, or puts it back in the queue (and returns
    /// `None`). At most the destination's own `max_in_flight`, else `per_destination`,
    /// attempts to one destination are in flight at once.
    pub(crate) async fn clear_for_attempt(
        &self,
        catalog: &Catalog,
        delivery: &Delivery,
        lease: &Lease,
        per_destination: usize,
    ) -> Option<Pass> {
        let now = Timestamp::now();
        if self.holds_paused(&delivery.destination).await {
            self.defer(lease, now.plus(PAUSED_RECHECK)).await;
            return None;
        }
        let Some(destination) = catalog.destination(&delivery.destination) else {
            // The attempt records the missing destination and dead-letters the delivery.
            return Some(Pass::default());
        };
        if let Some(agent) = destination.agent_name()
            && !self.agent_hub().is_connected(&self.held_agent(agent))
        {
            // Leased just before its agent left this node (or stored before deliveries named
            // their agent): due again shortly, for a node that holds the agent; a delivery
            // that names its agent then waits, unleased, until one does.
            tracing::debug!(agent, "agent not connected to this node; delivery put back");
            self.defer(lease, now.plus(AGENT_RECHECK)).await;
            return None;
        }
        let cap = destination
            .in_flight_cap()
            .unwrap_or(per_destination)
            .max(1);
        let slot = match self.in_flight_slot(destination.name(), cap) {
            Some(slot) => Some(slot),
            None => {
                let wait = IN_FLIGHT_RECHECK + jitter(IN_FLIGHT_RECHECK);
                self.defer(lease, now.plus(wait)).await;
                return None;
            }
        };
        if let Some(per_second) = destination.per_second_cap()
            && let Some(wait) = self
                .throttle_or_wait(&lease.tenant, destination.name(), per_second, now)
                .await
        {
            let delay = self
                .throttles()
                .get(destination.name(), per_second)
                .deferral(wait);
            tracing::trace!(
                destination = destination.name(),
                ?delay,
                "over max_per_second; deferred"
            );
            self.defer(lease, now.plus(delay)).await;
            // Timestamps are whole milliseconds: wake just after the delivery is due.
            self.wake_workers_after(delay + Duration::from_millis(2));
            return None;
        }
        let circuit = match destination.breaker() {
            None => None,
            Some(breaker) => match self
                .enter_circuit(&lease.tenant, destination, *breaker)
                .await
            {
                Ok(ticket) => ticket,
                Err(until) => {
                    self.defer(lease, until).await;
                    return None;
                }
            },
        };
        let limit = catalog
            .routes()
            .get(&delivery.route)
            .and_then(|route| route.rate_limit());
        if let Some(limit) = limit {
            let key = format!("route:{}:{}", lease.tenant, delivery.route);
            match self.limiter().acquire(&key, limit, now).await {
                Ok(RateDecision::Allowed) => {}
                Ok(RateDecision::Limited { retry_after }) => {
                    if let Some(ticket) = circuit {
                        // Give the probe back: the next delivery may probe.
                        self.record_circuit(
                            &lease.tenant,
                            destination.name(),
                            ticket,
                            Signal::Neutral,
                        )
                        .await;
                    }
                    tracing::debug!(route = %delivery.route, ?retry_after, "route over its rate limit; deferred");
                    self.defer(lease, now.plus(retry_after)).await;
                    return None;
                }
                Err(error) => {
                    tracing::warn!(%error, route = %delivery.route, "rate limiter down; admitting");
                }
            }
        }
        Some(Pass {
            _slot: slot,
            circuit,
        })
    }

    /// [`Self::throttle`], waiting here once when the next admission is at most one interval
    /// (`1/per_second`) away: a deferred delivery woken a little late finds the token a little
    /// late too, and sending it to the back of the queue for that would let the rate collapse.
    /// Longer waits go back to the queue (`Some(wait)`), so waiting holds no worker for long.
    async fn throttle_or_wait(
        &self,
        tenant: &TenantId,
        destination: &str,
        per_second: u32,
        now: Timestamp,
    ) -> Option<Duration> {
        let wait = self.throttle(tenant, destination, per_second, now).await?;
        if wait > Duration::from_secs(1) / per_second.max(1) {
            return Some(wait);
        }
        tokio::time::sleep(wait).await;
        self.throttle(tenant, destination, per_second, Timestamp::now())
            .await
    }

    /// Takes one of `destination`'s `per_second` admissions: `None` when admitted, else how
    /// long until one frees up. The limiter's shared budget is used when it keeps one (Redis),
    /// else (or when it is down) this process's token bucket.
    async fn throttle(
        &self,
        tenant: &TenantId,
        destination: &str,
        per_second: u32,
        now: Timestamp,
    ) -> Option<Duration> {
        let key = format!("destination:{tenant}:{destination}");
        match self
            .limiter()
            .acquire_per_second(&key, per_second, now)
            .await
        {
            Ok(Some(RateDecision::Allowed)) => return None,
            Ok(Some(RateDecision::Limited { retry_after })) => return Some(retry_after),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, destination, "shared limiter down; throttling in process");
            }
        }
        self.throttles()
            .get(destination, per_second)
            .try_take()
            .err()
    }

    pub(super) async fn defer(&self, lease: &Lease, until: Timestamp) {
        if let Err(error) = self.store().release(lease, until).await {
            tracing::warn!(%error, delivery = %lease.delivery_id, "could not put a deferred delivery back; it is retried when its lease expires");
        }
    }
}
