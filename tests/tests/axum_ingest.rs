//! End to end through axum: a real app with `RelayLayer` on loopback, real scripted receivers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use relay_axum::RelayLayer;
use relay_core::Relay;
use relay_core::deliver::destination::{Destination, HandlerError, Message};
use relay_core::deliver::policy::RetryPolicy;
use relay_core::deliver::{WorkerConfig, WorkerHandle};
use relay_core::ingest::signature::{GitHub, NoSignature};
use relay_core::ingest::source::WebhookSource;
use relay_core::model::event::{AttemptOutcome, Delivery, DeliveryStatus};
use relay_core::model::ids::{EventId, TenantId};
use relay_core::route::EventRoute;
use relay_core::store::DeadLetterFilter;
use relay_tests::{Answer, Receiver, contract_app, eventually, github_signature, serve};
use serde_json::{Value, json};

const SECRET: &str = "It's a Secret to Everybody";
const OUTBOUND_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const WAIT: Duration = Duration::from_secs(10);

struct Gateway {
    base: String,
    relay: Relay,
    http: reqwest::Client,
    _worker: WorkerHandle,
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::new(
        max_attempts,
        Duration::from_millis(10),
        Duration::from_millis(50),
    )
}

fn worker_config() -> WorkerConfig {
    WorkerConfig::default().poll_interval(Duration::from_millis(20))
}

async fn gateway_with(builder: relay_core::RelayBuilder) -> Gateway {
    let relay = builder
        .allow_cidrs(relay_tests::loopback())
        .source(WebhookSource::new("github", GitHub).secret(SECRET))
        .build()
        .expect("valid configuration");
    let worker = relay.spawn_worker(worker_config());
    let app = Router::new()
        .route("/", get(|| async { "the app" }))
        .layer(RelayLayer::new(relay.clone()));
    let addr = serve(app).await;
    Gateway {
        base: format!("http://{addr}"),
        relay,
        http: relay_core::tls::client(),
        _worker: worker,
    }
}

/// A gateway routing GitHub pushes to one HTTP destination.
async fn gateway(receiver: &Receiver, policy: RetryPolicy, timeout: Duration) -> Gateway {
    let destination = Destination::http("receiver", &receiver.url)
        .expect("loopback URL")
        .signing_secret(OUTBOUND_SECRET)
        .policy(policy)
        .timeout(timeout);
    let route = EventRoute::new("pushes")
        .source("github")
        .event_types(["push"])
        .to(["receiver"]);
    gateway_with(Relay::builder().destination(destination).route(route)).await
}

fn push_body() -> Vec<u8> {
    serde_json::to_vec(&json!({"ref": "refs/heads/main", "repository": {"full_name": "acme/relay"}, "pad": "x".repeat(900)}))
        .expect("json")
}

impl Gateway {
    async fn post(
        &self,
        source: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut request = self
            .http
            .post(format!("{}/webhooks/{source}", self.base))
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body, headers)
    }

    async fn push(&self, delivery: &str, body: Vec<u8>) -> (u16, Value) {
        let headers = [
            ("x-github-event", "push".to_owned()),
            ("x-github-delivery", delivery.to_owned()),
            ("x-hub-signature-256", github_signature(SECRET, &body)),
            ("content-type", "application/json".to_owned()),
        ];
        let (status, body, _) = self.post("github", &headers, body).await;
        (status, body)
    }

    async fn only_delivery(&self, event: EventId) -> Delivery {
        let deliveries = self
            .relay
            .store()
            .deliveries(&TenantId::default(), event)
            .await
            .expect("store");
        assert_eq!(deliveries.len(), 1, "{deliveries:?}");
        deliveries.into_iter().next().expect("one delivery")
    }

    async fn wait_for_status(&self, event: EventId, status: DeliveryStatus) -> Delivery {
        eventually(WAIT, || async {
            let delivery = self.only_delivery(event).await;
            (delivery.status == status).then_some(delivery)
        })
        .await
        .unwrap_or_else(|| panic!("delivery of {event} never reached {status:?}"))
    }
}

fn event_id(body: &Value) -> EventId {
    body["event_id"]
        .as_str()
        .expect("event_id")
        .parse()
        .expect("valid event id")
}

