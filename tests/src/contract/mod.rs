//! The public ingest contract, written once and run against every adapter.
//!
//! An adapter's test hands [`run`] a function that serves a given [`Relay`] through the
//! adapter on 127.0.0.1, in an app with two routes of its own: `GET /` answering `the app` and
//! `POST /echo` answering the request body. [`run`] mounts the fixture relays, sends every
//! [`Case`] in order over real HTTP, then checks that oversized bodies are refused without
//! being read to the end, and fails listing every row that differs.

mod cases;
mod check;
pub mod control;
mod early;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use relay_core::Relay;
use relay_core::ingest::limit::RateLimit;
use relay_core::ingest::signature::{GitHub, NoSignature, Slack};
use relay_core::ingest::source::WebhookSource;

pub use cases::{Case, Expect, Fixture, SECRET, cases};

use crate::UNAVAILABLE_STORE;

/// The body limit of the fixture's `small` source.
pub const SMALL_LIMIT: usize = 64;

/// The main fixture: `github` (GitHub scheme, [`SECRET`]), `slack` (Slack scheme,
/// [`SECRET`]), `small` ([`SMALL_LIMIT`] bytes), `limited` (2 per minute) and `raw` (no
/// signature), on the in-memory store.
pub fn relay() -> Relay {
    Relay::builder()
        .source(WebhookSource::new("github", GitHub).secret(SECRET))
        .source(WebhookSource::new("slack", Slack::new()).secret(SECRET))
        .source(WebhookSource::new("small", NoSignature).max_body_bytes(SMALL_LIMIT))
        .source(WebhookSource::new("limited", NoSignature).rate_limit(RateLimit { per_minute: 2 }))
        .source(WebhookSource::new("raw", NoSignature))
        .build()
        .expect("valid fixture")
}

/// Sources `raw` and `slack` (Slack scheme, [`SECRET`]) on a store whose commits always fail.
pub fn unavailable_relay() -> Relay {
    Relay::builder()
        .store(Arc::new(UNAVAILABLE_STORE))
        .source(WebhookSource::new("slack", Slack::new()).secret(SECRET))
        .source(WebhookSource::new("raw", NoSignature))
        .build()
        .expect("valid fixture")
}

/// Runs the whole contract against an adapter; `serve` mounts a relay and returns the address
/// it listens on. Panics listing every failed row.
pub async fn run<F, Fut>(mut serve: F)
where
    F: FnMut(Relay) -> Fut,
    Fut: Future<Output = SocketAddr>,
{
    let main = relay();
    let main_addr = serve(main.clone()).await;
    let down_addr = serve(unavailable_relay()).await;
    let mut checker = check::Checker::new(main);
    let mut failures = Vec::new();
    for case in cases() {
        let addr = match case.fixture {
            Fixture::Main => main_addr,
            Fixture::StoreDown => down_addr,
        };
        if let Err(failure) = checker.check(addr, &case).await {
            failures.push(format!("{}: {failure}", case.name));
        }
    }
    failures.extend(early::refusals(main_addr).await);
    assert!(
        failures.is_empty(),
        "{} contract rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
