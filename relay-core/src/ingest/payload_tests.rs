//! Ingest of sources that validate payloads against their event type's schema.

use http::HeaderMap;
use serde_json::json;

use super::{IngestOutcome, IngestRequest};
use crate::Relay;
use crate::ingest::signature::NoSignature;
use crate::ingest::source::WebhookSource;
use crate::publish::EventType;

fn relay() -> Relay {
    let order =
        json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}});
    Relay::builder()
        .source(WebhookSource::new("checked", NoSignature).validate_payload(true))
        .source(WebhookSource::new("trusting", NoSignature))
        .event_type(EventType::new("order.created").schema(order).unwrap())
        .build()
        .unwrap()
}

fn request(source: &str, event_type: &str, body: &str) -> IngestRequest {
    let mut headers = HeaderMap::new();
    headers.insert("x-event-type", event_type.parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    IngestRequest::new(source, headers, body.to_owned())
}

#[tokio::test]
async fn a_validating_source_refuses_a_payload_that_breaks_the_schema() {
    let relay = relay();
    let outcome = relay
        .ingest(request("checked", "order.created", r#"{"id": "seven"}"#))
        .await;
    let IngestOutcome::InvalidPayload { fields } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(fields[0].field, "/id");
    assert_eq!(outcome.status(), 422);
    let body: serde_json::Value = serde_json::from_str(&outcome.body()).unwrap();
    assert_eq!(body["error"], "invalid_payload");
    assert_eq!(body["fields"][0]["field"], "/id");

    let not_json = relay
        .ingest(request("checked", "order.created", "id=7"))
        .await;
    assert!(
        matches!(not_json, IngestOutcome::InvalidPayload { .. }),
        "{not_json:?}"
    );
}

#[tokio::test]
async fn matching_payloads_other_types_and_other_sources_pass() {
    let relay = relay();
    for (source, event_type, body) in [
        ("checked", "order.created", r#"{"id": 7}"#),
        ("checked", "order.deleted", r#"{"id": "seven"}"#),
        ("trusting", "order.created", r#"{"id": "seven"}"#),
    ] {
        let outcome = relay.ingest(request(source, event_type, body)).await;
        assert!(
            matches!(outcome, IngestOutcome::Accepted { .. }),
            "{source} {event_type} {body}: {outcome:?}"
        );
    }
}
