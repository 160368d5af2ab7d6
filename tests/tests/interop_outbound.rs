//! What a real delivery sends verifies under the official `standardwebhooks` library.
//!
//! Needs `RELAY_INTEROP_PYTHON` (a Python with `standardwebhooks`, from
//! `scripts/interop/setup.sh`); without it the test prints `SKIPPED: …` and passes, unless
//! `RELAY_REQUIRE_BACKENDS=1`.
//!
//! Run with: `scripts/interop/setup.sh && eval "$(scripts/interop/setup.sh --print-env)" &&
//! cargo test -p relay-tests --test interop_outbound`

use relay_core::Relay;
use relay_core::deliver::destination::Destination;
use relay_core::model::event::DeliveryStatus;
use relay_core::route::EventRoute;
use relay_tests::interop::{PYTHON_VAR, backend, python_verify};
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Answer, Receiver, loopback};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test]
async fn every_attempt_of_a_real_delivery_verifies_under_the_official_library() {
    let Some(python) = backend(PYTHON_VAR, "outbound delivery (standardwebhooks)") else {
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
        let header = |name: &str| request.headers[name].to_str().expect("ASCII header");
        let headers = ["webhook-id", "webhook-timestamp", "webhook-signature"]
            .map(|name| (name, header(name)));
        let body = std::str::from_utf8(&request.body).expect("the UTF-8 body sent");
        python_verify(&python, "standard_webhooks", SECRET, &headers, body)
            .unwrap_or_else(|e| panic!("standardwebhooks rejected a delivery: {e}"));
        let tampered = format!("{body} ");
        assert!(
            python_verify(&python, "standard_webhooks", SECRET, &headers, &tampered).is_err(),
            "standardwebhooks accepted a tampered body"
        );
    }
    p.stop().await;
}
