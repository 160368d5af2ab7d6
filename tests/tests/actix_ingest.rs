//! End to end through actix-web: a real `HttpServer` with `RelayMiddleware` on loopback,
//! delivering to a real loopback receiver; and the shared ingest contract.

use std::time::Duration;

use relay_actix::RelayMiddleware;
use relay_core::Relay;
use relay_core::deliver::WorkerConfig;
use relay_core::deliver::destination::Destination;
use relay_core::deliver::policy::RetryPolicy;
use relay_core::ingest::signature::{GitHub, NoSignature};
use relay_core::ingest::source::WebhookSource;
use relay_core::model::event::{Delivery, DeliveryStatus};
use relay_core::model::ids::{EventId, TenantId};
use relay_core::route::EventRoute;
use relay_tests::actix::serve_actix;
use relay_tests::contract::{self, SECRET};
use relay_tests::{Receiver, eventually, github_signature};
use serde_json::{Value, json};

const OUTBOUND_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test]
async fn the_ingest_contract() {
    contract::run(|relay| async move { serve_actix(RelayMiddleware::new(relay)) }).await;
}

async fn post(url: String, headers: &[(&str, String)], body: &[u8]) -> (u16, Value) {
    let mut request = relay_core::tls::client().post(url).body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn delivered(relay: &Relay, event: EventId) -> Delivery {
    let deliveries = || async {
        let all = relay
            .store()
            .deliveries(&TenantId::default(), event)
            .await
            .expect("store");
        all.into_iter()
            .find(|d| d.status == DeliveryStatus::Delivered)
    };
    eventually(Duration::from_secs(10), deliveries)
        .await
        .expect("delivered in time")
}

#[tokio::test]
async fn a_signed_push_is_delivered_once_to_a_loopback_receiver() {
    let receiver = Receiver::ok().await;
    let destination = Destination::http("receiver", &receiver.url)
        .expect("loopback URL")
        .signing_secret(OUTBOUND_SECRET)
        .policy(RetryPolicy::new(
            3,
            Duration::from_millis(10),
            Duration::from_millis(50),
        ));
    let relay = Relay::builder()
        .allow_cidrs(relay_tests::loopback())
        .source(WebhookSource::new("github", GitHub).secret(SECRET))
        .destination(destination)
        .route(
            EventRoute::new("pushes")
                .source("github")
                .event_types(["push"])
                .to(["receiver"]),
        )
        .build()
        .expect("valid configuration");
    let _worker =
        relay.spawn_worker(WorkerConfig::default().poll_interval(Duration::from_millis(20)));
    let addr = serve_actix(RelayMiddleware::new(relay.clone()));

    let body = br#"{"ref":"refs/heads/main","repository":{"full_name":"acme/relay"}}"#;
    let headers = [
        ("x-github-event", "push".to_owned()),
        ("x-github-delivery", "d-actix".to_owned()),
        ("x-hub-signature-256", github_signature(SECRET, body)),
        ("content-type", "application/json".to_owned()),
    ];
    let url = format!("http://{addr}/webhooks/github");
    let (status, reply) = post(url.clone(), &headers, body).await;
    assert_eq!((status, &reply["status"]), (200, &json!("accepted")));
    let event: EventId = reply["event_id"].as_str().unwrap().parse().unwrap();
    let delivery = delivered(&relay, event).await;

    let (status, again) = post(url, &headers, body).await;
    assert_eq!(
        (status, again),
        (
            200,
            json!({"status": "duplicate", "event_id": event.to_string()})
        )
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    received[0].assert_signed_delivery(&delivery.id.to_string(), 1, OUTBOUND_SECRET, body);
}

#[tokio::test]
async fn a_custom_prefix_moves_ingest_and_leaves_the_default_path_to_the_app() {
    let relay = Relay::builder()
        .allow_cidrs(relay_tests::loopback())
        .source(WebhookSource::new("raw", NoSignature))
        .build()
        .expect("valid configuration");
    let addr = serve_actix(RelayMiddleware::new(relay).prefix("hooks/"));
    let (status, reply) = post(format!("http://{addr}/hooks/raw"), &[], b"{}").await;
    assert_eq!((status, &reply["status"]), (200, &json!("accepted")));
    let (status, reply) = post(format!("http://{addr}/webhooks/raw"), &[], b"{}").await;
    assert_eq!((status, reply), (404, Value::Null));
}
