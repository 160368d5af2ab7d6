//! Bulk replay on [`Events`]: every stored event matching a selection sent again, a page at a
//! time, so a client can show progress and resume where it stopped.

use super::{AdminError, Area, EventQuery, EventState, Events, FieldChange, Principal, Role};
use crate::model::ids::EventId;
use crate::model::time::Timestamp;
use crate::route::Glob;
use crate::store::{StoreError, replay_skips};

/// The most events one [`Events::replay_matching`] call examines.
pub const MAX_REPLAY_PAGE: usize = super::MAX_PAGE;

/// Which stored events a bulk replay sends again, and where. Every field narrows it; the
/// default selects every event of the tenant.
#[derive(Debug, Clone, Default)]
pub struct ReplaySelection {
    /// Only events from this source.
    pub source: Option<String>,
    /// Only events whose type matches this glob (`order.*`, `*`, or an exact type).
    pub event_type: Option<Glob>,
    /// Only events in this state.
    pub state: Option<EventState>,
    /// Only events received at or after this time.
    pub since: Option<Timestamp>,
    /// Only events received before this time.
    pub until: Option<Timestamp>,
    /// Send only to this destination (an event whose routes do not match it now is skipped).
    pub destination: Option<String>,
}

/// How a bulk replay pages and what it does.
#[derive(Debug, Clone, Copy)]
pub struct ReplayPage {
    /// Continue after this event (the `next_cursor` of the previous page); none: from the
    /// newest event.
    pub cursor: Option<EventId>,
    /// Examine at most this many events (1 to [`MAX_REPLAY_PAGE`]).
    pub limit: usize,
    /// Also send to destinations that already delivered the event. Without it a replay is
    /// idempotent: a second run schedules nothing the first one did.
    pub force: bool,
    /// Count what would be sent; schedule nothing, audit nothing.
    pub dry_run: bool,
}

/// What one page of a bulk replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayPageReport {
    /// Events read in this page (matching the selection's source, type, state and times).
    pub examined: usize,
    /// Of those, the events with something to send to the selection's destination (all of
    /// them without one).
    pub matched: usize,
    /// Deliveries scheduled (on a dry run: that would be).
    pub scheduled: usize,
    /// Deliveries skipped because their destination already has the event (or it is in
    /// flight).
    pub skipped: usize,
    /// Where the next page starts; `None` when this was the last page.
    pub next_cursor: Option<EventId>,
}

