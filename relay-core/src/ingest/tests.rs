//! Ingest of Slack's `url_verification` handshake.

use bytes::Bytes;
use http::HeaderMap;

use super::{IngestOutcome, IngestRequest};
use crate::Relay;
use crate::ingest::signature::{GitHub, Slack, hmac_sha256};
use crate::ingest::source::WebhookSource;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const HANDSHAKE: &str = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;

fn relay() -> Relay {
    Relay::builder()
        .source(WebhookSource::new("slack", Slack::new()).secret(SECRET))
        .source(WebhookSource::new("github", GitHub).secret(SECRET))
        .build()
        .expect("valid relay")
}

fn slack_request(source: &str, secret: &str, body: &str) -> IngestRequest {
    let timestamp = Timestamp::now().as_secs().to_string();
    let mac = hmac_sha256(
        secret.as_bytes(),
        &[b"v0:", timestamp.as_bytes(), b":", body.as_bytes()],
    );
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("x-slack-request-timestamp", timestamp.parse().unwrap());
    let signature = format!("v0={}", hex::encode(mac));
    headers.insert("x-slack-signature", signature.parse().unwrap());
    IngestRequest::new(source, headers, Bytes::from(body.to_owned()))
}

#[tokio::test]
async fn a_signed_handshake_is_answered_with_its_challenge_and_not_stored() {
    let relay = relay();
    let outcome = relay
        .ingest(slack_request("slack", SECRET, HANDSHAKE))
        .await;
    assert_eq!(
        outcome,
        IngestOutcome::Challenge {
            challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into()
        }
    );
    // Not stored: the same request again is answered the same way, not as a duplicate.
    let again = relay
        .ingest(slack_request("slack", SECRET, HANDSHAKE))
        .await;
    assert_eq!(again, outcome);
}

#[tokio::test]
async fn an_unsigned_or_badly_signed_handshake_is_refused() {
    let relay = relay();
    let bad = relay
        .ingest(slack_request("slack", "not it", HANDSHAKE))
        .await;
    assert_eq!(bad, IngestOutcome::InvalidSignature);
    let mut unsigned = slack_request("slack", SECRET, HANDSHAKE);
    unsigned.headers.remove("x-slack-signature");
    assert_eq!(
        relay.ingest(unsigned).await,
        IngestOutcome::InvalidSignature
    );
}

#[tokio::test]
async fn slack_events_and_other_schemes_are_ingested_as_events() {
    let relay = relay();
    let callback = r#"{"type":"event_callback","event_id":"Ev1","challenge":"x","event":{"type":"app_mention"}}"#;
    let IngestOutcome::Accepted { event_id } =
        relay.ingest(slack_request("slack", SECRET, callback)).await
    else {
        panic!("an event_callback must be accepted");
    };
    let event = relay
        .store()
        .event(&TenantId::default(), event_id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(event.event_type, "app_mention");

    // A url_verification body to a source of another scheme is just an event.
    let mut headers = HeaderMap::new();
    let mac = hmac_sha256(SECRET.as_bytes(), &[HANDSHAKE.as_bytes()]);
    let signature = format!("sha256={}", hex::encode(mac));
    headers.insert("x-hub-signature-256", signature.parse().unwrap());
    let request = IngestRequest::new("github", headers, Bytes::from_static(HANDSHAKE.as_bytes()));
    assert!(matches!(
        relay.ingest(request).await,
        IngestOutcome::Accepted { .. }
    ));
}