#[tokio::test]
async fn signed_push_is_delivered_once_with_the_original_body_and_signed_headers() {
    let receiver = Receiver::ok().await;
    let gw = gateway(&receiver, fast_retries(3), Duration::from_secs(5)).await;
    let body = push_body();
    let (status, reply) = gw.push("d-1", body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(reply["status"], "accepted");
    let event = event_id(&reply);
    let delivery = gw.wait_for_status(event, DeliveryStatus::Delivered).await;

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let got = &received[0];
    got.assert_signed_delivery(&delivery.id.to_string(), 1, OUTBOUND_SECRET, &body);
    assert_eq!(got.headers["content-type"], "application/json");
    let trace = got.headers["traceparent"].to_str().unwrap();
    assert!(
        trace.contains(&event.as_uuid().simple().to_string()),
        "{trace}"
    );
}

#[tokio::test]
async fn the_same_github_delivery_again_is_a_duplicate_and_not_delivered_twice() {
    let receiver = Receiver::ok().await;
    let gw = gateway(&receiver, fast_retries(3), Duration::from_secs(5)).await;
    let (_, first) = gw.push("d-dup", push_body()).await;
    let original = event_id(&first);
    gw.wait_for_status(original, DeliveryStatus::Delivered)
        .await;
    let (status, again) = gw.push("d-dup", push_body()).await;
    assert_eq!(status, 200);
    assert_eq!(
        again,
        json!({"status": "duplicate", "event_id": original.to_string()})
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.count(), 1);
}

#[tokio::test]
async fn bad_missing_or_garbled_signatures_are_refused_and_nothing_is_delivered() {
    let receiver = Receiver::ok().await;
    let gw = gateway(&receiver, fast_retries(3), Duration::from_secs(5)).await;
    let body = push_body();
    let wrong = github_signature("not the secret", &body);
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![("x-hub-signature-256", wrong)],
        vec![],
        vec![("x-hub-signature-256", "sha256=zz".to_owned())],
        vec![(
            "x-hub-signature-256",
            github_signature(SECRET, b"other body"),
        )],
    ];
    for mut headers in cases {
        headers.push(("x-github-event", "push".to_owned()));
        let (status, reply, _) = gw.post("github", &headers, body.clone()).await;
        assert_eq!(
            (status, reply),
            (401, json!({"error": "invalid_signature"}))
        );
    }
    let raw = gw
        .http
        .post(format!("{}/webhooks/github", gw.base))
        .header(
            "x-hub-signature-256",
            reqwest::header::HeaderValue::from_bytes(b"sha256=\xff\xfe").unwrap(),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.count(), 0);
}

#[tokio::test]
async fn a_receiver_failing_three_times_then_ok_gets_four_attempts_with_one_webhook_id() {
    let receiver = Receiver::start(
        [
            Answer::Status(500),
            Answer::Status(502),
            Answer::Status(503),
        ],
        Answer::Status(200),
    )
    .await;
    let gw = gateway(&receiver, fast_retries(8), Duration::from_secs(5)).await;
    let (_, reply) = gw.push("d-flaky", push_body()).await;
    let delivery = gw
        .wait_for_status(event_id(&reply), DeliveryStatus::Delivered)
        .await;
    assert_eq!(delivery.attempts, 4);

    let attempts = gw
        .relay
        .store()
        .attempts(&TenantId::default(), delivery.id)
        .await
        .unwrap();
    let numbers: Vec<u32> = attempts.iter().map(|a| a.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    let codes: Vec<Option<u16>> = attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, [Some(500), Some(502), Some(503), Some(200)]);
    assert_eq!(attempts[3].outcome, AttemptOutcome::Delivered);
    assert!(
        attempts[..3]
            .iter()
            .all(|a| a.outcome == AttemptOutcome::Retrying)
    );

    let received = receiver.received();
    let headers: Vec<(String, String)> = received
        .iter()
        .map(|r| {
            (
                r.headers["webhook-id"].to_str().unwrap().to_owned(),
                r.headers["x-relay-attempt"].to_str().unwrap().to_owned(),
            )
        })
        .collect();
    let id = delivery.id.to_string();
    assert_eq!(
        headers,
        [
            (id.clone(), "1".into()),
            (id.clone(), "2".into()),
            (id.clone(), "3".into()),
            (id, "4".into())
        ]
    );
}

#[tokio::test]
async fn an_always_failing_receiver_is_dead_lettered_then_redriven_and_delivered() {
    let receiver = Receiver::start([], Answer::Status(500)).await;
    let gw = gateway(&receiver, fast_retries(3), Duration::from_secs(5)).await;
    let (_, reply) = gw.push("d-dead", push_body()).await;
    let event = event_id(&reply);
    let dead = gw
        .wait_for_status(event, DeliveryStatus::DeadLettered)
        .await;
    assert_eq!(dead.attempts, 3);
    assert_eq!(receiver.count(), 3);
    let listed = gw
        .relay
        .store()
        .dead_letters(&TenantId::default(), &DeadLetterFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|d| d.id).collect::<Vec<_>>(), [dead.id]);

    receiver.answer_from_now(Answer::Status(200));
    let filter = DeadLetterFilter {
        destination: Some("receiver".into()),
        ..Default::default()
    };
    assert_eq!(
        gw.relay
            .events()
            .redrive_dead_letters(&TenantId::default(), &filter)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        gw.relay
            .events()
            .redrive_dead_letters(&TenantId::default(), &filter)
            .await
            .unwrap(),
        0
    );
    let delivered = gw.wait_for_status(event, DeliveryStatus::Delivered).await;
    assert_eq!(delivered.attempts, 4);
    assert_eq!(receiver.received()[3].headers["x-relay-attempt"], "4");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let receiver = Receiver::start([Answer::RetryAfter(503, 1)], Answer::Status(200)).await;
    let policy = RetryPolicy::new(5, Duration::from_millis(10), Duration::from_secs(5));
    let gw = gateway(&receiver, policy, Duration::from_secs(5)).await;
    let (_, reply) = gw.push("d-retry-after", push_body()).await;
    gw.wait_for_status(event_id(&reply), DeliveryStatus::Delivered)
        .await;
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let gap = received[1].at - received[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "second attempt came after only {gap:?}"
    );
}

