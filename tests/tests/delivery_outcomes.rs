//! Every outcome rule, end to end against real loopback receivers: 2xx delivered; 408, 429,
//! 5xx, timeouts and connection failures retried; other 4xx dead-lettered at once; 410
//! disables the destination; 3xx is a failure and is not followed; `Retry-After` is a floor, capped by `max_retry_after`;
//! response bodies are kept up to a cap.

use std::time::Duration;

use relay_core::Relay;
use relay_core::deliver::RESPONSE_EXCERPT_BYTES;
use relay_core::deliver::destination::Destination;
use relay_core::deliver::policy::RetryPolicy;
use relay_core::model::event::{AttemptOutcome, DeliveryStatus};
use relay_core::route::EventRoute;
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Answer, Receiver, loopback};

/// A pipeline routing every event to one destination per `(name, receiver URL)`.
fn pipeline(destinations: &[(String, String)], policy: RetryPolicy, timeout: Duration) -> Pipeline {
    let mut builder = Relay::builder().allow_cidrs(loopback());
    for (name, url) in destinations {
        let destination = Destination::http(name.clone(), url)
            .expect("URL")
            .policy(policy.clone())
            .timeout(timeout);
        builder = builder.destination(destination);
    }
    let names: Vec<String> = destinations.iter().map(|(n, _)| n.clone()).collect();
    Pipeline::start(builder.route(EventRoute::new("all").to(names)))
}

/// One receiver per status, each answering `first` then 200.
async fn receivers(statuses: &[u16], first: impl Fn(u16) -> Answer) -> Vec<(u16, Receiver)> {
    let mut out = Vec::new();
    for &status in statuses {
        out.push((
            status,
            Receiver::start([first(status)], Answer::Status(200)).await,
        ));
    }
    out
}

fn named(receivers: &[(u16, Receiver)]) -> Vec<(String, String)> {
    receivers
        .iter()
        .map(|(status, r)| (format!("d{status}"), r.url.clone()))
        .collect()
}

#[tokio::test]
async fn success_statuses_are_delivered_with_one_attempt() {
    let receivers = receivers(&[200, 201, 202, 204, 299], Answer::Status).await;
    let p = pipeline(&named(&receivers), fast_retries(5), Duration::from_secs(5));
    let event = p.send("ok").await;
    for (status, receiver) in &receivers {
        let name = format!("d{status}");
        let d = p
            .wait_for(event, &name, "delivered", |d| {
                d.status == DeliveryStatus::Delivered
            })
            .await;
        assert_eq!(d.attempts, 1, "{status}");
        assert_eq!(receiver.count(), 1, "{status}");
        let attempts = p.attempts(&d).await;
        assert_eq!(attempts[0].status_code, Some(*status));
        assert_eq!(attempts[0].error, None);
    }
    p.stop().await;
}

#[tokio::test]
async fn retryable_statuses_are_retried_with_the_same_webhook_id() {
    let receivers = receivers(&[408, 429, 500, 502, 503, 504], Answer::Status).await;
    let p = pipeline(&named(&receivers), fast_retries(5), Duration::from_secs(5));
    let event = p.send("retry").await;
    for (status, receiver) in &receivers {
        let name = format!("d{status}");
        let d = p
            .wait_for(event, &name, "delivered", |d| {
                d.status == DeliveryStatus::Delivered
            })
            .await;
        assert_eq!(d.attempts, 2, "{status}");
        let attempts = p.attempts(&d).await;
        assert_eq!(attempts[0].status_code, Some(*status));
        assert_eq!(attempts[0].outcome, AttemptOutcome::Retrying);
        assert_eq!(
            attempts[0].error.as_deref(),
            Some(format!("http {status}").as_str())
        );
        assert_eq!(attempts[1].outcome, AttemptOutcome::Delivered);
        let ids: Vec<_> = receiver
            .received()
            .iter()
            .map(|r| r.headers["webhook-id"].clone())
            .collect();
        assert_eq!(ids, [d.id.to_string(), d.id.to_string()], "{status}");
    }
    p.stop().await;
}

