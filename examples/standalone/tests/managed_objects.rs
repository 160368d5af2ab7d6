//! Sources, destinations and routes created through the admin API of the real `relay`
//! binary: live at once, stored sealed (the database file never holds a secret), still there
//! after a restart, with field paths for bad bodies, 409 for names in use, and a rotated
//! secret overlapping the old one.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use relay_tests::{Receiver, eventually, github_signature};
use reqwest::Method;
use serde_json::{Value, json};
use support::{free_port, start, terminate};

fn config(dir: &Path, addr: std::net::SocketAddr) -> std::path::PathBuf {
    let path = dir.join("relay.toml");
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]
"#,
        db = dir.join("relay.db").display(),
    );
    std::fs::write(&path, toml).expect("write config");
    path
}

struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request =
            (self.client.request(method, format!("{}{path}", self.base))).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("answer");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn push(&self, secret: &str, delivery: &str) -> u16 {
        let body = format!(r#"{{"ref":"refs/heads/main","delivery":"{delivery}"}}"#);
        (self.client.post(format!("{}/webhooks/gh", self.base)))
            .header("x-github-event", "push")
            .header("x-github-delivery", delivery)
            .header(
                "x-hub-signature-256",
                github_signature(secret, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .expect("answer")
            .status()
            .as_u16()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_made_through_the_api_work_persist_and_keep_secrets_sealed() {
    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = config(dir.path(), addr);
    let key = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["key", "add", "ops", "--role", "admin", "--config"])
        .arg(&config)
        .output()
        .expect("relay key add");
    assert!(key.status.success());
    let api = Api {
        base: format!("http://{addr}"),
        token: String::from_utf8(key.stdout)
            .expect("utf-8")
            .trim()
            .to_owned(),
        client: relay_core::tls::client(),
    };
    let mut gateway = start(&config, addr, &[]).await;

    let (status, created) = api
        .call(
            Method::POST,
            "/api/v1/sources",
            Some(json!({"name": "gh", "scheme": "github"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secrets"][0].as_str().expect("a secret").to_owned();
    assert_eq!(created["source"]["ingest_path"], "/webhooks/gh");
    let (status, hook) = api
        .call(
            Method::POST,
            "/api/v1/destinations",
            Some(json!({"name": "hook", "url": receiver.url, "auth_header": "Bearer hook-token"})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let signing = hook["signing_secret"]
        .as_str()
        .expect("signing secret")
        .to_owned();
    let (status, bad) = api
        .call(
            Method::POST,
            "/api/v1/routes",
            Some(json!({"name": "pushes", "source": "gh", "destinations": ["hook", "nope"]})),
        )
        .await;
    assert_eq!(
        (status, &bad["fields"][0]["field"]),
        (422, &json!("destinations[1]"))
    );
    // A JSONPath the parser would take minutes to refuse is refused at once.
    let deep = format!("$[?{}@.a", "nin(in((".repeat(9));
    let (status, bad) = api
        .call(
            Method::POST,
            "/api/v1/routes",
            Some(
                json!({"name": "deep", "source": "gh", "destinations": ["hook"],
                "conditions": [{"path": deep, "op": "exists"}]}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    assert!(
        bad.to_string().contains("parentheses nested deeper than 6"),
        "{bad}"
    );
    let (status, route) = api.call(Method::POST, "/api/v1/routes", Some(json!({"name": "pushes", "source": "gh", "event_types": ["push"], "destinations": ["hook"]})))
        .await;
    assert_eq!(status, 201, "{route}");

    assert_eq!(api.push(&secret, "d-1").await, 200);
    assert_eq!(api.push("not the secret", "d-2").await, 401);
    eventually(Duration::from_secs(15), || async {
        (receiver.count() == 1).then_some(())
    })
    .await
    .expect("the event is delivered through the new route");
    let (status, _) = api
        .call(Method::DELETE, "/api/v1/destinations/hook", None)
        .await;
    assert_eq!(status, 409, "a route still names it");

    assert_eq!(terminate(&mut gateway).code(), Some(0));
    let mut db = Vec::new();
    for file in ["relay.db", "relay.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(file)) {
            db.extend(bytes);
        }
    }
    let db = String::from_utf8_lossy(&db);
    assert!(db.contains("pushes"), "the objects are in the database");
    for plain in [secret.as_str(), signing.as_str(), "hook-token"] {
        assert!(
            !db.contains(plain),
            "the database holds a secret in plaintext"
        );
    }

    let mut gateway = start(&config, addr, &[]).await;
    let (status, source) = api.call(Method::GET, "/api/v1/sources/gh", None).await;
    assert_eq!((status, &source["managed_by"]), (200, &json!("api")));
    assert!(!source.to_string().contains(&secret));
    assert_eq!(
        api.push(&secret, "d-3").await,
        200,
        "the source survives a restart"
    );
    let (status, rotated) = api
        .call(
            Method::POST,
            "/api/v1/sources/gh/rotate-secret",
            Some(json!({"overlap_secs": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().expect("new secret");
    assert_eq!(
        api.push(&secret, "d-4").await,
        200,
        "the old secret overlaps"
    );
    assert_eq!(api.push(new_secret, "d-5").await, 200);
    eventually(Duration::from_secs(15), || async {
        (receiver.count() == 4).then_some(())
    })
    .await
    .expect("every accepted push is delivered");
    let (status, audit) = api
        .call(Method::GET, "/api/v1/audit?object_kind=source", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(audit["items"][0]["action"], "rotate_secret");
    assert!(!audit.to_string().contains(new_secret));
    assert_eq!(terminate(&mut gateway).code(), Some(0));
}
