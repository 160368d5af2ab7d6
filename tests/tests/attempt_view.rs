//! The admin API's attempt view and the numbers of the overview, end to end on a real HTTP
//! receiver: each attempt's request as sent (secrets redacted, the body only when a
//! transformer changed it), its response, timing and the wait before it, who replayed it; why
//! a pending delivery waits; dead letters with their source and type; the route tester's
//! warning about a destination claimed by a higher-priority route; a success rate that
//! recovers once the dead letters were replayed; a p99 beyond the histogram read as "over".

use std::time::Duration;

use relay_core::control::admin::{Principal, Role};
use relay_core::deliver::destination::Destination;
use relay_core::deliver::policy::RetryPolicy;
use relay_core::model::event::{Event, EventStatus};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::route::EventRoute;
use relay_core::store::{NewDelivery, NewEvent};
use relay_core::{Relay, TransformError, TransformInput, Transformed, Transformer};
use relay_tests::pipeline::{Pipeline, SOURCE};
use relay_tests::{Answer, Receiver, eventually, loopback, serve};
use reqwest::Method;
use serde_json::{Value, json};

const AUTH: &str = "Bearer receiver-credential-7c1";

/// Shapes every event into `{"shaped": true}`.
#[derive(Debug)]
struct Shape;

impl Transformer for Shape {
    fn transform(&self, _: &TransformInput<'_>) -> Result<Transformed, TransformError> {
        Transformed::json(&json!({"shaped": true}))
    }
}

struct Api {
    pipeline: Pipeline,
    base: String,
    operator: String,
    client: reqwest::Client,
}

impl Api {
    /// `hooks` (signed, with a credential, 2 attempts) gets the `shaped` route's delivery
    /// (priority 10, transformer `shape`); `mirror` gets the `plain` route's (identity), which
    /// names `hooks` too but at a lower priority.
    async fn start(hooks: &Receiver, mirror: &Receiver) -> Self {
        let policy = || RetryPolicy::new(2, Duration::from_millis(10), Duration::from_millis(50));
        let hooks = Destination::http("hooks", &hooks.url)
            .expect("URL")
            .signing_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .auth_header(AUTH)
            .policy(policy())
            .without_circuit_breaker();
        let mirror = Destination::http("mirror", &mirror.url)
            .expect("URL")
            .policy(policy())
            .without_circuit_breaker();
        let pipeline = Pipeline::start(
            Relay::builder()
                .keyring(relay_core::control::credentials::Keyring::generate())
                .allow_cidrs(loopback())
                .destination(hooks)
                .destination(mirror)
                .transformer("shape", Shape)
                .route(
                    EventRoute::new("shaped")
                        .to(["hooks"])
                        .transformer("shape")
                        .priority(10),
                )
                .route(EventRoute::new("plain").to(["mirror", "hooks"]).priority(5)),
        );
        let relay = pipeline.relay.clone();
        let system = Principal::system(TenantId::default());
        let key = (relay.access())
            .create_api_key(&system, "operator", Role::Operator)
            .await
            .expect("key");
        let app = relay_axum::admin::router(relay, relay_axum::admin::AdminOptions::default());
        let addr = serve(app).await;
        Self {
            pipeline,
            base: format!("http://{addr}"),
            operator: key.token.expose().to_owned(),
            client: relay_core::tls::client(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = (self.client)
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.operator);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin API answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// The event's detail once `check` holds for it.
    async fn event_when(&self, id: &str, check: impl Fn(&Value) -> bool) -> Value {
        let path = format!("/api/v1/events/{id}");
        eventually(Duration::from_secs(15), || async {
            let detail = self.get(&path).await;
            check(&detail).then_some(detail)
        })
        .await
        .unwrap_or_else(|| panic!("event {id} never reached the expected state"))
    }
}

fn delivery<'a>(detail: &'a Value, destination: &str) -> &'a Value {
    (detail["deliveries"].as_array().expect("deliveries").iter())
        .find(|d| d["destination"] == destination)
        .unwrap_or_else(|| panic!("a delivery to {destination} in {detail}"))
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    (headers.as_array().expect("headers").iter())
        .find(|h| h["name"] == name)
        .and_then(|h| h["value"].as_str())
}

