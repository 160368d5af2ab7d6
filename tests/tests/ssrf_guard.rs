//! The SSRF guard over many spellings of non-public addresses, at save time and at connect
//! time.
//!
//! Connect-time cases only use forms that reach this machine (loopback, unspecified): were the
//! guard to let one through, the request would land on the test's own receiver and be
//! counted, never leave the machine.

use std::time::Duration;

use relay_core::catalog::Catalog;
use relay_core::deliver::destination::Destination;
use relay_core::deliver::guard::{AddressClass, AddressGuard, Embedding};
use relay_core::ingest::signature::NoSignature;
use relay_core::ingest::source::{Source, WebhookSource};
use relay_core::model::event::DeliveryStatus;
use relay_core::route::{EventRoute, Route};
use relay_core::{BuildError, Relay};
use relay_tests::pipeline::{Pipeline, SOURCE, fast_retries};
use relay_tests::{Receiver, loopback};

fn url(text: &str) -> reqwest::Url {
    reqwest::Url::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// `(URL, class refused, embedding)` for save-time checks; none of these is connected to.
fn refused_at_save_time() -> Vec<(&'static str, AddressClass, Option<Embedding>)> {
    use AddressClass::*;
    use Embedding::*;
    vec![
        // IPv4 loopback in every spelling the URL parser accepts.
        ("http://127.0.0.1/", Loopback, None),
        ("http://2130706433/", Loopback, None),
        ("http://0x7f000001/", Loopback, None),
        ("http://0x7F.0.0.1/", Loopback, None),
        ("http://0177.0.0.1/", Loopback, None),
        ("http://0177.0000.0000.0001/", Loopback, None),
        ("http://127.1/", Loopback, None),
        ("http://127.0.1/", Loopback, None),
        ("http://127.0.0.1./", Loopback, None),
        ("http://127.000.000.001/", Loopback, None),
        ("http://127.255.255.254:8080/x", Loopback, None),
        ("https://%31%32%37.0.0.1/", Loopback, None),
        // Userinfo tricks: the host is what follows the last `@`.
        ("http://example.com@127.0.0.1/", Loopback, None),
        ("http://user:pass@127.0.0.1:6379/", Loopback, None),
        ("http://example.com:80@127.0.0.1/", Loopback, None),
        ("http://a@b@10.0.0.1/", Private, None),
        // Names that are loopback by definition.
        ("http://localhost/", Loopback, None),
        ("http://LOCALHOST:8080/", Loopback, None),
        ("http://localhost./", Loopback, None),
        ("http://api.localhost/", Loopback, None),
        // Private, link-local (cloud metadata), CGNAT, unspecified, and the rest.
        ("http://10.0.0.1/", Private, None),
        ("http://167772161/", Private, None),
        ("http://172.16.0.1/", Private, None),
        ("http://172.31.255.255/", Private, None),
        ("http://192.168.1.1/", Private, None),
        ("http://0xc0a80101/", Private, None),
        ("http://169.254.169.254/latest/meta-data/", LinkLocal, None),
        ("http://2852039166/", LinkLocal, None),
        ("http://100.64.0.1/", SharedCgnat, None),
        ("http://0.0.0.0/", Unspecified, None),
        ("http://0/", Unspecified, None),
        ("http://224.0.0.1/", Multicast, None),
        ("http://255.255.255.255/", Broadcast, None),
        ("http://240.0.0.1/", Reserved, None),
        ("http://192.0.2.10/", Documentation, None),
        ("http://198.51.100.10/", Documentation, None),
        ("http://203.0.113.10/", Documentation, None),
        ("http://198.18.0.1/", Benchmarking, None),
        ("http://192.0.0.170/", ProtocolAssignment, None),
        ("http://192.88.99.1/", SixToFourRelay, None),
        // IPv6 literals.
        ("http://[::1]/", Loopback, None),
        ("http://[0:0:0:0:0:0:0:1]/", Loopback, None),
        ("http://[::]/", Unspecified, None),
        ("http://[fe80::1]/", LinkLocal, None),
        ("http://[fc00::1]/", UniqueLocal, None),
        ("http://[fd00:ec2::254]/", UniqueLocal, None),
        ("http://[fec0::1]/", SiteLocal, None),
        ("http://[ff02::1]/", Multicast, None),
        ("http://[2001:db8::1]/", Documentation, None),
        ("http://[100::1]/", Discard, None),
        (
            "http://[64:ff9b:1::5db8:d822]/",
            AddressClass::LocalNat64,
            None,
        ),
        ("http://[3fff::1]/", Documentation, None),
        ("http://[5f00::1]/", SegmentRouting, None),
        ("http://[100:0:0:1::1]/", Dummy, None),
        ("http://[2001:1::1]/", ServiceAnycast, None),
        ("http://[2001:10::1]/", DeprecatedOrchid, None),
        ("http://[4000::1]/", Reserved, None),
        ("http://192.0.0.9/", ServiceAnycast, None),
        ("http://192.88.99.2/", SixToFourRelay, None),
        // IPv6 forms embedding a refused IPv4 address.
        ("http://[::ffff:127.0.0.1]/", Loopback, None),
        ("http://[::ffff:7f00:1]/", Loopback, None),
        ("http://[0:0:0:0:0:ffff:169.254.169.254]/", LinkLocal, None),
        ("http://[::ffff:10.0.0.1]/", Private, None),
        ("http://[::127.0.0.1]/", Loopback, Some(Compatible)),
        ("http://[::a9fe:a9fe]/", LinkLocal, Some(Compatible)),
        ("http://[::ffff:0:7f00:1]/", Loopback, Some(Translated)),
        ("http://[::ffff:0:10.0.0.1]/", Private, Some(Translated)),
        (
            "http://[64:ff9b:1::a00:1]/",
            Private,
            Some(Embedding::LocalNat64),
        ),
        ("http://[64:ff9b::127.0.0.1]/", Loopback, Some(Nat64)),
        ("http://[64:ff9b::a9fe:a9fe]/", LinkLocal, Some(Nat64)),
        ("http://[2002:7f00:1::]/", Loopback, Some(SixToFour)),
        ("http://[2002:c0a8:101::1]/", Private, Some(SixToFour)),
        ("http://[2001:0:7f00:1::]/", Loopback, Some(Teredo)),
        (
            "http://[2001:0:4136:e378:8000:63bf:3f57:fefe]/",
            Private,
            Some(Teredo),
        ),
    ]
}

#[test]
fn every_spelling_is_refused_when_saved() {
    let guard = AddressGuard::new();
    let mut wrong = Vec::new();
    for (text, class, via) in refused_at_save_time() {
        match guard.check_url(&url(text)) {
            Err(blocked) if blocked.class == class && blocked.via == via => {}
            other => wrong.push(format!("{text}: expected {class:?}/{via:?}, got {other:?}")),
        }
        // The relay builder (and with it the config file) refuses them too.
        let built = Relay::builder()
            .destination(Destination::http("d", text).expect("URL"))
            .build();
        if !matches!(built, Err(BuildError::BlockedDestination { .. })) {
            wrong.push(format!("{text}: the builder accepted it"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn allow_cidrs_is_the_only_exception() {
    let guard = AddressGuard::new().allow_all(loopback());
    for text in [
        "http://127.0.0.1:9000/",
        "http://2130706433/",
        "http://localhost/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
    ] {
        assert!(guard.check_url(&url(text)).is_ok(), "{text}");
    }
    // Allowing loopback does not allow what merely embeds it elsewhere, nor anything else.
    for text in [
        "http://[64:ff9b::127.0.0.1]/",
        "http://[2002:7f00:1::]/",
        "http://10.0.0.1/",
        "http://169.254.169.254/",
    ] {
        assert!(guard.check_url(&url(text)).is_err(), "{text}");
    }
    let metadata = AddressGuard::new().allow("169.254.169.254/32".parse().expect("CIDR"));
    assert!(metadata.check_url(&url("http://169.254.169.254/")).is_ok());
    assert!(metadata.check_url(&url("http://169.254.169.253/")).is_err());
}

#[test]
fn public_hosts_and_parser_tricks_that_name_them_pass() {
    let guard = AddressGuard::new();
    for text in [
        "https://hooks.slack.com/services/T/B/X",
        "http://93.184.216.34/",
        "http://[2606:4700:4700::1111]/",
        "http://[::ffff:93.184.216.34]/",
        "http://[64:ff9b::5db8:d822]/",
        "http://[::ffff:0:5db8:d822]/",
        "http://[3ffe::1]/",
        "http://192.31.196.1/",
        "http://[2001:4:112::1]/",
        // The host is example.com: the URL parser and the client agree.
        "http://127.0.0.1@example.com/",
        "http://example.com#@127.0.0.1/",
        "http://example.com?@127.0.0.1/",
        "http://localhost.example.com/",
    ] {
        assert!(guard.check_url(&url(text)).is_ok(), "{text}");
    }
}

/// A relay whose catalog holds destinations that were never checked at save time (as if the
/// guard's configuration had changed since, or DNS now answers differently), so only the
/// connect-time guard stands between the worker and the receiver.
fn unchecked(urls: &[(String, String)]) -> Pipeline {
    let relay = Relay::builder()
        .resolve_host("rebind.test", ["127.0.0.1".parse().expect("IP")])
        .resolve_host(
            "mixed.test",
            ["::1".parse().expect("IP"), "0.0.0.0".parse().expect("IP")],
        )
        .build()
        .expect("empty relay");
    let destinations: Vec<Destination> = urls
        .iter()
        .map(|(name, url)| {
            Destination::http(name.clone(), url)
                .expect("URL")
                .policy(fast_retries(3))
                .without_circuit_breaker()
        })
        .collect();
    let names: Vec<String> = urls.iter().map(|(n, _)| n.clone()).collect();
    let sources: Vec<std::sync::Arc<dyn Source>> =
        vec![std::sync::Arc::new(WebhookSource::new(SOURCE, NoSignature))];
    let routes: Vec<std::sync::Arc<dyn Route>> =
        vec![std::sync::Arc::new(EventRoute::new("all").to(names))];
    relay
        .objects()
        .swap_catalog(Catalog::new(sources, destinations, routes, vec![]).expect("catalog"));
    Pipeline::run(relay)
}

#[tokio::test]
async fn every_local_spelling_is_refused_when_connecting() {
    let receiver = Receiver::ok().await;
    let port = reqwest::Url::parse(&receiver.url)
        .expect("URL")
        .port()
        .expect("port");
    let forms = [
        "127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "0x7f.1",
        "127.1",
        "127.0.0.1.",
        "user:secret@127.0.0.1",
        "example.com@127.0.0.1",
        "0.0.0.0",
        "0",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::ffff:0.0.0.0]",
        "[::ffff:0:7f00:1]",
        "[::ffff:0:127.0.0.1]",
        "localhost",
        "localhost.",
        "LocalHost",
        "rebind.test",
        "rebind.test.",
        "mixed.test",
    ];
    let urls: Vec<(String, String)> = forms
        .iter()
        .enumerate()
        .map(|(i, host)| (format!("d{i}"), format!("http://{host}:{port}/hook")))
        .collect();
    let p = unchecked(&urls);
    let event = p.send("ssrf").await;
    let mut wrong = Vec::new();
    for ((name, url), form) in urls.iter().zip(forms) {
        let d = p
            .wait_for(event, name, "finished", |d| {
                d.status == DeliveryStatus::DeadLettered || d.status == DeliveryStatus::Delivered
            })
            .await;
        let attempts = p.attempts(&d).await;
        let error = attempts[0].error.clone().unwrap_or_default();
        if d.status != DeliveryStatus::DeadLettered
            || attempts.len() != 1
            || !error.starts_with("blocked_address: ")
        {
            wrong.push(format!(
                "{form} ({url}): {:?} after {} attempt(s): {error}",
                d.status,
                attempts.len()
            ));
        }
        if error.contains("secret") {
            wrong.push(format!(
                "{form}: the error shows the URL's credentials: {error}"
            ));
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.count(), 0, "a request got through");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    p.stop().await;
}

#[tokio::test]
async fn allowed_names_resolve_and_deliver() {
    let receiver = Receiver::ok().await;
    let port = reqwest::Url::parse(&receiver.url)
        .expect("URL")
        .port()
        .expect("port");
    let relay = Relay::builder()
        .allow_cidrs(loopback())
        .resolve_host("receiver.test", ["127.0.0.1".parse().expect("IP")])
        .destination(
            Destination::http("pinned", &format!("http://receiver.test:{port}/hook")).expect("URL"),
        )
        .destination(
            Destination::http("literal", &format!("http://127.0.0.1:{port}/hook")).expect("URL"),
        )
        .destination(
            Destination::http("localhost", &format!("http://localhost:{port}/hook")).expect("URL"),
        )
        .route(EventRoute::new("all").to(["pinned", "literal", "localhost"]));
    let p = Pipeline::start(relay);
    let event = p.send("allowed").await;
    for name in ["pinned", "literal", "localhost"] {
        p.wait_for(event, name, "delivered", |d| {
            d.status == DeliveryStatus::Delivered
        })
        .await;
    }
    assert_eq!(receiver.count(), 3);
    p.stop().await;
}
