//! The built example as a real process on a free port: ingest, health, `/metrics`, the
//! OpenAPI description, Swagger UI, the admin API with the printed key, and the dashboard's
//! login rendered in Chromium (headless, `RELAY_CHROMIUM`). A second start on the same
//! database prints no new key.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

struct Example {
    child: Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.start_kill(); // SIGKILL
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Starts the example on `db` and waits (up to a minute) until `/healthz` answers.
async fn start(db: &Path) -> Example {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay-example-actix"))
        .env("PORT", port.to_string())
        .env("RELAY_DB", db)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the example");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let seen = lines.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stdout.next_line().await {
            seen.lock().expect("lines").push(line);
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let client = relay_core::tls::client();
    for _ in 0..600 {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await
            && response.status() == 200
        {
            return Example { child, base, lines };
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the example exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the example did not answer /healthz within a minute");
}

impl Example {
    fn token(&self) -> Option<String> {
        let lines = self.lines.lock().expect("lines");
        lines
            .iter()
            .find_map(|l| l.strip_prefix("admin token: ").map(str::to_owned))
    }
}

async fn get(url: String, token: Option<&str>) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = relay_core::tls::client().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn login_rendered_in_chromium(url: &str) -> String {
    let chromium = relay_core::testing::backend_from_env(
        "RELAY_CHROMIUM",
        "the dashboard's login in Chromium",
        "install Chromium and set RELAY_CHROMIUM",
    )
    .unwrap_or_else(|| "/usr/bin/chromium".into());
    let output = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg("--virtual-time-budget=10000")
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("run Chromium");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_serves_the_whole_gateway() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("relay-actix.db");
    let mut example = start(&db).await;
    let token = example
        .token()
        .expect("the first start prints `admin token: rk_…`");
    assert!(token.starts_with("rk_"), "{token}");
    let base = example.base.clone();

    let reply = relay_core::tls::client()
        .post(format!("{base}/webhooks/demo"))
        .header("x-event-type", "demo.ping")
        .body(r#"{"hello":"actix"}"#)
        .send()
        .await
        .expect("ingest answers");
    assert_eq!(reply.status(), 200);
    let reply: Value = reply.json().await.expect("json");
    assert_eq!(reply["status"], "accepted", "{reply}");

    let (status, _, body) = get(format!("{base}/healthz"), None).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, _, body) = get(format!("{base}/readyz"), None).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ready"}"#));
    let (status, headers, _) = get(format!("{base}/metrics"), None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain")
    );
    let (status, _, body) = get(format!("{base}/api/v1/openapi.json"), None).await;
    let spec: Value = serde_json::from_str(&body).expect("the description is JSON");
    assert_eq!(
        (status, &spec["info"]["title"]),
        (200, &Value::from("Relay admin API"))
    );
    let (status, _, body) = get(format!("{base}/api/v1/docs/"), None).await;
    assert_eq!(status, 200);
    assert!(body.contains("swagger-ui"), "{body}");
    let (status, _, _) = get(format!("{base}/api/v1/events"), None).await;
    assert_eq!(status, 401);
    let (status, _, body) = get(format!("{base}/api/v1/events"), Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("demo.ping"),
        "the ingested event is listed: {body}"
    );
    let (status, _, body) = get(format!("{base}/hello"), None).await;
    assert_eq!((status, body.as_str()), (200, "my app"));

    let url = format!("{base}/");
    let dom = tokio::task::spawn_blocking(move || login_rendered_in_chromium(&url))
        .await
        .expect("join");
    assert!(
        dom.contains("data-test=\"login-form\""),
        "the login form is not rendered:\n{dom}"
    );

    // SIGKILL and reap it before the restart: a killed process not yet waited for still holds
    // the store's lock (`InUse`).
    example.child.kill().await.expect("kill the example");
    drop(example);
    let again = start(&db).await;
    assert_eq!(again.token(), None, "a second start prints no new key");
}
