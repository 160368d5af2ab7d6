//! The example end to end over real HTTP on loopback: paying an invoice publishes
//! `invoice.paid`, delivered once to a real receiver with Relay's headers; paying again
//! publishes nothing; a payload its schema refuses is a 422 and sends nothing. The signature
//! is checked with Relay's own Standard Webhooks verifier (the interop suite checks the
//! official libraries accept Relay's signatures).

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use relay_core::deliver::guard::IpNet;
use relay_core::model::time::Timestamp;
use relay_core::{Relay, Source, StandardWebhooks, WebhookSource};
use serde_json::{Value, json};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn receiver() -> (String, Received) {
    let received = Received::default();
    let sink = Arc::clone(&received);
    let app = Router::new().route(
        "/hooks",
        post(move |headers: HeaderMap, body: String| async move {
            sink.lock().unwrap().push((headers, body));
        }),
    );
    (format!("http://{}/hooks", serve(app).await), received)
}

async fn pay(base: &str, id: &str, body: Value) -> (u16, Value) {
    let response = relay_core::tls::client()
        .post(format!("{base}/invoices/{id}/pay"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn paying_an_invoice_sends_one_signed_webhook() {
    let (url, received) = receiver().await;
    let loopback = IpNet::from(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let relay =
        relay_example_publish::relay(Relay::builder().allow_cidrs([loopback]), &url, SECRET)
            .expect("relay");
    let worker = relay.spawn_worker(Default::default());
    let base = format!("http://{}", serve(relay_example_publish::app(relay)).await);

    let (status, paid) = pay(&base, "inv_42", json!({"amount": 99.5})).await;
    assert_eq!((status, &paid["status"]), (200, &json!("paid")), "{paid}");
    let (status, again) = pay(&base, "inv_42", json!({"amount": 99.5})).await;
    assert_eq!((status, &again["status"]), (200, &json!("already_paid")));
    assert_eq!(again["event_id"], paid["event_id"]);
    let (status, refused) = pay(&base, "inv_43", json!({"amount": "lots"})).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["fields"][0]["field"], "/amount");

    let started = Instant::now();
    while received.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "one webhook for one payment");
    let (headers, body) = &received[0];
    assert_eq!(headers["x-relay-event-type"], "invoice.paid");
    assert_eq!(
        headers["x-relay-event-id"],
        paid["event_id"].as_str().unwrap()
    );
    let verifier = WebhookSource::new("check", StandardWebhooks::new()).secret(SECRET);
    let signed = verifier.verify(headers, body.as_bytes(), Timestamp::now());
    assert!(signed.is_ok(), "{signed:?}");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body, json!({"id": "inv_42", "amount": 99.5}));
    worker.shutdown().await;
}
