//! The parts of an [`EventQuery`] that look past the event: its deliveries' ids and
//! destinations, and its attempts' response statuses.

use super::State;
use crate::control::admin::EventQuery;
use crate::model::event::Event;
use crate::model::ids::{DeliveryId, EventId, TenantId};

impl State {
    /// Whether `event` passes the query's text, destination and response-status filters.
    pub(super) fn finds(&self, query: &EventQuery, event: &Event) -> bool {
        let rows = || {
            (self.by_event.get(&event.id).into_iter().flatten())
                .filter_map(|id| self.owned(&event.tenant, *id))
        };
        let text = query.text.as_deref().is_none_or(|text| {
            event.id.to_string().starts_with(text)
                || event.idempotency_key.contains(text)
                || rows().any(|row| row.delivery.id.to_string().starts_with(text))
        });
        let destination = (query.destination.as_deref())
            .is_none_or(|name| rows().any(|row| row.delivery.destination == name));
        let status = query.response_status.is_none_or(|status| {
            rows().any(|row| {
                (self.attempts.get(&row.delivery.id).into_iter().flatten())
                    .any(|a| a.status_code == Some(status))
            })
        });
        text && destination && status
    }

    /// The tenant's event that `text` names exactly: its id (`evt_…`) or the id of one of its
    /// deliveries (`msg_…`), in their canonical form; found by key, not by a scan.
    pub(super) fn exact_event(&self, tenant: &TenantId, text: &str) -> Option<EventId> {
        if let Ok(id) = text.parse::<EventId>()
            && id.to_string() == text
        {
            return self
                .events
                .contains_key(&(tenant.clone(), id))
                .then_some(id);
        }
        let id = text.parse::<DeliveryId>().ok()?;
        (id.to_string() == text)
            .then(|| self.owned(tenant, id))
            .flatten()
            .map(|row| row.delivery.event_id)
    }
}
