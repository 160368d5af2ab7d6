//! The attempt view: each attempt's request as sent (method, URL, redacted headers, body),
//! its response (status, capped headers, body excerpt, timing), the wait before it, and
//! whether it was a manual replay and by whom (the audit log's actor).

use super::attempt_dto::{
    AttemptHeaderItem, AttemptItem, AttemptRequestItem, AttemptResponseItem, ReplayMarkItem,
};
use super::dto::time;
use relay_core::control::admin::AuditEntry;
use relay_core::model::event::{Attempt, AttemptOutcome, Delivery};
use relay_core::model::time::Timestamp;

fn headers(pairs: Vec<(String, String)>) -> Vec<AttemptHeaderItem> {
    (pairs.into_iter())
        .map(|(name, value)| AttemptHeaderItem { name, value })
        .collect()
}

/// Whether an attempt's outcome ended its delivery (so only a replay attempts it again).
fn final_outcome(outcome: AttemptOutcome) -> bool {
    matches!(
        outcome,
        AttemptOutcome::Delivered | AttemptOutcome::DeadLettered
    )
}

/// The replay between `after` and `before` that concerns `delivery`, newest first among
/// `replays` (audit entries of replays, newest first).
fn replay_between<'a>(
    replays: &'a [AuditEntry],
    delivery: &Delivery,
    after: Timestamp,
    before: Timestamp,
) -> Option<&'a AuditEntry> {
    let event = delivery.event_id.to_string();
    let pair = format!("{event}/{}", delivery.destination);
    replays.iter().find(|entry| {
        let concerns = match entry.object_kind.as_str() {
            "event" => entry.object_id == event,
            "dead_letters" => [event.as_str(), pair.as_str(), &delivery.destination, "*"]
                .contains(&entry.object_id.as_str()),
            "events" => true,
            _ => false,
        };
        concerns && entry.at >= after && entry.at <= before
    })
}

/// The attempt log of `delivery` for the attempt view: `replays` are the audit entries of
/// replays that may concern it, newest first.
pub(crate) fn attempt_items(
    delivery: &Delivery,
    attempts: Vec<Attempt>,
    replays: &[AuditEntry],
) -> Vec<AttemptItem> {
    let mut previous: Option<(Timestamp, AttemptOutcome)> = None;
    let mut items = Vec::with_capacity(attempts.len());
    for attempt in attempts {
        let latency_ms = u64::from(attempt.latency_ms);
        let micros = attempt.detail.latency_us;
        let ended = attempt.started_at.plus(std::time::Duration::from_micros(
            micros.unwrap_or(latency_ms * 1000),
        ));
        let since = previous.map_or(delivery.created_at, |(end, _)| end);
        let wait_ms = u64::try_from(attempt.started_at.as_millis() - since.as_millis()).ok();
        let replay = match previous {
            Some((end, outcome)) if final_outcome(outcome) => Some(
                match replay_between(replays, delivery, end, attempt.started_at) {
                    Some(entry) => ReplayMarkItem {
                        by: Some(entry.actor.clone()),
                        action: Some(entry.action.clone()),
                        at: Some(time(entry.at)),
                    },
                    None => ReplayMarkItem {
                        by: None,
                        action: None,
                        at: None,
                    },
                },
            ),
            _ => None,
        };
        previous = Some((ended, attempt.outcome));
        let detail = attempt.detail;
        let sent =
            detail.method.is_some() || detail.url.is_some() || !detail.request_headers.is_empty();
        let request = sent.then(|| AttemptRequestItem {
            method: detail.method,
            url: detail.url,
            headers: headers(detail.request_headers),
            body_source: if detail.request_body.is_some() {
                "transformed"
            } else {
                "event"
            }
            .to_owned(),
            body: (detail.request_body).map(|b| String::from_utf8_lossy(&b).into_owned()),
        });
        let response = AttemptResponseItem {
            status_code: attempt.status_code,
            headers: headers(detail.response_headers),
            body_excerpt: attempt.response_excerpt.clone(),
        };
        items.push(AttemptItem {
            number: attempt.number,
            started_at: time(attempt.started_at),
            ended_at: Some(time(ended)),
            latency_ms: attempt.latency_ms,
            latency_us: micros,
            wait_ms,
            status_code: attempt.status_code,
            error: attempt.error,
            response_excerpt: attempt.response_excerpt,
            outcome: attempt.outcome.as_str().to_owned(),
            request,
            response: Some(response),
            replay,
        });
    }
    items
}

