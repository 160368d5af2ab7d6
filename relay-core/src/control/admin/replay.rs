//! Replay and redrive on [`Events`]: sending stored events again.

use super::Events;
use crate::model::event::{Delivery, DeliveryStatus};
use crate::model::ids::{DeliveryId, EventId, TenantId};
use crate::model::time::Timestamp;
use crate::publish::DIRECT_ROUTE;
use crate::route::RouteInput;
use crate::store::{DeadLetterFilter, NewDelivery, ScheduleReport, StoreError};

impl Events<'_> {
    /// Re-routes a stored event with the current routes and schedules it for every matching
    /// destination, skipping destinations that already have it unless `force`. An event that
    /// matched no route when it arrived is delivered once a route matches it. An event
    /// [published](crate::publish) to explicit destinations goes to those destinations again
    /// (those still in the catalog).
    pub async fn replay(
        &self,
        tenant: &TenantId,
        event_id: EventId,
        force: bool,
    ) -> Result<ScheduleReport, StoreError> {
        self.replay_to(tenant, event_id, force, None).await
    }

    /// [`replay`](Self::replay), to `only` that destination when given (nothing when the
    /// event's routes do not match it now).
    pub(crate) async fn replay_to(
        &self,
        tenant: &TenantId,
        event_id: EventId,
        force: bool,
        only: Option<&str>,
    ) -> Result<ScheduleReport, StoreError> {
        let (mut plan, before) = self.replay_plan(tenant, event_id).await?;
        if let Some(only) = only {
            plan.retain(|d| d.destination == only);
        }
        let report = self
            .relay
            .store()
            .schedule(tenant, event_id, plan, force, Timestamp::now())
            .await?;
        let rollup = self.relay.rollup();
        for delivery in before.iter().filter(|d| {
            d.status == DeliveryStatus::DeadLettered && report.scheduled.contains(&d.id)
        }) {
            rollup.dead_letters_replayed(tenant, &delivery.destination, 1);
        }
        if !report.scheduled.is_empty() {
            self.relay.wake_workers();
        }
        Ok(report)
    }

    /// The deliveries a replay of the event would schedule (before the store skips the
    /// destinations that already have it), and the event's deliveries so far.
    pub(crate) async fn replay_plan(
        &self,
        tenant: &TenantId,
        event_id: EventId,
    ) -> Result<(Vec<NewDelivery>, Vec<Delivery>), StoreError> {
        let event = self
            .relay
            .store()
            .event(tenant, event_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let payload = event.payload();
        let catalog = match self.relay.tenant_relay(tenant) {
            Some(relay) => relay.catalog(),
            None => self.relay.scoped(tenant).await?.catalog(),
        };
        let deliveries = self.relay.store().deliveries(tenant, event_id).await?;
        let plan = if deliveries.iter().any(|d| d.route == DIRECT_ROUTE) {
            // Published to explicit destinations: to those again, never routed.
            (deliveries.iter())
                .filter_map(|d| Some((d, catalog.destination(&d.destination)?)))
                .map(|(delivery, destination)| NewDelivery {
                    id: DeliveryId::new(),
                    destination: delivery.destination.clone(),
                    route: DIRECT_ROUTE.to_owned(),
                    ordering: (destination.ordering_key())
                        .and_then(|key| key.read(&event.headers, payload.json())),
                    agent: destination.agent_name().map(str::to_owned),
                })
                .collect()
        } else {
            catalog.plan_deliveries(&RouteInput {
                source: &event.source,
                event_type: &event.event_type,
                headers: &event.headers,
                payload: payload.json(),
            })
        };
        Ok((plan, deliveries))
    }

    /// Moves dead letters matching `filter` back to the queue with a fresh retry budget.
    /// Idempotent: redriving the same dead letters twice delivers them once.
    ///
    /// The dead letters moved are counted per destination (`dead_letters_replayed`), so the
    /// success rate stops counting them as failures.
    pub async fn redrive_dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
    ) -> Result<u64, StoreError> {
        let per_destination = match &filter.destination {
            Some(_) => Vec::new(),
            None => self.dead_letters_per_destination(tenant, filter).await?,
        };
        let moved = self
            .relay
            .store()
            .redrive(tenant, filter, Timestamp::now())
            .await?;
        let rollup = self.relay.rollup();
        let moved_count = i64::try_from(moved).unwrap_or(i64::MAX);
        match &filter.destination {
            Some(destination) => rollup.dead_letters_replayed(tenant, destination, moved_count),
            None => {
                // Counted before the move: at most what moved, in case some left meanwhile.
                let mut left = moved_count;
                for (destination, count) in per_destination {
                    let count = count.min(left);
                    rollup.dead_letters_replayed(tenant, &destination, count);
                    left -= count;
                }
            }
        }
        if moved > 0 {
            self.relay.wake_workers();
        }
        Ok(moved)
    }

    /// How many dead letters match `filter`, per destination.
    async fn dead_letters_per_destination(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        const PAGE: usize = 500;
        let mut counts = std::collections::BTreeMap::<String, i64>::new();
        let mut after = None;
        loop {
            let page = (self.relay.store())
                .dead_letter_page(tenant, filter, after, PAGE)
                .await?;
            for delivery in &page {
                *counts.entry(delivery.destination.clone()).or_insert(0) += 1;
            }
            match page.last() {
                Some(last) if page.len() == PAGE => after = Some(last.id),
                _ => return Ok(counts.into_iter().collect()),
            }
        }
    }
}
