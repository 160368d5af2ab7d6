//! In-memory backends: for tests and for embedding where durability is not wanted.
//!
//! [`MemoryStore`] keeps everything in one mutex-protected state; it implements the whole
//! [`Store`](crate::store::Store) contract and passes the same conformance suite as the durable stores.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::admin::{EventQuery, EventSummary};
use crate::circuit::{CircuitState, VersionedCircuit};
use crate::event::{Attempt, Delivery, DeliveryStatus, Event, EventStatus};
use crate::ids::{DeliveryId, EventId, TenantId};
use crate::ordering::OnDeadLetter;
use crate::store::{
    AttemptCompletion, DeadLetterFilter, DestinationRecord, InsertOutcome, Lease, LeasedDelivery,
    NewDelivery, NewEvent, NextStep, ScheduleReport, StoreError,
};
use crate::store::{CircuitStore, DeliveryQueue, EventIngest, EventLog, replay_skips};
use crate::time::Timestamp;

mod admin;
mod tenants;

pub use crate::limit::SlidingWindowLimiter as MemoryRateLimiter;

#[derive(Debug)]
struct Row {
    delivery: Delivery,
    token: u64,
    /// Creation order (ingest order), what lanes are ordered by.
    seq: u64,
    /// A dead letter of this delivery holds its lane.
    blocks_when_dead: bool,
}

impl Row {
    fn lane(&self) -> Option<LaneKey> {
        let d = &self.delivery;
        d.ordering_key
            .as_ref()
            .map(|key| (d.tenant.clone(), d.destination.clone(), key.clone()))
    }

    /// Whether this row keeps the deliveries created after it on its lane waiting.
    fn holds_lane(&self) -> bool {
        match self.delivery.status {
            DeliveryStatus::Pending | DeliveryStatus::InFlight => true,
            DeliveryStatus::DeadLettered => self.blocks_when_dead,
            DeliveryStatus::Delivered | DeliveryStatus::Discarded => false,
        }
    }
}

/// (tenant, destination, ordering key).
type LaneKey = (TenantId, String, String);

#[derive(Debug, Default)]
struct State {
    events: HashMap<(TenantId, EventId), Event>,
    dedup: HashMap<(TenantId, String, String), (EventId, Timestamp)>,
    deliveries: HashMap<DeliveryId, Row>,
    by_event: HashMap<EventId, Vec<DeliveryId>>,
    attempts: HashMap<DeliveryId, Vec<Attempt>>,
    /// Pending and in-flight deliveries by the time they are due (or their lease expires).
    due: BTreeSet<(Timestamp, DeliveryId)>,
    circuits: HashMap<(TenantId, String), VersionedCircuit>,
    destinations: BTreeMap<(TenantId, String), DestinationRecord>,
    admin: admin::AdminState,
    /// The deliveries of each lane that hold it (see [`Row::holds_lane`]), by creation order.
    lanes: HashMap<LaneKey, BTreeSet<(u64, DeliveryId)>>,
    next_seq: u64,
}

impl State {
    fn set_due(&mut self, id: DeliveryId, status: DeliveryStatus, at: Timestamp) {
        let Some(row) = self.deliveries.get_mut(&id) else {
            return;
        };
        self.due.remove(&(row.delivery.next_attempt_at, id));
        row.delivery.status = status;
        row.delivery.next_attempt_at = at;
        if matches!(status, DeliveryStatus::Pending | DeliveryStatus::InFlight) {
            self.due.insert((at, id));
        }
        if let Some(lane) = row.lane() {
            let entry = (row.seq, id);
            let holds = row.holds_lane();
            let members = self.lanes.entry(lane.clone()).or_default();
            if holds {
                members.insert(entry);
            } else {
                members.remove(&entry);
                if members.is_empty() {
                    self.lanes.remove(&lane);
                }
            }
        }
    }

    fn forget_lane(&mut self, row: &Row) {
        if let Some(lane) = row.lane()
            && let Some(members) = self.lanes.get_mut(&lane)
        {
            members.remove(&(row.seq, row.delivery.id));
            if members.is_empty() {
                self.lanes.remove(&lane);
            }
        }
    }

