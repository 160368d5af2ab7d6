//! [`EventLog`] and [`CircuitStore`] for [`MemoryStore`].

use async_trait::async_trait;

use super::{MemoryStore, State, admin};
use crate::control::admin::{EventQuery, EventSummary};
use crate::deliver::circuit::{CircuitState, VersionedCircuit};
use crate::model::event::{Attempt, Delivery, DeliveryStatus, Event};
use crate::model::ids::{DeliveryId, EventId, TenantId};
use crate::model::time::Timestamp;
use crate::store::{CircuitStore, DeadLetterFilter, EventLog, StoreError};

#[async_trait]
impl EventLog for MemoryStore {
    async fn event(&self, tenant: &TenantId, id: EventId) -> Result<Option<Event>, StoreError> {
        Ok(self.state().events.get(&(tenant.clone(), id)).cloned())
    }

    async fn deliveries(
        &self,
        tenant: &TenantId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        let state = self.state();
        let ids = state.by_event.get(&event).cloned().unwrap_or_default();
        Ok(ids
            .iter()
            .filter_map(|id| state.owned(tenant, *id))
            .map(|r| r.delivery.clone())
            .collect())
    }

    async fn delivery(
        &self,
        tenant: &TenantId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        Ok(self
            .state()
            .owned(tenant, id)
            .map(|row| row.delivery.clone()))
    }

    async fn attempts(
        &self,
        tenant: &TenantId,
        delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        let state = self.state();
        if state.owned(tenant, delivery).is_none() {
            return Ok(Vec::new());
        }
        Ok(state.attempts.get(&delivery).cloned().unwrap_or_default())
    }

    async fn dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let state = self.state();
        let ids = state.dead_letter_ids(tenant, filter);
        Ok(ids
            .iter()
            .take(limit)
            .filter_map(|id| state.owned(tenant, *id))
            .map(|r| r.delivery.clone())
            .collect())
    }

    async fn list_events(
        &self,
        tenant: &TenantId,
        query: &EventQuery,
        limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError> {
        let state = self.state();
        // An exact event or delivery id is a key lookup; other text is searched in every event.
        let exact = (query.text.as_deref()).and_then(|text| state.exact_event(tenant, text));
        let narrowed;
        let (query, candidates): (&EventQuery, Vec<_>) = match exact {
            Some(id) => {
                narrowed = EventQuery {
                    text: None,
                    ..query.clone()
                };
                let key = (tenant.clone(), id);
                (
                    &narrowed,
                    state.events.get_key_value(&key).into_iter().collect(),
                )
            }
            None => (query, state.events.iter().collect()),
        };
        let mut found: Vec<EventSummary> = (candidates.into_iter())
            .filter(|((t, _), event)| t == tenant && admin::matches(query, event))
            .filter(|(_, event)| state.finds(query, event))
            .map(|(_, event)| EventSummary {
                id: event.id,
                source: event.source.clone(),
                event_type: event.event_type.clone(),
                idempotency_key: event.idempotency_key.clone(),
                received_at: event.received_at,
                status: event.status,
                deliveries: state.counts(event),
            })
            .filter(|s| query.state.is_none_or(|wanted| s.state() == wanted))
            .collect();
        found.sort_by_key(|e| std::cmp::Reverse(e.id));
        found.truncate(limit);
        Ok(found)
    }

    async fn dead_letter_page(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        after: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let state = self.state();
        let mut found: Vec<Delivery> = (state.deliveries.values())
            .map(|row| &row.delivery)
            .filter(|d| &d.tenant == tenant && d.status == DeliveryStatus::DeadLettered)
            .filter(|d| after.is_none_or(|a| d.id > a))
            .filter(|d| filter.matches(d, state.source_of(d)))
            .cloned()
            .collect();
        found.sort_by_key(|d| d.id);
        found.truncate(limit);
        Ok(found)
    }

    async fn prune(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        state.dedup.retain(|_, (_, until)| *until > now);
        let finished = |state: &State, event: &EventId| {
            state.by_event.get(event).into_iter().flatten().all(|id| {
                state.deliveries.get(id).is_none_or(|r| {
                    matches!(
                        r.delivery.status,
                        DeliveryStatus::Delivered
                            | DeliveryStatus::DeadLettered
                            | DeliveryStatus::Discarded
                    )
                })
            })
        };
        let doomed: Vec<(TenantId, EventId)> = state
            .events
            .iter()
            .filter(|(key, event)| event.received_at < cutoff && finished(&state, &key.1))
            .map(|(key, _)| key.clone())
            .take(batch)
            .collect();
        for key in &doomed {
            state.events.remove(key);
            for id in state.by_event.remove(&key.1).unwrap_or_default() {
                if let Some(row) = state.deliveries.remove(&id) {
                    state.due.remove(&(row.delivery.next_attempt_at, id));
                    state.forget_lane(&row);
                }
                state.attempts.remove(&id);
            }
        }
        Ok(doomed.len() as u64)
    }
}

#[async_trait]
impl CircuitStore for MemoryStore {
    async fn circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError> {
        let key = (tenant.clone(), destination.to_owned());
        Ok(self.state().circuits.get(&key).copied())
    }

    async fn swap_circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
        expected: Option<u64>,
        state: CircuitState,
    ) -> Result<bool, StoreError> {
        let mut guard = self.state();
        let key = (tenant.clone(), destination.to_owned());
        let stored = guard.circuits.get(&key).map(|c| c.version);
        if stored != expected {
            return Ok(false);
        }
        let version = expected.map_or(1, |v| v + 1);
        guard
            .circuits
            .insert(key, VersionedCircuit { state, version });
        Ok(true)
    }
}
