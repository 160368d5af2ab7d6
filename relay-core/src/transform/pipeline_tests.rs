//! Conditions and transformers through ingest and the delivery worker.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Value, json};

use crate::Relay;
use crate::deliver::WorkerConfig;
use crate::deliver::destination::{Destination, HandlerError, Message};
use crate::ingest::signature::NoSignature;
use crate::ingest::source::WebhookSource;
use crate::ingest::{IngestOutcome, IngestRequest};
use crate::model::event::{AttemptOutcome, DeliveryStatus};
use crate::model::ids::{EventId, TenantId};
use crate::route::{ConditionSpec, EventRoute, Op};

type Received = Arc<Mutex<Vec<(String, Value)>>>;

fn recording(name: &'static str, received: &Received) -> Destination {
    let received = received.clone();
    Destination::handler(name, move |m: Message| {
        let received = received.clone();
        async move {
            let body = serde_json::from_slice(&m.body).unwrap_or(Value::Null);
            received
                .lock()
                .map_err(|_| HandlerError::Reject("poisoned".into()))?
                .push((name.to_owned(), body));
            Ok::<(), HandlerError>(())
        }
    })
}

async fn ingest(relay: &Relay, source: &str, headers: HeaderMap, body: &'static str) -> EventId {
    match relay
        .ingest(IngestRequest::new(
            source,
            headers,
            Bytes::from_static(body.as_bytes()),
        ))
        .await
    {
        IngestOutcome::Accepted { event_id } => event_id,
        other => panic!("{other:?}"),
    }
}

/// Waits until every delivery of the event is delivered or dead-lettered.
async fn settled(relay: &Relay, event: EventId) -> Vec<crate::model::event::Delivery> {
    let tenant = TenantId::default();
    for _ in 0..200 {
        let deliveries = relay.store().deliveries(&tenant, event).await.unwrap();
        if deliveries.iter().all(|d| {
            matches!(
                d.status,
                DeliveryStatus::Delivered | DeliveryStatus::DeadLettered
            )
        }) {
            return deliveries;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("deliveries of {event} did not settle");
}

#[tokio::test]
async fn conditions_route_and_transform_errors_dead_letter_without_retry() {
    let received = Received::default();
    let relay = Relay::builder()
        .source(WebhookSource::new("github", NoSignature))
        .source(WebhookSource::new("calendar", NoSignature))
        .destination(recording("slack", &received))
        .destination(recording("rows", &received))
        .route(
            EventRoute::new("main-to-slack")
                .source("github")
                .conditions([ConditionSpec::new(
                    "$.ref",
                    Op::StartsWith,
                    Some(json!("refs/heads/")),
                )])
                .unwrap()
                .to(["slack"])
                .transformer("github_to_slack"),
        )
        .route(
            EventRoute::new("calendar-changes")
                .source("calendar")
                .conditions([ConditionSpec::new(
                    "$.__goog_meta.resource_state",
                    Op::In,
                    Some(json!(["exists", "not_exists"])),
                )])
                .unwrap()
                .to(["rows"])
                .transformer("calendar_to_database"),
        )
        .build()
        .unwrap();
    let worker = relay.spawn_worker(WorkerConfig::default());

    // A push-shaped payload that github_to_slack cannot read: one attempt, dead-lettered.
    let bad = ingest(
        &relay,
        "github",
        HeaderMap::new(),
        r#"{"ref": "refs/heads/x"}"#,
    )
    .await;
    let deliveries = settled(&relay, bad).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].status, DeliveryStatus::DeadLettered);
    let attempts = relay
        .store()
        .attempts(&TenantId::default(), deliveries[0].id)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1, "a transform error is not retried");
    assert_eq!(attempts[0].outcome, AttemptOutcome::DeadLettered);
    assert_eq!(
        attempts[0].error.as_deref(),
        Some(
            "transform: github_to_slack: not a GitHub push payload (no string `repository.full_name`)"
        )
    );

    // A condition that does not hold routes nowhere.
    let tag = ingest(
        &relay,
        "github",
        HeaderMap::new(),
        r#"{"ref": "refs/tags/v1"}"#,
    )
    .await;
    assert!(
        relay
            .store()
            .deliveries(&TenantId::default(), tag)
            .await
            .unwrap()
            .is_empty()
    );

    // Google headers with an empty body: routed on `$.__goog_meta`, shaped into a row.
    let mut headers = HeaderMap::new();
    headers.insert("x-goog-channel-id", "chan".parse().unwrap());
    headers.insert("x-goog-resource-state", "exists".parse().unwrap());
    headers.insert("x-goog-message-number", "42".parse().unwrap());
    let sync_headers = {
        let mut h = headers.clone();
        h.insert("x-goog-resource-state", "sync".parse().unwrap());
        h.insert("idempotency-key", "sync-1".parse().unwrap());
        h
    };
    let change = ingest(&relay, "calendar", headers, "").await;
    assert_eq!(
        settled(&relay, change).await[0].status,
        DeliveryStatus::Delivered
    );
    let sync = ingest(&relay, "calendar", sync_headers, "").await;
    assert!(
        relay
            .store()
            .deliveries(&TenantId::default(), sync)
            .await
            .unwrap()
            .is_empty()
    );
    worker.shutdown().await;

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:?}");
    let (destination, row) = &received[0];
    assert_eq!(destination, "rows");
    assert_eq!(
        (
            row["channel_id"].as_str(),
            row["resource_state"].as_str(),
            row["message_number"].as_u64()
        ),
        (Some("chan"), Some("exists"), Some(42))
    );
    assert_eq!(row["event_id"], change.to_string());
}