#[tokio::test]
async fn each_attempt_shows_its_request_response_timing_and_who_replayed_it() {
    let hooks = Receiver::start([], Answer::Status(503)).await;
    let mirror = Receiver::ok().await;
    let api = Api::start(&hooks, &mirror).await;
    let id = api.pipeline.send("order-1").await.to_string();
    let is = |d: &Value, name: &str, want: &str| delivery(d, name)["status"] == want;
    let detail = api
        .event_when(&id, |d| {
            is(d, "hooks", "dead_lettered") && is(d, "mirror", "delivered")
        })
        .await;

    let hooks_delivery = delivery(&detail, "hooks");
    let attempts = hooks_delivery["attempt_log"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 2);
    let first = &attempts[0];
    let request = &first["request"];
    assert_eq!(request["method"], "POST");
    assert_eq!(request["url"].as_str(), Some(hooks.url.as_str()));
    let sent = &request["headers"];
    assert_eq!(header(sent, "webhook-id"), hooks_delivery["id"].as_str());
    assert_eq!(header(sent, "x-relay-attempt"), Some("1"));
    assert_eq!(header(sent, "x-relay-event-id"), Some(id.as_str()));
    assert_eq!(header(sent, "content-type"), Some("application/json"));
    assert_eq!(header(sent, "webhook-signature"), Some("[redacted]"));
    assert_eq!(header(sent, "authorization"), Some("[redacted]"));
    assert!(header(sent, "webhook-timestamp").is_some());
    assert!(
        !detail.to_string().contains("receiver-credential"),
        "no credential in the answer"
    );
    let received = hooks.received();
    let signature = received[0].headers["webhook-signature"]
        .to_str()
        .expect("text");
    assert!(
        !detail.to_string().contains(signature),
        "no signature value"
    );
    assert_eq!(request["body_source"], "transformed");
    assert_eq!(request["body"], r#"{"shaped":true}"#);
    let response = &first["response"];
    assert_eq!(response["status_code"], 503);
    assert!(
        header(&response["headers"], "content-length").is_some(),
        "response headers kept: {response}"
    );
    assert!(first["latency_us"].as_u64().is_some_and(|us| us > 0));
    let started = first["started_at"].as_str().expect("started_at");
    assert!(
        started.len() == "2026-01-01T00:00:00.000Z".len() && started.ends_with('Z'),
        "to the millisecond: {started}"
    );
    assert!(first["ended_at"].as_str().is_some());
    assert!(first["wait_ms"].as_u64().is_some());
    assert!(attempts[1]["wait_ms"].as_u64().is_some_and(|ms| ms >= 10));
    assert!(first["replay"].is_null() && attempts[1]["replay"].is_null());

    let mirrored = &delivery(&detail, "mirror")["attempt_log"][0];
    assert_eq!(mirrored["request"]["body_source"], "event");
    assert!(
        mirrored["request"]["body"].is_null(),
        "the event's payload was sent"
    );
    assert!(header(&mirrored["request"]["headers"], "webhook-signature").is_none());

    // The dead letter lists its event's source and type; replayed, it is delivered and its
    // attempt says who replayed it.
    let dead = api.get("/api/v1/dead-letters").await;
    let row = &dead["items"][0];
    assert_eq!(
        (row["source"].as_str(), row["event_type"].as_str()),
        (Some(SOURCE), Some("unknown"))
    );
    hooks.answer_from_now(Answer::Status(200));
    let replay = format!(
        "/api/v1/dead-letters/{}/replay",
        row["id"].as_str().expect("id")
    );
    let (status, body) = api.call(Method::POST, &replay, None).await;
    assert_eq!((status, body["count"].as_u64()), (200, Some(1)));
    let detail = api.event_when(&id, |d| is(d, "hooks", "delivered")).await;
    let attempts = delivery(&detail, "hooks")["attempt_log"]
        .as_array()
        .expect("attempts")
        .clone();
    assert_eq!(attempts.len(), 3);
    let replayed = &attempts[2]["replay"];
    assert_eq!(replayed["action"], "replay");
    assert!(
        replayed["by"]
            .as_str()
            .is_some_and(|by| by.starts_with("key:")),
        "{replayed}"
    );
    assert_eq!(
        header(&attempts[2]["request"]["headers"], "x-relay-attempt"),
        Some("3")
    );

    // The success rate counts the replayed dead letter as recovered: every delivery succeeded.
    api.pipeline.relay.metrics().flush().await.expect("flush");
    let report = api.get("/api/v1/metrics/points").await;
    assert_eq!(report["totals"]["dead_lettered"], 1);
    assert_eq!(report["totals"]["dead_letters_replayed"], 1);
    assert_eq!(report["success_rate"].as_f64(), Some(1.0), "{report}");
}

#[tokio::test]
async fn a_held_delivery_says_why_and_the_tester_names_the_route_that_delivers() {
    let (hooks, mirror) = (Receiver::ok().await, Receiver::ok().await);
    let api = Api::start(&hooks, &mirror).await;
    let path = "/api/v1/destinations/mirror/disable?reason=maintenance";
    let (status, _) = api.call(Method::POST, path, None).await;
    assert_eq!(status, 204);
    let id = api.pipeline.send("order-2").await.to_string();
    let detail = api
        .event_when(&id, |d| delivery(d, "hooks")["status"] == "delivered")
        .await;
    let waiting = delivery(&detail, "mirror")["waiting"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        waiting.contains("mirror is disabled by key:") && waiting.contains("(maintenance)"),
        "{waiting}"
    );
    assert!(delivery(&detail, "hooks")["waiting"].is_null());

    let sample = json!({"event_type": "order.created", "payload": {"total": 1}});
    let (status, test) = api
        .call(Method::POST, "/api/v1/routes/plain/test", Some(sample))
        .await;
    assert_eq!(status, 200, "{test}");
    let by = |name: &str| {
        (test["deliveries"].as_array().expect("deliveries").iter())
            .find(|d| d["destination"] == name)
            .map(|d| d["delivered_by"].clone())
    };
    assert_eq!(
        by("hooks"),
        Some(json!("shaped")),
        "hooks gets the shaped route's delivery"
    );
    assert_eq!(by("mirror"), Some(Value::Null));
}

#[tokio::test]
async fn a_delivery_beyond_the_last_latency_bucket_reads_as_over_it() {
    let (hooks, mirror) = (Receiver::ok().await, Receiver::ok().await);
    let api = Api::start(&hooks, &mirror).await;
    let relay = &api.pipeline.relay;
    // An event received two hours ago whose delivery is due now (as after a replay).
    let received_at = Timestamp::from_millis(Timestamp::now().as_millis() - 2 * 3_600_000);
    let event = Event {
        tenant: TenantId::default(),
        id: EventId::new(),
        source: SOURCE.into(),
        event_type: "order.created".into(),
        idempotency_key: "old".into(),
        headers: Default::default(),
        body: "{}".into(),
        received_at,
        status: EventStatus::Routed,
    };
    let id = event.id.to_string();
    let plan = vec![NewDelivery {
        id: DeliveryId::new(),
        destination: "mirror".into(),
        route: "plain".into(),
        ordering: None,
        agent: None,
    }];
    let new = NewEvent {
        event,
        dedup_until: Timestamp::now(),
        deliveries: plan,
    };
    relay.store().insert_event(new).await.expect("insert");
    api.event_when(&id, |d| d["state"] == "delivered").await;
    relay.metrics().flush().await.expect("flush");
    let report = api.get("/api/v1/metrics/points").await;
    assert_eq!(report["latency_p99_over_ms"], 60_000, "{report}");
    assert!(
        report.get("latency_p99_ms").is_none(),
        "no made-up bound: {report}"
    );
    assert_eq!(report["latency_p50_over_ms"], 60_000);
    assert!(!report.to_string().contains("18446744073709551615"));
}
