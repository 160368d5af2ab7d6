//! One signed GitHub push fans out to a Slack-shaped and a Discord-shaped receiver, each getting
//! its own shape; a condition keeps a branch push from a third route; priorities do not
//! short-circuit. Real app on loopback, real receivers.

use std::time::Duration;

use axum::Router;
use relay_axum::RelayLayer;
use relay_core::Relay;
use relay_core::deliver::destination::Destination;
use relay_core::deliver::{WorkerConfig, WorkerHandle};
use relay_core::ingest::signature::GitHub;
use relay_core::ingest::source::WebhookSource;
use relay_core::model::ids::{EventId, TenantId};
use relay_core::route::{ConditionSpec, EventRoute, Op};
use relay_tests::{Receiver, eventually, github_signature, serve};
use serde_json::{Value, json};

const SECRET: &str = "fan-out-secret";
const WAIT: Duration = Duration::from_secs(10);

/// GitHub's documented push payload, trimmed to what the transformers read.
fn push(git_ref: &str) -> Value {
    json!({
        "ref": git_ref,
        "compare": "https://github.com/octo-org/relay/compare/a10867b...5f2c2b5",
        "repository": {"full_name": "octo-org/relay", "html_url": "https://github.com/octo-org/relay"},
        "pusher": {"name": "Codertocat", "email": "codertocat@example.com"},
        "sender": {"login": "Codertocat", "html_url": "https://github.com/Codertocat",
                   "avatar_url": "https://avatars.githubusercontent.com/u/21031067?v=4"},
        "commits": [
            {"id": "a10867b14bb761a232cd80139fbd4c0d33264240", "message": "Fix retry jitter\n\nDetails",
             "url": "https://github.com/octo-org/relay/commit/a10867b14bb761a232cd80139fbd4c0d33264240",
             "author": {"name": "Ada Lovelace"}},
            {"id": "5f2c2b5e0c5b8a1d7a2b3c4d5e6f708192a3b4c5", "message": "Add conditions",
             "url": "https://github.com/octo-org/relay/commit/5f2c2b5e0c5b8a1d7a2b3c4d5e6f708192a3b4c5",
             "author": {"name": "Grace Hopper"}}
        ]
    })
}

struct Receivers {
    slack: Receiver,
    discord: Receiver,
    main_only: Receiver,
}

struct Gateway {
    base: String,
    relay: Relay,
    receivers: Receivers,
    _worker: WorkerHandle,
}

async fn gateway() -> Gateway {
    let receivers = Receivers {
        slack: Receiver::ok().await,
        discord: Receiver::ok().await,
        main_only: Receiver::ok().await,
    };
    let destination = |name: &str, receiver: &Receiver| {
        Destination::http(name, &receiver.url).expect("loopback URL")
    };
    let relay = Relay::builder()
        .allow_cidrs(relay_tests::loopback())
        .source(WebhookSource::new("github", GitHub).secret(SECRET))
        .destination(destination("slack", &receivers.slack))
        .destination(destination("discord", &receivers.discord))
        .destination(destination("main-only", &receivers.main_only))
        .route(
            EventRoute::new("to-slack")
                .event_types(["push"])
                .to(["slack"])
                .transformer("github_to_slack")
                .priority(10),
        )
        .route(
            EventRoute::new("to-discord")
                .event_types(["pu*"])
                .to(["discord"])
                .transformer("github_to_discord")
                .priority(1),
        )
        .route(
            EventRoute::new("main-only")
                .event_types(["push"])
                .to(["main-only"])
                .conditions([ConditionSpec::new(
                    "$.ref",
                    Op::Eq,
                    Some(json!("refs/heads/main")),
                )])
                .expect("valid condition"),
        )
        .build()
        .expect("valid configuration");
    let worker =
        relay.spawn_worker(WorkerConfig::default().poll_interval(Duration::from_millis(20)));
    let addr = serve(Router::new().layer(RelayLayer::new(relay.clone()))).await;
    Gateway {
        base: format!("http://{addr}"),
        relay,
        receivers,
        _worker: worker,
    }
}

async fn send(base: &str, delivery: &str, body: &Value) -> EventId {
    let body = body.to_string();
    let answer: Value = relay_core::tls::client()
        .post(format!("{base}/webhooks/github"))
        .header("x-github-event", "push")
        .header("x-github-delivery", delivery)
        .header(
            "x-hub-signature-256",
            github_signature(SECRET, body.as_bytes()),
        )
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json answer");
    assert_eq!(answer["status"], "accepted", "{answer}");
    answer["event_id"]
        .as_str()
        .expect("event_id")
        .parse()
        .expect("an event id")
}

fn json_bodies(receiver: &Receiver) -> Vec<Value> {
    receiver
        .received()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("a JSON body"))
        .collect()
}

#[tokio::test]
async fn one_push_reaches_every_matching_route_in_its_own_shape() {
    let gateway = gateway().await;
    let (base, relay, receivers) = (&gateway.base, &gateway.relay, &gateway.receivers);
    let event = send(base, "d-main", &push("refs/heads/main")).await;
    for receiver in [&receivers.slack, &receivers.discord, &receivers.main_only] {
        eventually(WAIT, || async { (receiver.count() == 1).then_some(()) })
            .await
            .expect("every matching route delivers");
    }

    let slack = json_bodies(&receivers.slack).remove(0);
    let text = slack["text"].as_str().expect("a Slack text message");
    assert!(
        text.contains("*Codertocat* pushed 2 commits to `main`"),
        "{text}"
    );
    assert!(
        text.contains("`a10867b`") && text.contains("Fix retry jitter"),
        "{text}"
    );
    assert!(
        !text.contains("Details"),
        "first line of the message only: {text}"
    );

    let discord = json_bodies(&receivers.discord).remove(0);
    let embed = &discord["embeds"][0];
    assert_eq!(embed["title"], "[octo-org/relay:main] 2 new commits");
    assert_eq!(discord["allowed_mentions"]["parse"], json!([]));

    let original = json_bodies(&receivers.main_only).remove(0);
    assert_eq!(
        original,
        push("refs/heads/main"),
        "no transformer: the body as sent"
    );

    let deliveries = relay
        .store()
        .deliveries(&TenantId::default(), event)
        .await
        .expect("deliveries");
    let mut names: Vec<_> = deliveries.iter().map(|d| d.destination.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["discord", "main-only", "slack"]);
}

#[tokio::test]
async fn a_condition_that_does_not_hold_skips_only_its_route() {
    let gateway = gateway().await;
    let (base, receivers) = (&gateway.base, &gateway.receivers);
    send(base, "d-branch", &push("refs/heads/feature")).await;
    for receiver in [&receivers.slack, &receivers.discord] {
        eventually(WAIT, || async { (receiver.count() == 1).then_some(()) })
            .await
            .expect("unconditional routes deliver");
    }
    // Both others delivered; give the conditional route the same time to (wrongly) deliver.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receivers.main_only.count(), 0);
}