impl Events<'_> {
    /// Replays one page of the events matching `selection`, newest first: each is re-routed
    /// with the current routes and scheduled like [`replay_event`](Self::replay_event) (to
    /// `selection.destination` only, when set). Needs `operator`; audited once per page
    /// that scheduled anything. Call again with `next_cursor` until it is `None`.
    ///
    /// ```
    /// use relay_core::control::admin::{Principal, ReplayPage, ReplaySelection};
    /// use relay_core::model::ids::TenantId;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let relay = relay_core::Relay::builder().build().unwrap();
    /// let operator = Principal::system(TenantId::default());
    /// let selection = ReplaySelection::default();
    /// let mut page = ReplayPage { cursor: None, limit: 100, force: false, dry_run: true };
    /// loop {
    ///     let report = relay.events().replay_matching(&operator, &selection, page).await.unwrap();
    ///     println!("{} events would send {} deliveries", report.matched, report.scheduled);
    ///     match report.next_cursor {
    ///         Some(cursor) => page.cursor = Some(cursor),
    ///         None => break,
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn replay_matching(
        &self,
        by: &Principal,
        selection: &ReplaySelection,
        page: ReplayPage,
    ) -> Result<ReplayPageReport, AdminError> {
        by.require_in(Area::Traffic, Role::Operator)?;
        if !(1..=MAX_REPLAY_PAGE).contains(&page.limit) {
            return Err(AdminError::invalid(
                "limit",
                format!("between 1 and {MAX_REPLAY_PAGE}"),
            ));
        }
        let query = EventQuery {
            source: selection.source.clone(),
            // The store matches the glob (as routes do) in its query, so a page holds
            // `limit` events of the type and a sparse type is not paged through the rest.
            event_type: (selection.event_type.as_ref()).map(|glob| glob.as_str().to_owned()),
            state: selection.state,
            since: selection.since,
            until: selection.until,
            before: page.cursor,
            ..EventQuery::default()
        };
        let store = self.relay.store();
        let events = store.list_events(&by.tenant, &query, page.limit).await?;
        let mut report = ReplayPageReport {
            examined: events.len(),
            next_cursor: (events.len() == page.limit)
                .then(|| events.last().map(|e| e.id))
                .flatten(),
            ..ReplayPageReport::default()
        };
        let only = selection.destination.as_deref();
        for event in &events {
            let (scheduled, skipped) = if page.dry_run {
                self.would_schedule(&by.tenant, event.id, page.force, only)
                    .await?
            } else {
                let done = self.replay_to(&by.tenant, event.id, page.force, only).await;
                match done {
                    Ok(done) => (done.scheduled.len(), done.skipped.len()),
                    // Pruned since it was listed: nothing to send.
                    Err(StoreError::NotFound) => continue,
                    Err(error) => return Err(error.into()),
                }
            };
            if scheduled + skipped > 0 || only.is_none() {
                report.matched += 1;
            }
            report.scheduled += scheduled;
            report.skipped += skipped;
        }
        if !page.dry_run && report.scheduled > 0 {
            let changes = replay_changes(selection, page.force, &report);
            self.relay
                .access()
                .audit(by, "replay", "events", "*", changes)
                .await?;
        }
        Ok(report)
    }

    /// What [`replay_to`](Self::replay_to) would schedule and skip, without scheduling.
    async fn would_schedule(
        &self,
        tenant: &crate::model::ids::TenantId,
        event: EventId,
        force: bool,
        only: Option<&str>,
    ) -> Result<(usize, usize), AdminError> {
        let (plan, existing) = match self.replay_plan(tenant, event).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => return Ok((0, 0)),
            Err(error) => return Err(error.into()),
        };
        let (mut scheduled, mut skipped) = (0, 0);
        for new in plan
            .iter()
            .filter(|d| only.is_none_or(|o| d.destination == o))
        {
            let status = (existing.iter())
                .find(|d| d.destination == new.destination)
                .map(|d| Some(d.status));
            match status {
                Some(status) if replay_skips(status, force) => skipped += 1,
                _ => scheduled += 1,
            }
        }
        Ok((scheduled, skipped))
    }
}

