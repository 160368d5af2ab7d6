//! Subscriptions over the admin API: one `POST /api/v1/subscriptions` makes a consumer's
//! endpoint and its event-type filter; published events of those types (and only those) reach
//! a real receiver on loopback, signed with the secret the answer showed; a bad field or a
//! taken name stores nothing; `DELETE` takes both halves.

use std::time::Duration;

use relay_core::Relay;
use relay_core::control::admin::{Principal, Role};
use relay_core::control::credentials::Keyring;
use relay_core::model::ids::{EventId, TenantId};
use relay_core::publish::{Publish, Published};
use relay_tests::pipeline::Pipeline;
use relay_tests::{Receiver, eventually, loopback, serve};
use reqwest::Method;
use serde_json::{Value, json};

struct Admin {
    base: String,
    token: String,
}

impl Admin {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = relay_core::tls::client()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin API answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

async fn start() -> (Pipeline, Admin) {
    let pipeline = Pipeline::start(
        Relay::builder()
            .keyring(Keyring::generate())
            .allow_cidrs(loopback()),
    );
    let system = Principal::system(TenantId::default());
    let access = pipeline.relay.access();
    let key = access.create_api_key(&system, "admin", Role::Admin).await;
    let token = key.expect("key").token.expose().to_owned();
    let app = relay_axum::admin::router(pipeline.relay.clone(), Default::default());
    let base = format!("http://{}", serve(app).await);
    (pipeline, Admin { base, token })
}

async fn publish(pipeline: &Pipeline, event_type: &str) -> EventId {
    let published = pipeline
        .relay
        .publish(Publish::new(event_type, json!({"n": 1})));
    match published.await.expect("published") {
        Published::Accepted { event_id } => event_id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn one_call_subscribes_an_endpoint_to_its_event_types() {
    let (pipeline, admin) = start().await;
    let receiver = Receiver::ok().await;
    let body = json!({
        "destination": {"name": "acme", "url": receiver.url},
        "event_types": ["invoice.*"]
    });
    let (status, created) = admin
        .call(Method::POST, "/api/v1/subscriptions", Some(body.clone()))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["destination"]["name"], "acme");
    assert_eq!(created["route"]["name"], "acme");
    assert_eq!(created["route"]["source"], "app");
    assert_eq!(created["route"]["destinations"], json!(["acme"]));
    let secret = created["signing_secret"]
        .as_str()
        .expect("secret")
        .to_owned();

    let paid = publish(&pipeline, "invoice.paid").await;
    publish(&pipeline, "user.created").await;
    let received = eventually(Duration::from_secs(10), || async {
        let received = receiver.received();
        (!received.is_empty()).then_some(received)
    })
    .await
    .expect("the subscribed type arrives");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.count(), 1, "user.created is not subscribed");
    let request = &received[0];
    assert_eq!(request.headers["x-relay-event-type"], "invoice.paid");
    let delivery = pipeline.delivery(paid, "acme").await;
    request.assert_signed_delivery(&delivery.id.to_string(), 1, &secret, &request.body);

    // The same name again: 409, and nothing changes.
    let (status, _) = admin
        .call(Method::POST, "/api/v1/subscriptions", Some(body))
        .await;
    assert_eq!(status, 409);

    let (status, _) = admin
        .call(Method::DELETE, "/api/v1/subscriptions/acme", None)
        .await;
    assert_eq!(status, 204);
    for path in ["/api/v1/destinations/acme", "/api/v1/routes/acme"] {
        assert_eq!(admin.call(Method::GET, path, None).await.0, 404, "{path}");
    }
    let (status, _) = admin
        .call(Method::DELETE, "/api/v1/subscriptions/acme", None)
        .await;
    assert_eq!(status, 404);
    pipeline.stop().await;
}

#[tokio::test]
async fn a_refused_subscription_stores_neither_half() {
    let (pipeline, admin) = start().await;
    let cases = [
        (
            json!({"destination": {"name": "acme", "url": "http://10.0.0.1/hooks"}}),
            "destination.url",
        ),
        (
            json!({"destination": {"name": "acme", "url": "http://127.0.0.1:9/"}, "event_types": ["invoice.*"], "source": "nowhere"}),
            "source",
        ),
        (
            json!({"destination": {"name": "acme", "url": "http://127.0.0.1:9/"}, "transformer": "missing"}),
            "transformer",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = admin
            .call(Method::POST, "/api/v1/subscriptions", Some(body))
            .await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["error"], "invalid");
        assert_eq!(answer["fields"][0]["field"], field, "{answer}");
    }
    let (status, answer) = admin
        .call(
            Method::POST,
            "/api/v1/subscriptions",
            Some(json!({"event_types": ["x"]})),
        )
        .await;
    assert_eq!(status, 422, "a missing destination: {answer}");
    for path in ["/api/v1/destinations", "/api/v1/routes"] {
        let (status, list) = admin.call(Method::GET, path, None).await;
        assert_eq!((status, list), (200, json!([])), "{path}");
    }
    pipeline.stop().await;
}
