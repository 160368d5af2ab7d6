//! [`Events`] (`relay.events()`), operations on stored traffic: listing and inspecting events, dead letters, replay,
//! redrive and discard. Reads need `viewer`; anything that sends again or discards needs
//! `operator` and is audited.

use super::{AdminError, Area, EventQuery, EventSummary, FieldChange, Principal, Role};
use crate::model::event::{Attempt, Delivery, DeliveryStatus, Event};
use crate::model::ids::{DeliveryId, EventId};
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::store::{DeadLetterFilter, ScheduleReport};

/// The largest page a listing returns.
pub const MAX_PAGE: usize = 200;

/// An event's headers as `(name, value)` pairs in arrival order, with signature and
/// credential headers redacted (see [`crate::model::attempt_detail::redacted_headers`]).
pub use crate::model::attempt_detail::redacted_headers;

/// An event with its deliveries and every attempt of each.
#[derive(Debug, Clone)]
pub struct EventDetail {
    /// The event (its headers unredacted: show them with [`redacted_headers`]).
    pub event: Event,
    /// Its deliveries, each with its attempts, first to last.
    pub deliveries: Vec<(Delivery, Vec<Attempt>)>,
}

fn page(limit: usize) -> usize {
    limit.clamp(1, MAX_PAGE)
}

/// The stored traffic of one relay's tenant: events, their deliveries and attempts, dead
/// letters; replay, redrive and discard.
#[derive(Debug, Clone, Copy)]
pub struct Events<'a> {
    pub(crate) relay: &'a Relay,
}

impl Relay {
    /// The stored traffic of this relay's tenant (see [`Events`]).
    pub fn events(&self) -> Events<'_> {
        Events { relay: self }
    }
}

impl Events<'_> {
    /// Events matching `query`, newest first, at most `limit` (capped at [`MAX_PAGE`]).
    pub async fn list_events(
        &self,
        by: &Principal,
        query: &EventQuery,
        limit: usize,
    ) -> Result<Vec<EventSummary>, AdminError> {
        by.require_in(Area::Traffic, Role::Viewer)?;
        Ok(self
            .relay
            .store()
            .list_events(&by.tenant, query, page(limit))
            .await?)
    }

    /// One event with its deliveries and attempts.
    pub async fn event_detail(
        &self,
        by: &Principal,
        id: EventId,
    ) -> Result<EventDetail, AdminError> {
        by.require_in(Area::Traffic, Role::Viewer)?;
        let store = self.relay.store();
        let event = store.event(&by.tenant, id).await?;
        let event = event.ok_or(AdminError::NotFound)?;
        let mut deliveries = Vec::new();
        for delivery in store.deliveries(&by.tenant, id).await? {
            let attempts = store.attempts(&by.tenant, delivery.id).await?;
            deliveries.push((delivery, attempts));
        }
        Ok(EventDetail { event, deliveries })
    }

    /// Dead letters matching `filter` after the cursor `after`, oldest first.
    pub async fn list_dead_letters(
        &self,
        by: &Principal,
        filter: &DeadLetterFilter,
        after: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, AdminError> {
        by.require_in(Area::Traffic, Role::Viewer)?;
        Ok(self
            .relay
            .store()
            .dead_letter_page(&by.tenant, filter, after, page(limit))
            .await?)
    }

    /// Replays an event to the destinations its routes now match, skipping those that
    /// already have it unless `force`; audited.
    pub async fn replay_event(
        &self,
        by: &Principal,
        id: EventId,
        force: bool,
    ) -> Result<ScheduleReport, AdminError> {
        by.require_in(Area::Traffic, Role::Operator)?;
        let report = self.replay(&by.tenant, id, force).await?;
        let changes = vec![
            FieldChange::added("force", force),
            FieldChange::added("scheduled", report.scheduled.len()),
        ];
        self.relay
            .access()
            .audit(by, "replay", "event", &id.to_string(), changes)
            .await?;
        Ok(report)
    }

    /// Redrives the dead letters matching `filter` (idempotent: a second call moves none of
    /// the same ones); audited. Returns how many moved.
    pub async fn redrive(
        &self,
        by: &Principal,
        filter: &DeadLetterFilter,
    ) -> Result<u64, AdminError> {
        by.require_in(Area::Traffic, Role::Operator)?;
        let moved = self.redrive_dead_letters(&by.tenant, filter).await?;
        let changes = filter_changes(filter, moved);
        self.relay
            .access()
            .audit(by, "replay", "dead_letters", &filter_id(filter), changes)
            .await?;
        Ok(moved)
    }

    /// Discards the dead letters matching `filter`: final, never sent again unless their
    /// event is replayed; audited. Returns how many.
    pub async fn discard(
        &self,
        by: &Principal,
        filter: &DeadLetterFilter,
    ) -> Result<u64, AdminError> {
        by.require_in(Area::Traffic, Role::Operator)?;
        let moved = self
            .relay
            .store()
            .discard_dead_letters(&by.tenant, filter, Timestamp::now())
            .await?;
        let changes = filter_changes(filter, moved);
        self.relay
            .access()
            .audit(by, "discard", "dead_letters", &filter_id(filter), changes)
            .await?;
        Ok(moved)
    }

    /// The dead-lettered delivery `id` as a one-element filter, or
    /// [`AdminError::NotFound`] when the tenant has no such delivery. A delivery that is no
    /// longer dead-lettered still matches (and then moves nothing).
    pub async fn dead_letter_filter(
        &self,
        by: &Principal,
        id: DeliveryId,
    ) -> Result<(DeadLetterFilter, DeliveryStatus), AdminError> {
        by.require_in(Area::Traffic, Role::Viewer)?;
        let delivery = self.relay.store().delivery(&by.tenant, id).await?;
        let delivery = delivery.ok_or(AdminError::NotFound)?;
        let filter = DeadLetterFilter {
            destination: Some(delivery.destination),
            event_id: Some(delivery.event_id),
            ..Default::default()
        };
        Ok((filter, delivery.status))
    }
}

fn filter_id(filter: &DeadLetterFilter) -> String {
    match (&filter.event_id, &filter.destination) {
        (Some(event), Some(destination)) => format!("{event}/{destination}"),
        (Some(event), None) => event.to_string(),
        (None, Some(destination)) => destination.clone(),
        (None, None) => "*".to_owned(),
    }
}

fn filter_changes(filter: &DeadLetterFilter, moved: u64) -> Vec<FieldChange> {
    let mut changes = vec![FieldChange::added("count", moved)];
    if let Some(source) = &filter.source {
        changes.push(FieldChange::added("filter.source", source.as_str()));
    }
    if let Some(destination) = &filter.destination {
        changes.push(FieldChange::added(
            "filter.destination",
            destination.as_str(),
        ));
    }
    if let Some(since) = filter.since {
        changes.push(FieldChange::added("filter.since_ms", since.as_millis()));
    }
    changes
}
