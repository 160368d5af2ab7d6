//! In-memory backends: for tests and for embedding where durability is not wanted.
//!
//! [`MemoryStore`] keeps everything in one mutex-protected state; it implements the whole
//! [`Store`](crate::store::Store) contract and passes the same conformance suite as the durable stores.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::deliver::circuit::VersionedCircuit;
use crate::deliver::ordering::OnDeadLetter;
use crate::model::event::{Attempt, Delivery, DeliveryStatus, Event};
use crate::model::ids::{DeliveryId, EventId, NodeId, TenantId};
use crate::model::time::Timestamp;
use crate::store::EventIngest;
use crate::store::{
    DeadLetterFilter, DestinationRecord, InsertOutcome, NewDelivery, NewEvent, StoreError,
};

mod admin;
mod log;
mod presence;
mod queue;
mod records;
mod search;
mod states;
mod tenants;

pub use crate::ingest::limit::SlidingWindowLimiter as MemoryRateLimiter;

#[derive(Debug)]
struct Row {
    delivery: Delivery,
    token: u64,
    /// Who holds its lease, while in flight (see [`DeliveryQueue::lease_due_as`](crate::store::DeliveryQueue::lease_due_as)).
    holder: Option<NodeId>,
    /// Creation order (ingest order), what lanes are ordered by.
    seq: u64,
    /// A dead letter of this delivery holds its lane.
    blocks_when_dead: bool,
    /// The agent that delivers it (see [`NewDelivery::agent`]).
    agent: Option<String>,
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
    /// The objects' enabled/disabled state (see [`states`]).
    object_states: states::ObjectStates,
    destinations: BTreeMap<(TenantId, String), DestinationRecord>,
    admin: admin::AdminState,
    /// The deliveries of each lane that hold it (see [`Row::holds_lane`]), by creation order.
    lanes: HashMap<LaneKey, BTreeSet<(u64, DeliveryId)>>,
    next_seq: u64,
    /// Agent presence by (tenant, agent, node) (see [`presence`]).
    presence: presence::Presence,
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
            holder: None,
            seq: self.next_seq,
            agent: new.agent,
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

/// A [`Store`](crate::store::Store) in process memory. Nothing survives a restart.
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
