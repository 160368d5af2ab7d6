//! [`DeliveryQueue`] for [`MemoryStore`]: leases, completions, releases, replays.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;

use super::{MemoryStore, Row};
use crate::model::event::{DeliveryStatus, EventStatus};
use crate::model::ids::{DeliveryId, EventId, NodeId, TenantId};
use crate::model::time::Timestamp;
use crate::store::{
    AttemptCompletion, DeadLetterFilter, DeliveryQueue, HeldAgent, Lease, LeasedDelivery,
    NewDelivery, NextStep, ScheduleReport, StoreError, replay_skips,
};

#[async_trait]
impl DeliveryQueue for MemoryStore {
    async fn lease_due_as(
        &self,
        holder: Option<&NodeId>,
        agents: &[HeldAgent],
        now: Timestamp,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        let mut state = self.state();
        // Due ones, oldest first, that head their lane (one per lane: leasing a head makes
        // the rest of its lane wait, as the store's rule says).
        let mut lanes_taken = HashSet::new();
        let mut due: Vec<DeliveryId> = Vec::new();
        for (at, id) in &state.due {
            if *at > now || due.len() >= limit {
                break;
            }
            if state.waits_on_lane(*id, now)
                || state.is_held(*id, now)
                || !state.agent_held(*id, agents)
            {
                continue;
            }
            let lane = state.deliveries.get(id).and_then(Row::lane);
            if let Some(lane) = lane
                && !lanes_taken.insert(lane)
            {
                continue;
            }
            due.push(*id);
        }
        let mut leased = Vec::with_capacity(due.len());
        for id in due {
            state.set_due(id, DeliveryStatus::InFlight, now.plus(lease_for));
            let Some(row) = state.deliveries.get_mut(&id) else {
                continue;
            };
            row.token += 1;
            row.holder = holder.cloned();
            row.delivery.updated_at = now;
            let delivery = row.delivery.clone();
            let lease = Lease {
                tenant: delivery.tenant.clone(),
                delivery_id: id,
                token: row.token,
            };
            let event = state
                .events
                .get(&(delivery.tenant.clone(), delivery.event_id))
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("delivery {id} without its event")))?;
            leased.push(LeasedDelivery {
                delivery,
                event,
                lease,
            });
        }
        Ok(leased)
    }

    async fn reclaim(&self, holder: &NodeId, now: Timestamp) -> Result<u64, StoreError> {
        let mut state = self.state();
        let held: Vec<DeliveryId> = (state.deliveries.iter())
            .filter(|(_, row)| {
                row.delivery.status == DeliveryStatus::InFlight
                    && row.holder.as_ref() == Some(holder)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in &held {
            state.set_due(*id, DeliveryStatus::Pending, now);
            if let Some(row) = state.deliveries.get_mut(id) {
                row.holder = None;
            }
        }
        Ok(held.len() as u64)
    }

    async fn complete_attempt(&self, completion: AttemptCompletion) -> Result<(), StoreError> {
        let mut state = self.state();
        let AttemptCompletion {
            lease,
            attempt,
            next,
        } = completion;
        let id = lease.delivery_id;
        let held = state.owned(&lease.tenant, id).is_some_and(|row| {
            row.token == lease.token && row.delivery.status == DeliveryStatus::InFlight
        });
        if !held {
            return Err(StoreError::LeaseLost(id));
        }
        let (status, at) = match next {
            NextStep::Delivered => (DeliveryStatus::Delivered, attempt.started_at),
            NextStep::RetryAt(at) => (DeliveryStatus::Pending, at),
            NextStep::DeadLettered => (DeliveryStatus::DeadLettered, attempt.started_at),
        };
        state.set_due(id, status, at);
        if let NextStep::RetryAt(at) = next {
            state.hold_lane_until(id, at);
        }
        if let Some(row) = state.deliveries.get_mut(&id) {
            row.delivery.attempts += 1;
            row.delivery.cycle_attempts += 1;
            row.delivery.last_error = attempt.error.clone();
            row.delivery.updated_at = Timestamp::now();
        }
        state.attempts.entry(id).or_default().push(attempt);
        Ok(())
    }

    async fn release(&self, lease: &Lease, due_at: Timestamp) -> Result<(), StoreError> {
        let mut state = self.state();
        let held = state
            .owned(&lease.tenant, lease.delivery_id)
            .is_some_and(|row| {
                row.token == lease.token && row.delivery.status == DeliveryStatus::InFlight
            });
        if held {
            state.set_due(lease.delivery_id, DeliveryStatus::Pending, due_at);
            state.hold_lane_until(lease.delivery_id, due_at);
        }
        Ok(())
    }

    async fn schedule(
        &self,
        tenant: &TenantId,
        event: EventId,
        plan: Vec<NewDelivery>,
        force: bool,
        now: Timestamp,
    ) -> Result<ScheduleReport, StoreError> {
        let mut state = self.state();
        if !state.events.contains_key(&(tenant.clone(), event)) {
            return Err(StoreError::NotFound);
        }
        let existing = state.by_event.get(&event).cloned().unwrap_or_default();
        let mut report = ScheduleReport::default();
        for new in plan {
            let found = existing.iter().copied().find(|id| {
                state
                    .deliveries
                    .get(id)
                    .is_some_and(|r| r.delivery.destination == new.destination)
            });
            match found {
                None => {
                    report.scheduled.push(new.id);
                    state.insert_delivery(tenant, event, new, now);
                }
                Some(id) => {
                    let status = state.deliveries.get(&id).map(|r| r.delivery.status);
                    if replay_skips(status, force) {
                        report.skipped.push(new.destination);
                        continue;
                    }
                    state.set_due(id, DeliveryStatus::Pending, now);
                    if let Some(row) = state.deliveries.get_mut(&id) {
                        row.delivery.cycle_attempts = 0;
                        row.delivery.updated_at = now;
                        row.agent = new.agent;
                    }
                    report.scheduled.push(id);
                }
            }
        }
        if !report.scheduled.is_empty()
            && let Some(stored) = state.events.get_mut(&(tenant.clone(), event))
        {
            stored.status = EventStatus::Routed;
        }
        Ok(report)
    }

    async fn redrive(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let ids = state.dead_letter_ids(tenant, filter);
        for id in &ids {
            state.set_due(*id, DeliveryStatus::Pending, now);
            if let Some(row) = state.deliveries.get_mut(id) {
                row.delivery.cycle_attempts = 0;
                row.delivery.updated_at = now;
            }
        }
        Ok(ids.len() as u64)
    }

    async fn discard_dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let ids = state.dead_letter_ids(tenant, filter);
        for id in &ids {
            state.set_due(*id, DeliveryStatus::Discarded, now);
            if let Some(row) = state.deliveries.get_mut(id) {
                row.delivery.updated_at = now;
            }
        }
        Ok(ids.len() as u64)
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        Ok(self.state().due.len() as u64)
    }
}
