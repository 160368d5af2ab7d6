//! Publishing an app's own events end to end, in process and over `POST /api/v1/events`:
//! delivered once to a real receiver on loopback, signed (verified with the official
//! `standardwebhooks` library), with `x-relay-event-type` and `x-relay-event-id`; routed by
//! type and condition or sent to explicit destinations; a repeated idempotency key answers
//! the original id and sends nothing; refusals store nothing.

use std::time::Duration;

use relay_core::Relay;
use relay_core::control::admin::EventQuery;
use relay_core::control::admin::{Principal, Role};
use relay_core::deliver::destination::Destination;
use relay_core::model::ids::{EventId, TenantId};
use relay_core::publish::{EventType, Publish, PublishError, Published};
use relay_core::route::EventRoute;
use relay_tests::interop::{PYTHON_VAR, backend, python_verify};
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Receiver, UNAVAILABLE_STORE, eventually, loopback, serve};
use reqwest::Method;
use serde_json::{Value, json};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Gateway {
    pipeline: Pipeline,
    billing: Receiver,
    crm: Receiver,
    base: String,
    operator: String,
    viewer: String,
}

impl Gateway {
    async fn start() -> Self {
        let (billing, crm) = (Receiver::ok().await, Receiver::ok().await);
        let http = |name: &str, receiver: &Receiver| {
            Destination::http(name, &receiver.url)
                .expect("URL")
                .signing_secret(SECRET)
                .policy(fast_retries(3))
        };
        let big_invoices =
            serde_json::from_value(json!({"path": "$.amount", "op": "gte", "value": 1000}))
                .expect("condition spec");
        let pipeline = Pipeline::start(
            Relay::builder()
                .allow_cidrs(loopback())
                .destination(http("billing", &billing))
                .destination(http("crm", &crm))
                .route(
                    EventRoute::new("invoices")
                        .source("app")
                        .event_types(["invoice.*"])
                        .to(["billing"]),
                )
                .route(
                    EventRoute::new("big-invoices")
                        .source("app")
                        .event_types(["invoice.paid"])
                        .conditions([big_invoices])
                        .expect("condition")
                        .to(["crm"]),
                )
                .event_type(
                    EventType::new("invoice.paid")
                        .description("An invoice was paid")
                        .schema(json!({"type": "object", "required": ["amount"],
                            "properties": {"amount": {"type": "number"}}}))
                        .expect("schema"),
                ),
        );
        let system = Principal::system(TenantId::default());
        let mut tokens = Vec::new();
        for role in [Role::Operator, Role::Viewer] {
            let access = pipeline.relay.access();
            let created = (access.create_api_key(&system, role.as_str(), role).await).expect("key");
            tokens.push(created.token.expose().to_owned());
        }
        let [operator, viewer] = <[String; 2]>::try_from(tokens).expect("two keys");
        let app = relay_axum::admin::router(pipeline.relay.clone(), Default::default());
        let base = format!("http://{}", serve(app).await);
        Self {
            pipeline,
            billing,
            crm,
            base,
            operator,
            viewer,
        }
    }