#[tokio::test]
async fn a_receiver_hanging_past_the_timeout_is_retried() {
    let receiver = Receiver::start([Answer::Hang], Answer::Status(200)).await;
    let gw = gateway(&receiver, fast_retries(3), Duration::from_millis(300)).await;
    let (_, reply) = gw.push("d-hang", push_body()).await;
    let delivery = gw
        .wait_for_status(event_id(&reply), DeliveryStatus::Delivered)
        .await;
    let attempts = gw
        .relay
        .store()
        .attempts(&TenantId::default(), delivery.id)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].status_code, None);
    assert!(
        attempts[0]
            .error
            .as_deref()
            .unwrap_or("")
            .starts_with("timeout"),
        "{:?}",
        attempts[0].error
    );
}

#[tokio::test]
async fn thirty_two_concurrent_identical_requests_make_exactly_one_event_and_one_delivery() {
    let receiver = Receiver::ok().await;
    let gw = Arc::new(gateway(&receiver, fast_retries(3), Duration::from_secs(5)).await);
    let body = push_body();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (gw, body) = (gw.clone(), body.clone());
            tokio::spawn(async move { gw.push("d-race", body).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    assert!(replies.iter().all(|(status, _)| *status == 200));
    let accepted: Vec<&Value> = replies
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r["status"] == "accepted")
        .collect();
    let duplicates = replies
        .iter()
        .filter(|(_, r)| r["status"] == "duplicate")
        .count();
    assert_eq!((accepted.len(), duplicates), (1, 31));
    let original = accepted[0]["event_id"].clone();
    assert!(replies.iter().all(|(_, r)| r["event_id"] == original));
    gw.wait_for_status(event_id(accepted[0]), DeliveryStatus::Delivered)
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.count(), 1);
}

#[tokio::test]
async fn the_ingest_contract() {
    relay_tests::contract::run(|relay| serve(contract_app().layer(RelayLayer::new(relay)))).await;
}

#[tokio::test]
async fn raw_bodies_are_routed_by_their_event_type_header_and_delivered_byte_for_byte() {
    let receiver = Receiver::ok().await;
    let destination = Destination::http("receiver", &receiver.url).unwrap();
    let builder = Relay::builder()
        .source(WebhookSource::new("raw", NoSignature))
        .destination(destination)
        .route(
            EventRoute::new("raw-orders")
                .source("raw")
                .event_types(["order.*"])
                .to(["receiver"]),
        );
    let gw = gateway_with(builder).await;

    let headers = [("x-event-type", "order.created".to_owned())];
    let (status, body, _) = gw
        .post("raw", &headers, b"\xff\x00 not json".to_vec())
        .await;
    assert_eq!((status, &body["status"]), (200, &json!("accepted")));
    let delivered = gw
        .wait_for_status(event_id(&body), DeliveryStatus::Delivered)
        .await;
    assert_eq!(delivered.destination, "receiver");
    assert_eq!(receiver.received()[0].body.as_ref(), b"\xff\x00 not json");

    let (status, body, _) = gw.post("raw", &[], Vec::new()).await;
    assert_eq!((status, &body["status"]), (200, &json!("accepted")));
    let stored = gw
        .relay
        .store()
        .event(&TenantId::default(), event_id(&body))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.event_type, "unknown");
    assert_eq!(
        stored.status,
        relay_core::model::event::EventStatus::NoRoute
    );
}

#[tokio::test]
async fn an_in_process_handler_gets_verified_deduplicated_retried_events() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let handler = Destination::handler("app", move |message: Message| {
        let seen = seen.clone();
        async move {
            assert_eq!(message.event_type, "push");
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(HandlerError::Retry("database busy".into()));
            }
            Ok(())
        }
    })
    .policy(fast_retries(3));
    let builder = Relay::builder()
        .destination(handler)
        .route(EventRoute::new("to-app").event_types(["push"]).to(["app"]));
    let gw = gateway_with(builder).await;
    let (_, reply) = gw.push("d-handler", push_body()).await;
    let delivery = gw
        .wait_for_status(event_id(&reply), DeliveryStatus::Delivered)
        .await;
    assert_eq!(delivery.attempts, 2);
    let (_, again) = gw.push("d-handler", push_body()).await;
    assert_eq!(again["status"], "duplicate");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
