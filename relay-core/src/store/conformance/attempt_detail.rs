//! Attempt details: the request sent and the response's headers, kept per attempt.

use super::*;
use crate::model::attempt_detail::AttemptDetail;

/// An attempt's detail reads back as written: timing, method, URL, request and response
/// headers in order, and the body only when one was kept (a transformer changed it); an
/// attempt without detail reads back empty.
pub async fn attempt_details_round_trip(store: Arc<dyn Store>) {
    let t = tenant("acme");
    insert(&*store, new_event(&t, "s", "k", 0, &["a"])).await;

    let first = store.lease_due(at(0), 1, MINUTE).await.unwrap().remove(0);
    let mut sent = completion(&first.lease, 1, at(100), NextStep::RetryAt(at(1_000)));
    sent.attempt.detail = AttemptDetail {
        latency_us: Some(1_234),
        method: Some("POST".into()),
        url: Some("http://127.0.0.1:9/hook?q=1".into()),
        request_headers: vec![
            ("webhook-id".into(), first.delivery.id.to_string()),
            ("webhook-signature".into(), "[redacted]".into()),
            ("x-relay-attempt".into(), "1".into()),
        ],
        response_headers: vec![
            ("retry-after".into(), "1".into()),
            ("x-note".into(), "ü".into()),
        ],
        request_body: Some(Bytes::from_static(b"{\"shaped\":true,\"bin\":\"\xff\"}")),
    };
    let written = sent.attempt.detail.clone();
    store.complete_attempt(sent).await.unwrap();

    let second = store
        .lease_due(at(1_000), 1, MINUTE)
        .await
        .unwrap()
        .remove(0);
    let mut plain = completion(&second.lease, 2, at(1_100), NextStep::Delivered);
    plain.attempt.detail = AttemptDetail {
        latency_us: Some(7),
        ..AttemptDetail::default()
    };
    store.complete_attempt(plain).await.unwrap();

    let attempts = store.attempts(&t, first.delivery.id).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].detail, written);
    assert_eq!(attempts[1].detail.latency_us, Some(7));
    assert_eq!(
        attempts[1].detail.request_body, None,
        "the event's body was sent"
    );
    assert!(attempts[1].detail.request_headers.is_empty());

    // An attempt recorded without any detail (as before details were kept) reads back empty.
    let bare = insert(&*store, new_event(&t, "s", "k2", 2_000, &["b"])).await;
    let leased = store
        .lease_due(at(2_000), 1, MINUTE)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(leased.event.id, bare);
    complete(&*store, &leased, NextStep::Delivered, at(2_100)).await;
    let attempts = store.attempts(&t, leased.delivery.id).await.unwrap();
    assert_eq!(attempts[0].detail, AttemptDetail::default());
}
