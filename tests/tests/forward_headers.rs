//! A destination's `forward_headers`: the inbound headers it names reach its receiver (every
//! value), other destinations get none of them, and Relay's own headers stay Relay's.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use relay_core::deliver::destination::{Destination, ForwardHeaders};
use relay_core::ingest::{IngestOutcome, IngestRequest};
use relay_core::route::EventRoute;
use relay_tests::pipeline::{Pipeline, SOURCE, fast_retries};
use relay_tests::{Receiver, eventually, loopback};

#[tokio::test]
async fn named_inbound_headers_reach_only_the_destination_that_forwards_them() {
    let (forwarding, plain) = (Receiver::ok().await, Receiver::ok().await);
    let forward = ForwardHeaders::new(["X-GitHub-Event", "X-Tag"]).expect("forwardable");
    let pipeline = Pipeline::start(
        relay_core::Relay::builder()
            .allow_cidrs(loopback())
            .destination(
                Destination::http("forwarding", &forwarding.url)
                    .expect("URL")
                    .policy(fast_retries(2))
                    .forward_headers(forward),
            )
            .destination(Destination::http("plain", &plain.url).expect("URL"))
            .route(EventRoute::new("all").to(["forwarding", "plain"])),
    );
    let mut headers = HeaderMap::new();
    headers.insert("x-github-event", "push".parse().unwrap());
    headers.append("x-tag", "a".parse().unwrap());
    headers.append("x-tag", "b".parse().unwrap());
    headers.insert("x-secret", "not forwarded".parse().unwrap());
    headers.insert("x-event-type", "push".parse().unwrap());
    let request = IngestRequest::new(SOURCE, headers, Bytes::from_static(b"{}"));
    let outcome = pipeline.relay.ingest(request).await;
    assert!(
        matches!(outcome, IngestOutcome::Accepted { .. }),
        "{outcome:?}"
    );

    for receiver in [&forwarding, &plain] {
        let arrived = eventually(Duration::from_secs(10), || async {
            (receiver.count() == 1).then_some(())
        });
        arrived.await.expect("delivered");
    }
    let got = &forwarding.received()[0].headers;
    assert_eq!(got["x-github-event"], "push");
    let tags: Vec<_> = got.get_all("x-tag").iter().collect();
    assert_eq!(tags, ["a", "b"]);
    assert!(got.get("x-secret").is_none());
    assert_eq!(got["x-relay-event-type"], "push");
    let other = &plain.received()[0].headers;
    assert!(other.get("x-github-event").is_none() && other.get("x-tag").is_none());
    pipeline.stop().await;
}