    async fn post(&self, token: &str, body: Value) -> (u16, Value) {
        let response = relay_core::tls::client()
            .request(Method::POST, format!("{}/api/v1/events", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("admin API answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn stored_events(&self) -> usize {
        let store = self.pipeline.relay.store();
        let page = store
            .list_events(&TenantId::default(), &EventQuery::default(), 200)
            .await;
        page.expect("events").len()
    }
}

async fn received_by(receiver: &Receiver, count: usize) -> Vec<relay_tests::Received> {
    eventually(Duration::from_secs(10), || async {
        let received = receiver.received();
        (received.len() >= count).then_some(received)
    })
    .await
    .unwrap_or_else(|| panic!("{count} deliveries never arrived"))
}

#[tokio::test]
async fn a_published_event_is_delivered_once_signed_and_labelled() {
    let gateway = Gateway::start().await;
    let publish = Publish::new("invoice.paid", json!({"id": "inv_42", "amount": 99.5}))
        .idempotency_key("inv_42");
    let published = gateway
        .pipeline
        .relay
        .publish(publish.clone())
        .await
        .unwrap();
    let Published::Accepted { event_id } = published else {
        panic!("{published:?}")
    };
    let again = gateway.pipeline.relay.publish(publish).await.unwrap();
    assert_eq!(again, Published::Duplicate { event_id });

    let received = received_by(&gateway.billing, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gateway.billing.count(), 1, "delivered once");
    assert_eq!(
        gateway.crm.count(),
        0,
        "the condition (amount >= 1000) did not match"
    );
    let request = &received[0];
    let header = |name: &str| {
        request.headers[name]
            .to_str()
            .expect("ASCII header")
            .to_owned()
    };
    assert_eq!(header("x-relay-event-type"), "invoice.paid");
    assert_eq!(header("x-relay-event-id"), event_id.to_string());
    assert_eq!(request.body.as_ref(), br#"{"amount":99.5,"id":"inv_42"}"#);
    let delivery = gateway.pipeline.delivery(event_id, "billing").await;
    request.assert_signed_delivery(&delivery.id.to_string(), 1, SECRET, &request.body);
    if let Some(python) = backend(PYTHON_VAR, "published delivery (standardwebhooks)") {
        let names = ["webhook-id", "webhook-timestamp", "webhook-signature"];
        let values = names.map(header);
        let headers: Vec<(&str, &str)> = names
            .iter()
            .copied()
            .zip(values.iter().map(String::as_str))
            .collect();
        let body = std::str::from_utf8(&request.body).expect("UTF-8");
        python_verify(&python, "standard_webhooks", SECRET, &headers, body)
            .unwrap_or_else(|e| panic!("standardwebhooks rejected a published delivery: {e}"));
    }
    gateway.pipeline.stop().await;
}

#[tokio::test]
async fn over_http_routes_conditions_and_explicit_destinations_decide() {
    let gateway = Gateway::start().await;
    let big = json!({"event_type": "invoice.paid", "payload": {"amount": 5000}, "idempotency_key": "inv_7"});
    let (status, body) = gateway.post(&gateway.operator, big.clone()).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "accepted");
    let first: EventId = body["event_id"]
        .as_str()
        .expect("event_id")
        .parse()
        .expect("evt_ id");
    let (status, body) = gateway.post(&gateway.operator, big).await;
    assert_eq!((status, &body["status"]), (200, &json!("duplicate")));
    assert_eq!(body["event_id"], first.to_string().as_str());
    received_by(&gateway.billing, 1).await;
    received_by(&gateway.crm, 1).await;

    let direct =
        json!({"event_type": "user.created", "payload": {"id": 1}, "destinations": ["crm"]});
    let (status, body) = gateway.post(&gateway.operator, direct).await;
    assert_eq!(status, 202, "{body}");
    let crm = received_by(&gateway.crm, 2).await;
    assert_eq!(crm[1].headers["x-relay-event-type"], "user.created");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        gateway.billing.count(),
        1,
        "explicit destinations are not routed"
    );
    gateway.pipeline.stop().await;
}

#[tokio::test]
async fn refused_publishes_store_nothing() {
    let gateway = Gateway::start().await;
    let cases = [
        (
            json!({"event_type": "x", "payload": {}, "destinations": ["crm", "nope"]}),
            422,
            "destinations[1]",
        ),
        (
            json!({"event_type": "x", "payload": {}, "source": "nope"}),
            422,
            "source",
        ),
        (json!({"event_type": "", "payload": {}}), 422, "event_type"),
        (json!({"payload": {}}), 422, ""),
        (
            json!({"event_type": "x", "payload": {}, "extra": 1}),
            422,
            "",
        ),
    ];
    for (body, status, field) in cases {
        let (got, answer) = gateway.post(&gateway.operator, body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert_eq!(answer["error"], "invalid", "{answer}");
        if !field.is_empty() {
            assert_eq!(answer["fields"][0]["field"], field, "{answer}");
        }
    }
    let (status, answer) = gateway
        .post(
            &gateway.operator,
            json!({"event_type": "invoice.paid", "payload": {"amount": "ten"}}),
        )
        .await;
    assert_eq!(
        (status, &answer["error"]),
        (422, &json!("invalid_payload")),
        "{answer}"
    );
    assert_eq!(answer["fields"][0]["field"], "/amount", "{answer}");
    let (status, answer) = gateway
        .post(&gateway.viewer, json!({"event_type": "x", "payload": {}}))
        .await;
    assert_eq!((status, &answer["error"]), (403, &json!("forbidden")));
    let (status, _) = gateway
        .post("rk_nope", json!({"event_type": "x", "payload": {}}))
        .await;
    assert_eq!(status, 401);
    assert_eq!(gateway.stored_events().await, 0, "nothing stored");
    gateway.pipeline.stop().await;
}

#[tokio::test]
async fn a_store_that_cannot_commit_answers_unavailable() {
    let relay = Relay::builder()
        .store(std::sync::Arc::new(UNAVAILABLE_STORE))
        .build()
        .unwrap();
    let refused = relay.publish(Publish::new("invoice.paid", json!({}))).await;
    assert!(
        matches!(refused, Err(PublishError::Unavailable(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_event_types_are_listed_for_viewers() {
    let gateway = Gateway::start().await;
    let response = relay_core::tls::client()
        .get(format!("{}/api/v1/event-types", gateway.base))
        .bearer_auth(&gateway.viewer)
        .send()
        .await
        .expect("admin API answers");
    assert_eq!(response.status(), 200);
    let types: Value = response.json().await.expect("JSON");
    assert_eq!(types[0]["name"], "invoice.paid");
    assert_eq!(types[0]["description"], "An invoice was paid");
    assert_eq!(types[0]["schema"]["required"], json!(["amount"]));
    gateway.pipeline.stop().await;
}
