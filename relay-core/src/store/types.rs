//! The plain data the store traits take and give: new events and deliveries, leases,
//! completions, filters and reports.

use crate::deliver::ordering::OrderedBy;
use crate::model::event::{Attempt, Delivery, Event};
use crate::model::ids::{DeliveryId, EventId, TenantId};
use crate::model::time::Timestamp;

/// One delivery to create with an event (or at replay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// Its id (the `webhook-id`).
    pub id: DeliveryId,
    /// The destination's name.
    pub destination: String,
    /// The route that planned it.
    pub route: String,
    /// Its ordering key, when its route or destination orders deliveries (see
    /// [`ordering`](crate::deliver::ordering)).
    pub ordering: Option<OrderedBy>,
    /// The [agent](crate::control::agent) that delivers it, when its destination is of kind
    /// `agent`: only a node holding that agent's connection leases it (see
    /// [`DeliveryQueue::lease_due_as`](super::DeliveryQueue::lease_due_as)).
    pub agent: Option<String>,
}

/// An agent whose connection the leasing node holds: the deliveries bound to it are leased
/// only by such a node (see [`DeliveryQueue::lease_due_as`](super::DeliveryQueue::lease_due_as)).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HeldAgent {
    /// The agent's tenant.
    pub tenant: TenantId,
    /// The agent's name.
    pub agent: String,
}

impl HeldAgent {
    /// The agent `agent` of `tenant`.
    pub fn new(tenant: TenantId, agent: impl Into<String>) -> Self {
        Self {
            tenant,
            agent: agent.into(),
        }
    }

    /// `tenant`, the unit separator (U+001F, never in a name) and `agent`: one string a
    /// SQL backend matches against `tenant || chr(31) || agent`.
    ///
    /// ```
    /// use relay_core::model::ids::TenantId;
    /// use relay_core::store::HeldAgent;
    /// assert_eq!(HeldAgent::new(TenantId::default(), "dc1").key(), "default\u{1f}dc1");
    /// ```
    pub fn key(&self) -> String {
        format!("{}\u{1f}{}", self.tenant, self.agent)
    }
}

/// An event to commit with its dedup entry and deliveries.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The event.
    pub event: Event,
    /// Until when its idempotency key deduplicates.
    pub dedup_until: Timestamp,
    /// Its deliveries (empty when no route matched).
    pub deliveries: Vec<NewDelivery>,
}

/// The result of [`EventIngest::insert_event`](super::EventIngest::insert_event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Written and durable.
    Inserted,
    /// The key was seen within the window; nothing was written.
    Duplicate {
        /// The event first accepted with this key.
        original: EventId,
    },
}

/// A worker's hold on a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The owning tenant.
    pub tenant: TenantId,
    /// The leased delivery.
    pub delivery_id: DeliveryId,
    /// The fencing token: a later lease of the same delivery has a larger one.
    pub token: u64,
}

/// A leased delivery with the event it delivers.
#[derive(Debug, Clone)]
pub struct LeasedDelivery {
    /// The delivery (status `InFlight`).
    pub delivery: Delivery,
    /// Its event.
    pub event: Event,
    /// The hold on it.
    pub lease: Lease,
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Delivered: done.
    Delivered,
    /// Pending again, due at this time.
    RetryAt(Timestamp),
    /// Dead-lettered.
    DeadLettered,
}

/// An attempt to record under a lease.
#[derive(Debug, Clone)]
pub struct AttemptCompletion {
    /// The lease the attempt was made under.
    pub lease: Lease,
    /// The attempt.
    pub attempt: Attempt,
    /// Where the delivery goes next.
    pub next: NextStep,
}

/// Which dead letters an operation applies to. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterFilter {
    /// Only deliveries to this destination.
    pub destination: Option<String>,
    /// Only deliveries of this event.
    pub event_id: Option<EventId>,
    /// Only deliveries of events from this source.
    pub source: Option<String>,
    /// Only deliveries dead-lettered at or after this time.
    pub since: Option<Timestamp>,
}

impl DeadLetterFilter {
    /// Whether a dead-lettered delivery (and its event's source) matches.
    pub fn matches(&self, delivery: &Delivery, source: &str) -> bool {
        self.destination
            .as_deref()
            .is_none_or(|d| d == delivery.destination)
            && self.event_id.is_none_or(|e| e == delivery.event_id)
            && self.source.as_deref().is_none_or(|s| s == source)
            && self.since.is_none_or(|t| delivery.updated_at >= t)
    }
}

/// What [`DeliveryQueue::schedule`](super::DeliveryQueue::schedule) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleReport {
    /// Deliveries due now (new or rescheduled).
    pub scheduled: Vec<DeliveryId>,
    /// Destinations skipped because they already have the event (or it is in flight).
    pub skipped: Vec<String>,
}

/// A saved HTTP destination. The store keeps the credentials as the sealed bytes it is given
/// (see [`credentials`](crate::control::credentials)) and never sees them in plaintext.
#[derive(Clone, PartialEq, Eq)]
pub struct DestinationRecord {
    /// The destination's name (unique per tenant).
    pub name: String,
    /// Its URL.
    pub url: String,
    /// The sealed signing secret.
    pub signing_secret: Option<Vec<u8>>,
    /// The sealed `Authorization` value.
    pub auth_header: Option<Vec<u8>>,
    /// [`DestinationSettings`](crate::deliver::destination::DestinationSettings) as JSON.
    pub settings: String,
    /// When it was last saved.
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for DestinationRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sealed =
            |v: &Option<Vec<u8>>| v.as_ref().map(|b| format!("[sealed, {} bytes]", b.len()));
        f.debug_struct("DestinationRecord")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("signing_secret", &sealed(&self.signing_secret))
            .field("auth_header", &sealed(&self.auth_header))
            .field("settings", &self.settings)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}