/// The audit entry's fields: the selection and what the page did.
fn replay_changes(
    selection: &ReplaySelection,
    force: bool,
    report: &ReplayPageReport,
) -> Vec<FieldChange> {
    let mut changes = vec![
        FieldChange::added("force", force),
        FieldChange::added("matched", report.matched),
        FieldChange::added("scheduled", report.scheduled),
    ];
    let text = [
        ("filter.source", selection.source.clone()),
        (
            "filter.event_type",
            selection.event_type.as_ref().map(|g| g.as_str().to_owned()),
        ),
        (
            "filter.state",
            selection.state.map(|s| s.as_str().to_owned()),
        ),
        ("filter.destination", selection.destination.clone()),
    ];
    for (field, value) in text {
        if let Some(value) = value {
            changes.push(FieldChange::added(field, value));
        }
    }
    let times = [
        ("filter.since_ms", selection.since),
        ("filter.until_ms", selection.until),
    ];
    for (field, value) in times {
        if let Some(at) = value {
            changes.push(FieldChange::added(field, at.as_millis()));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use bytes::Bytes;
    use http::HeaderMap;

    use super::*;
    use crate::Relay;
    use crate::control::admin::AuditQuery;
    use crate::deliver::destination::{Destination, HandlerError, Message};
    use crate::ingest::IngestRequest;
    use crate::ingest::signature::NoSignature;
    use crate::ingest::source::WebhookSource;
    use crate::model::ids::TenantId;
    use crate::route::EventRoute;

    fn handler(name: &str) -> Destination {
        Destination::handler(name, |_message: Message| async {
            Ok::<(), HandlerError>(())
        })
    }

    /// Orders go to `d1` and `d2`, users to `d2`; two orders and a user event are stored
    /// (pending: no worker runs).
    async fn relay() -> Relay {
        let relay = Relay::builder()
            .source(WebhookSource::new("forms", NoSignature))
            .destination(handler("d1"))
            .destination(handler("d2"))
            .route(
                EventRoute::new("orders")
                    .event_types(["order.*"])
                    .to(["d1", "d2"]),
            )
            .route(EventRoute::new("users").event_types(["user.*"]).to(["d2"]))
            .build()
            .unwrap();
        for (event_type, key) in [
            ("order.created", "o1"),
            ("order.paid", "o2"),
            ("user.signup", "u1"),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("x-event-type", event_type.parse().unwrap());
            headers.insert("idempotency-key", key.parse().unwrap());
            relay
                .ingest(IngestRequest::new(
                    "forms",
                    headers,
                    Bytes::from_static(b"{}"),
                ))
                .await;
        }
        relay
    }

    fn operator() -> Principal {
        Principal::system(TenantId::default())
    }

    fn page(limit: usize, dry_run: bool) -> ReplayPage {
        ReplayPage {
            cursor: None,
            limit,
            force: false,
            dry_run,
        }
    }

    #[tokio::test]
    async fn a_glob_and_a_destination_narrow_what_is_sent() {
        let relay = relay().await;
        let orders = ReplaySelection {
            event_type: Some(Glob::new("order.*")),
            ..ReplaySelection::default()
        };
        let events = relay.events();
        let dry = events
            .replay_matching(&operator(), &orders, page(10, true))
            .await
            .unwrap();
        assert_eq!(
            (dry.examined, dry.matched, dry.scheduled, dry.skipped),
            (2, 2, 4, 0),
            "the user event is not read"
        );
        assert_eq!(dry.next_cursor, None);
        let to_d1 = ReplaySelection {
            destination: Some("d1".into()),
            ..orders.clone()
        };
        let done = events
            .replay_matching(&operator(), &to_d1, page(10, false))
            .await
            .unwrap();
        assert_eq!((done.matched, done.scheduled), (2, 2));
        let (tenant, query) = (TenantId::default(), AuditQuery::default());
        let audit = relay
            .store()
            .audit_entries(&tenant, &query, 10)
            .await
            .unwrap();
        assert_eq!(
            (audit[0].action.as_str(), audit[0].object_kind.as_str()),
            ("replay", "events")
        );
        let exact = ReplaySelection {
            event_type: Some(Glob::new("user.signup")),
            ..ReplaySelection::default()
        };
        let user = events
            .replay_matching(&operator(), &exact, page(10, true))
            .await
            .unwrap();
        assert_eq!((user.examined, user.matched, user.scheduled), (1, 1, 1));
    }

    #[tokio::test]
    async fn pages_end_with_no_cursor_and_a_dry_run_audits_nothing() {
        let relay = relay().await;
        let mut request = page(2, true);
        let mut examined = Vec::new();
        loop {
            let report = relay
                .events()
                .replay_matching(&operator(), &ReplaySelection::default(), request)
                .await
                .unwrap();
            examined.push(report.examined);
            match report.next_cursor {
                Some(cursor) => request.cursor = Some(cursor),
                None => break,
            }
        }
        assert_eq!(examined, [2, 1]);
        let (tenant, query) = (TenantId::default(), AuditQuery::default());
        let audit = relay
            .store()
            .audit_entries(&tenant, &query, 10)
            .await
            .unwrap();
        assert!(audit.is_empty());
    }

    #[tokio::test]
    async fn a_viewer_and_a_bad_limit_are_refused() {
        let relay = relay().await;
        let viewer = Principal {
            role: Role::Viewer,
            ..operator()
        };
        let everything = ReplaySelection::default();
        let refused = relay
            .events()
            .replay_matching(&viewer, &everything, page(10, true))
            .await;
        assert!(
            matches!(refused, Err(AdminError::Forbidden { .. })),
            "{refused:?}"
        );
        for limit in [0, MAX_REPLAY_PAGE + 1] {
            let events = relay.events();
            let operator = operator();
            let refused = events
                .replay_matching(&operator, &everything, page(limit, true))
                .await;
            assert!(matches!(refused, Err(AdminError::Invalid(_))));
        }
    }
}