#[tokio::test]
async fn other_client_errors_are_dead_lettered_at_once() {
    let receivers = receivers(&[400, 401, 403, 404, 405, 409, 413, 422], Answer::Status).await;
    let p = pipeline(&named(&receivers), fast_retries(5), Duration::from_secs(5));
    let event = p.send("reject").await;
    for (status, _) in &receivers {
        let name = format!("d{status}");
        let d = p
            .wait_for(event, &name, "dead-lettered", |d| {
                d.status == DeliveryStatus::DeadLettered
            })
            .await;
        assert_eq!(d.attempts, 1, "{status}");
        assert_eq!(
            d.last_error.as_deref(),
            Some(format!("http {status}").as_str())
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (status, receiver) in &receivers {
        assert_eq!(receiver.count(), 1, "{status} was retried");
    }
    p.stop().await;
}

#[tokio::test]
async fn gone_disables_the_destination_and_later_deliveries_wait() {
    let gone = Receiver::start([Answer::Status(410)], Answer::Status(200)).await;
    let p = pipeline(
        &[("gone".into(), gone.url.clone())],
        fast_retries(5),
        Duration::from_secs(5),
    );
    let first = p.send("gone-1").await;
    let d = p
        .wait_for(first, "gone", "dead-lettered", |d| {
            d.status == DeliveryStatus::DeadLettered
        })
        .await;
    assert_eq!((d.attempts, gone.count()), (1, 1));
    assert!(p.relay.is_destination_disabled("gone"));

    let second = p.send("gone-2").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let waiting = p.delivery(second, "gone").await;
    assert_eq!(
        waiting.attempts, 0,
        "a disabled destination is not attempted"
    );
    assert_eq!(waiting.status, DeliveryStatus::Pending, "kept, not dropped");
    assert_eq!(gone.count(), 1);
    p.stop().await;
}

#[tokio::test]
async fn redirects_are_failures_and_are_not_followed() {
    let trap = Receiver::ok().await;
    let mut receivers = Vec::new();
    for status in [301, 302, 303, 307, 308] {
        let answer = Answer::Redirect(status, trap.url.clone());
        receivers.push((status, Receiver::start([], answer).await));
    }
    let p = pipeline(&named(&receivers), fast_retries(2), Duration::from_secs(5));
    let event = p.send("redirect").await;
    for (status, receiver) in &receivers {
        let name = format!("d{status}");
        let d = p
            .wait_for(event, &name, "dead-lettered", |d| {
                d.status == DeliveryStatus::DeadLettered
            })
            .await;
        assert_eq!((d.attempts, receiver.count()), (2, 2), "{status}");
        let attempts = p.attempts(&d).await;
        assert_eq!(attempts[0].status_code, Some(*status));
        assert_eq!(attempts[0].outcome, AttemptOutcome::Retrying);
    }
    assert_eq!(trap.count(), 0, "a redirect was followed");
    p.stop().await;
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_retried() {
    let hang = Receiver::start([Answer::Hang], Answer::Status(200)).await;
    // A port nobody listens on: bound, then released.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let p = pipeline(
        &[
            ("hang".into(), hang.url.clone()),
            ("closed".into(), format!("http://{closed}/hook")),
        ],
        fast_retries(3),
        Duration::from_millis(300),
    );
    let event = p.send("network").await;
    let d = p
        .wait_for(event, "hang", "delivered", |d| {
            d.status == DeliveryStatus::Delivered
        })
        .await;
    let attempts = p.attempts(&d).await;
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts[0]
            .error
            .as_deref()
            .unwrap_or("")
            .starts_with("timeout")
    );

    let d = p
        .wait_for(event, "closed", "dead-lettered", |d| {
            d.status == DeliveryStatus::DeadLettered
        })
        .await;
    let attempts = p.attempts(&d).await;
    assert_eq!(attempts.len(), 3, "retried until max_attempts");
    for attempt in &attempts {
        let error = attempt.error.as_deref().unwrap_or("");
        assert!(error.starts_with("connect: "), "{error}");
        assert!(
            !error.contains(&closed.to_string()),
            "the URL is kept out: {error}"
        );
        assert_eq!(attempt.status_code, None);
    }
    p.stop().await;
}

#[tokio::test]
async fn retry_after_is_a_floor_beyond_the_backoff_ceiling() {
    // max_ms is 200 ms, the receiver asks for 1 s: the second attempt waits the 1 s.
    let receiver = Receiver::start([Answer::RetryAfter(503, 1)], Answer::Status(200)).await;
    let policy = RetryPolicy::new(3, Duration::from_millis(10), Duration::from_millis(200));
    let p = pipeline(
        &[("r".into(), receiver.url.clone())],
        policy,
        Duration::from_secs(5),
    );
    let event = p.send("floor").await;
    p.wait_for(event, "r", "delivered", |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;
    let received = receiver.received();
    let gap = received[1].at - received[0].at;
    assert!(gap >= Duration::from_millis(950), "floor: {gap:?}");
    p.stop().await;
}

#[tokio::test]
async fn retry_after_is_capped_by_max_retry_after() {
    let receiver = Receiver::start([Answer::RetryAfter(503, 3_600)], Answer::Status(200)).await;
    let policy = RetryPolicy::new(3, Duration::from_millis(10), Duration::from_millis(200))
        .max_retry_after(Duration::from_millis(1_500));
    let p = pipeline(
        &[("r".into(), receiver.url.clone())],
        policy,
        Duration::from_secs(5),
    );
    let event = p.send("cap").await;
    p.wait_for(event, "r", "delivered", |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;
    let received = receiver.received();
    let gap = received[1].at - received[0].at;
    assert!(
        gap >= Duration::from_millis(1_450),
        "the cap is a floor too: {gap:?}"
    );
    assert!(
        gap < Duration::from_secs(4),
        "an hour-long Retry-After was honoured: {gap:?}"
    );
    p.stop().await;
}

#[tokio::test]
async fn response_bodies_are_kept_up_to_the_cap() {
    let receiver = Receiver::start(
        [Answer::Large(500, 1_048_576), Answer::Large(200, 10)],
        Answer::Status(200),
    )
    .await;
    let p = pipeline(
        &[("big".into(), receiver.url.clone())],
        fast_retries(3),
        Duration::from_secs(5),
    );
    let event = p.send("big").await;
    let d = p
        .wait_for(event, "big", "delivered", |d| {
            d.status == DeliveryStatus::Delivered
        })
        .await;
    let attempts = p.attempts(&d).await;
    let excerpt = attempts[0].response_excerpt.as_deref().unwrap_or("");
    assert_eq!(excerpt.len(), RESPONSE_EXCERPT_BYTES);
    assert_eq!(attempts[1].response_excerpt.as_deref(), Some("xxxxxxxxxx"));
    p.stop().await;
}