    /// A head due again at `at`: the pending deliveries behind it on its lane (which cannot
    /// go before it) are made due no earlier, so leasing does not pass over them meanwhile.
    fn hold_lane_until(&mut self, head: DeliveryId, at: Timestamp) {
        let Some(row) = self.deliveries.get(&head) else {
            return;
        };
        let (seq, Some(lane)) = (row.seq, row.lane()) else {
            return;
        };
        let behind: Vec<DeliveryId> = self
            .lanes
            .get(&lane)
            .into_iter()
            .flatten()
            .filter(|(s, _)| *s > seq)
            .map(|(_, id)| *id)
            .filter(|id| {
                self.deliveries.get(id).is_some_and(|r| {
                    r.delivery.status == DeliveryStatus::Pending && r.delivery.next_attempt_at < at
                })
            })
            .collect();
        for id in behind {
            self.set_due(id, DeliveryStatus::Pending, at);
        }
    }

    /// Whether an ordered delivery must wait for another of its lane (see
    /// [`DeliveryQueue::lease_due`]).
    fn waits_on_lane(&self, id: DeliveryId, now: Timestamp) -> bool {
        let Some(row) = self.deliveries.get(&id) else {
            return false;
        };
        let Some(lane) = row.lane() else {
            return false;
        };
        self.lanes
            .get(&lane)
            .into_iter()
            .flatten()
            .any(|(seq, other)| {
                *other != id
                    && self.deliveries.get(other).is_some_and(|o| {
                        (*seq < row.seq && o.holds_lane())
                            || (o.delivery.status == DeliveryStatus::InFlight
                                && o.delivery.next_attempt_at > now)
                    })
            })
    }

    fn insert_delivery(
        &mut self,
        tenant: &TenantId,
        event: EventId,
        new: NewDelivery,
        now: Timestamp,
    ) {
        let delivery = Delivery {
            tenant: tenant.clone(),
            id: new.id,
            event_id: event,
            destination: new.destination,
            route: new.route,
            ordering_key: new.ordering.as_ref().map(|o| o.key.clone()),
            status: DeliveryStatus::Pending,
            attempts: 0,
            cycle_attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        self.next_seq += 1;
        let row = Row {
            delivery,
            token: 0,
            seq: self.next_seq,
            blocks_when_dead: new
                .ordering
                .is_some_and(|o| o.on_dead_letter == OnDeadLetter::Block),
        };
        if let Some(lane) = row.lane() {
            self.lanes
                .entry(lane)
                .or_default()
                .insert((row.seq, new.id));
        }
        self.by_event.entry(event).or_default().push(new.id);
        self.deliveries.insert(new.id, row);
        self.due.insert((now, new.id));
    }

    fn owned(&self, tenant: &TenantId, id: DeliveryId) -> Option<&Row> {
        self.deliveries
            .get(&id)
            .filter(|row| &row.delivery.tenant == tenant)
    }

    fn source_of(&self, delivery: &Delivery) -> &str {
        self.events
            .get(&(delivery.tenant.clone(), delivery.event_id))
            .map_or("", |e| e.source.as_str())
    }

    fn dead_letter_ids(&self, tenant: &TenantId, filter: &DeadLetterFilter) -> Vec<DeliveryId> {
        let mut found: Vec<&Delivery> = self
            .deliveries
            .values()
            .map(|row| &row.delivery)
            .filter(|d| &d.tenant == tenant && d.status == DeliveryStatus::DeadLettered)
            .filter(|d| filter.matches(d, self.source_of(d)))
            .collect();
        found.sort_by_key(|d| (d.updated_at, d.id));
        found.into_iter().map(|d| d.id).collect()
    }
}

/// A [`Store`] in process memory. Nothing survives a restart.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

#[async_trait]
impl EventIngest for MemoryStore {
    async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        let mut state = self.state();
        let event = new.event;
        let key = (
            event.tenant.clone(),
            event.source.clone(),
            event.idempotency_key.clone(),
        );
        if let Some((original, until)) = state.dedup.get(&key)
            && *until > event.received_at
        {
            return Ok(InsertOutcome::Duplicate {
                original: *original,
            });
        }
        state.dedup.insert(key, (event.id, new.dedup_until));
        for delivery in new.deliveries {
            state.insert_delivery(&event.tenant, event.id, delivery, event.received_at);
        }
        state.events.insert((event.tenant.clone(), event.id), event);
        Ok(InsertOutcome::Inserted)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl DeliveryQueue for MemoryStore {
    async fn lease_due(
        &self,
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
            if state.waits_on_lane(*id, now) {
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
        let mut found: Vec<EventSummary> = (state.events.iter())
            .filter(|((t, _), event)| t == tenant && admin::matches(query, event))
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
