//! What a real delivery sends verifies under the official `standardwebhooks` library.
//!
//! Needs `RELAY_INTEROP_PYTHON` (a Python with `standardwebhooks`, from
//! `scripts/interop/setup.sh`); without it the test prints `SKIPPED: …` and passes, unless
//! `RELAY_REQUIRE_BACKENDS=1`.
//!
//! Run with: `scripts/interop/setup.sh && eval "$(scripts/interop/setup.sh --print-env)" &&
//! cargo test -p relay-tests --test interop_outbound`

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use relay_core::Relay;
use relay_core::destination::Destination;
use relay_core::event::DeliveryStatus;
use relay_core::route::EventRoute;
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Answer, Receiver, loopback};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn python() -> Option<PathBuf> {
    match std::env::var_os("RELAY_INTEROP_PYTHON") {
        Some(value) if !value.is_empty() => Some(PathBuf::from(value)),
        _ => {
            let required = std::env::var("RELAY_REQUIRE_BACKENDS").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "RELAY_INTEROP_PYTHON is not set and RELAY_REQUIRE_BACKENDS=1 (run scripts/interop/setup.sh)"
            );
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: outbound delivery (standardwebhooks): RELAY_INTEROP_PYTHON is not set; run scripts/interop/setup.sh and export what it prints"
            );
            None
        }
    }
}

/// Asks the library to verify `headers` over `body`; `Ok` when it accepts.
fn verify(
    python: &Path,
    secret: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<(), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/interop/sign.py");
    let mut command = Command::new(python);
    command
        .arg(script)
        .args(["verify", "standard_webhooks", secret]);
    for (name, value) in headers {
        command.arg(format!("{name}={value}"));
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {python:?}: {e}"))?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[tokio::test]
async fn every_attempt_of_a_real_delivery_verifies_under_the_official_library() {
    let Some(python) = python() else {
        return;
    };
    // Fails once, so two attempts (same webhook-id, new timestamp and signature) are checked.
    let receiver = Receiver::start([Answer::Status(503)], Answer::Status(204)).await;
    let destination = Destination::http("app", &receiver.url)
        .expect("URL")
        .signing_secret(SECRET)
        .policy(fast_retries(3));
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(destination)
            .route(EventRoute::new("all").to(["app"])),
    );
    let event = p.send("interop-é✓").await;
    p.wait_for(event, "app", "delivered", |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    for request in &received {
        let headers: Vec<(String, String)> =
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
                .iter()
                .map(|name| {
                    let value = request.headers[*name].to_str().expect("ASCII header");
                    ((*name).to_owned(), value.to_owned())
                })
                .collect();
        verify(&python, SECRET, &headers, &request.body)
            .unwrap_or_else(|e| panic!("standardwebhooks rejected a delivery: {e}"));
        let mut tampered = request.body.to_vec();
        tampered.push(b' ');
        assert!(
            verify(&python, SECRET, &headers, &tampered).is_err(),
            "standardwebhooks accepted a tampered body"
        );
    }
    p.stop().await;
}