#[cfg(test)]
mod tests {
    use relay_core::model::attempt_detail::AttemptDetail;
    use relay_core::model::event::DeliveryStatus;
    use relay_core::model::ids::{AuditId, DeliveryId, EventId, TenantId};

    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000 + ms)
    }

    fn attempt(delivery: &Delivery, number: u32, start: i64, outcome: AttemptOutcome) -> Attempt {
        Attempt {
            delivery_id: delivery.id,
            number,
            started_at: at(start),
            latency_ms: 2,
            status_code: Some(503),
            error: None,
            response_excerpt: None,
            outcome,
            detail: AttemptDetail {
                latency_us: Some(2_500),
                ..AttemptDetail::default()
            },
        }
    }

    fn replayed(actor: &str, kind: &str, id: &str, when: i64) -> AuditEntry {
        AuditEntry {
            id: AuditId::new(),
            tenant: TenantId::default(),
            at: at(when),
            actor: actor.into(),
            action: "replay".into(),
            object_kind: kind.into(),
            object_id: id.into(),
            changes: Vec::new(),
            client: None,
        }
    }

    #[test]
    fn waits_timing_and_the_replay_that_led_to_an_attempt() {
        let delivery = Delivery {
            tenant: TenantId::default(),
            id: DeliveryId::new(),
            event_id: EventId::new(),
            destination: "crm".into(),
            route: "r".into(),
            ordering_key: None,
            status: DeliveryStatus::Delivered,
            attempts: 3,
            cycle_attempts: 1,
            next_attempt_at: at(0),
            last_error: None,
            created_at: at(0),
            updated_at: at(0),
        };
        let attempts = vec![
            attempt(&delivery, 1, 10, AttemptOutcome::Retrying),
            attempt(&delivery, 2, 112, AttemptOutcome::DeadLettered),
            attempt(&delivery, 3, 60_000, AttemptOutcome::Delivered),
        ];
        let pair = format!("{}/crm", delivery.event_id);
        let replays = [
            // Newest first: one after the attempt, one of another delivery, the one.
            replayed("user:late", "dead_letters", &pair, 70_000),
            replayed("user:other", "dead_letters", "evt_x/crm", 59_000),
            replayed("user:ann", "dead_letters", &pair, 50_000),
        ];
        let items = attempt_items(&delivery, attempts, &replays);
        assert_eq!(items[0].wait_ms, Some(10), "since the delivery was planned");
        assert_eq!(
            items[1].wait_ms,
            Some(100),
            "since the first ended (10 ms + 2.5 ms)"
        );
        assert_eq!(
            items[0].ended_at.as_deref(),
            Some("2023-11-14T22:13:20.012Z")
        );
        assert_eq!(items[0].latency_us, Some(2_500));
        assert!(items[0].replay.is_none() && items[1].replay.is_none());
        let replay = items[2].replay.as_ref().expect("a replay");
        assert_eq!(replay.by.as_deref(), Some("user:ann"));
        assert!(items[0].request.is_none(), "nothing kept of the request");
        assert_eq!(
            items[2].response.as_ref().and_then(|r| r.status_code),
            Some(503)
        );

        let unknown = attempt_items(
            &delivery,
            vec![
                attempt(&delivery, 1, 10, AttemptOutcome::Delivered),
                attempt(&delivery, 2, 900, AttemptOutcome::Delivered),
            ],
            &[],
        );
        let replay = unknown[1]
            .replay
            .as_ref()
            .expect("a replay without its audit entry");
        assert_eq!(replay.by, None);
    }
}
