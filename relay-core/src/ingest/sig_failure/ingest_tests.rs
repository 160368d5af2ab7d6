//! A record per refused signature through [`Relay::ingest`]: every reason, the cap under a
//! flood, and the per-client rate limit that runs before verification.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;

use super::*;
use crate::control::admin::{AuditQuery, MetricQuery, MetricScope, SIG_FAILURES_DROPPED};
use crate::ingest::limit::RateLimit;
use crate::ingest::signature::{GitHub, NoSignature, Slack};
use crate::ingest::source::WebhookSource;
use crate::ingest::{IngestOutcome, IngestRequest};
use crate::model::secret::SourceSecret;
use crate::relay::Relay;
use crate::store::Store;
use crate::store::memory::MemoryStore;

const SECRET: &str = "It's a Secret to Everybody";
const SIGNATURE: &str = "sha256=0000000000000000000000000000000000000000000000000000000000000000";

fn relay(store: Arc<dyn Store>, per_minute: u32) -> Relay {
    let expired = SourceSecret::expiring(SECRET, Timestamp::from_millis(1_000));
    Relay::builder()
        .store(store)
        .signature_failures_per_minute(per_minute)
        .source(WebhookSource::new("github", GitHub).secret(SECRET))
        .source(WebhookSource::new("slack", Slack::new()).secret(SECRET))
        .source(WebhookSource::new("retired", GitHub).source_secret(expired))
        .build()
        .expect("valid relay")
}

fn request(source: &str, headers: &[(&str, &str)], client: &str) -> IngestRequest {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        map.insert(name, value.parse().unwrap());
    }
    let client: IpAddr = client.parse().unwrap();
    IngestRequest::new(source, map, Bytes::from_static(b"{}")).with_client(client)
}

async fn all(store: &dyn Store) -> Vec<SignatureFailure> {
    let query = SignatureFailureQuery::default();
    let tenant = TenantId::default();
    store
        .signature_failures(&tenant, &query, 10_000)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_reason_is_recorded_with_its_code_and_never_the_signature() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let relay = relay(Arc::clone(&store), 10);
    let stale = (Timestamp::now().as_secs() - 3_600).to_string();
    let cases = [
        (
            request("github", &[], "192.0.2.1"),
            "missing_header",
            Some("x-hub-signature-256"),
        ),
        (
            request(
                "github",
                &[("x-hub-signature-256", "md5=nope")],
                "192.0.2.2",
            ),
            "malformed",
            Some("x-hub-signature-256"),
        ),
        (
            request(
                "github",
                &[("x-hub-signature-256", SIGNATURE)],
                "2001:db8::3",
            ),
            "no_secret_matched",
            None,
        ),
        (
            request(
                "slack",
                &[
                    ("x-slack-request-timestamp", stale.as_str()),
                    ("x-slack-signature", "v0=00"),
                ],
                "192.0.2.4",
            ),
            "stale_timestamp",
            None,
        ),
        (
            request(
                "retired",
                &[("x-hub-signature-256", SIGNATURE)],
                "192.0.2.5",
            ),
            "no_active_secret",
            None,
        ),
    ];
    let mut expected = Vec::new();
    for (request, code, header) in cases {
        let (source, client, id) = (
            request.source.clone(),
            request.client,
            request.request_id.clone(),
        );
        let reply = relay.answer(request).await;
        assert_eq!(reply.status, 401, "{code}");
        assert_eq!(
            reply.body, r#"{"error":"invalid_signature"}"#,
            "the answer is unchanged"
        );
        expected.push((
            source,
            code,
            header.map(str::to_owned),
            client,
            id.as_str().to_owned(),
        ));
    }
    let mut found: Vec<_> = (all(&*store).await.into_iter())
        .map(|f| {
            assert_eq!(f.tenant, TenantId::default());
            (
                f.source,
                f.reason.as_str(),
                f.header,
                f.client,
                f.request_id,
            )
        })
        .collect();
    found.reverse();
    assert_eq!(found, expected);
    let stored = format!("{:?}", all(&*store).await);
    assert!(
        !stored.contains(SECRET) && !stored.contains("0000000000000000"),
        "{stored}"
    );
}

#[tokio::test]
async fn a_flood_keeps_at_most_n_records_per_minute_and_counts_the_rest() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let relay = relay(Arc::clone(&store), 10);
    let started = Timestamp::now();
    for i in 0..1_000 {
        let client = format!("198.51.100.{}", i % 250);
        let outcome = relay.ingest(request("github", &[], &client)).await;
        assert_eq!(outcome, IngestOutcome::InvalidSignature);
    }
    let minutes = Timestamp::now().as_millis() / 60_000 - started.as_millis() / 60_000 + 1;
    let recorded = all(&*store).await.len();
    assert!(recorded >= 10, "{recorded} records");
    assert!(
        recorded as i64 <= 10 * minutes,
        "{recorded} records in {minutes} minute(s)"
    );

    relay.metrics().flush().await.unwrap();
    let query = MetricQuery {
        from: Timestamp::from_millis(0),
        to: Timestamp::from_millis(i64::MAX),
        scope: Some(MetricScope::Source),
        name: Some("github".into()),
    };
    let points = store
        .metric_points(&TenantId::default(), &query)
        .await
        .unwrap();
    let sum = |metric: &str| -> i64 {
        (points.iter())
            .filter(|p| p.metric == metric)
            .map(|p| p.value)
            .sum()
    };
    assert_eq!(sum("sig_failures"), 1_000);
    assert_eq!(sum(SIG_FAILURES_DROPPED), 1_000 - recorded as i64);
    let audit = store
        .audit_entries(&TenantId::default(), &AuditQuery::default(), 10)
        .await
        .unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "sig_failed")
        .expect("a sig_failed entry");
    let dropped = entry
        .changes
        .iter()
        .find(|c| c.field == "dropped")
        .expect("dropped");
    assert_eq!(dropped.after, Some((1_000 - recorded as i64).into()));
}

#[tokio::test]
async fn no_records_with_a_cap_of_zero_and_none_for_a_good_signature() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let relay = relay(Arc::clone(&store), 0);
    let outcome = relay.ingest(request("github", &[], "192.0.2.1")).await;
    assert_eq!(outcome, IngestOutcome::InvalidSignature);
    assert!(all(&*store).await.is_empty());
}

#[tokio::test]
async fn the_client_limit_answers_429_before_the_signature_is_checked() {
    let relay = Relay::builder()
        .client_rate_limit(RateLimit { per_minute: 3 })
        .source(WebhookSource::new("forms", NoSignature))
        .source(WebhookSource::new("github", GitHub).secret(SECRET))
        .build()
        .unwrap();
    for _ in 0..3 {
        let outcome = relay.ingest(request("forms", &[], "203.0.113.1")).await;
        assert_eq!(outcome.status(), 200, "{outcome:?}");
    }
    let reply = relay.answer(request("forms", &[], "203.0.113.1")).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.body, r#"{"error":"rate_limited"}"#);
    let retry_after: u64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Counted before verification: an unsigned request from that address is not a 401.
    let unsigned = relay.ingest(request("github", &[], "203.0.113.1")).await;
    assert!(
        matches!(unsigned, IngestOutcome::RateLimited { .. }),
        "{unsigned:?}"
    );
    // Another address, or a request without one, is still accepted.
    let other = relay.ingest(request("forms", &[], "203.0.113.2")).await;
    assert_eq!(other.status(), 200, "{other:?}");
    let unknown = IngestRequest::new("forms", HeaderMap::new(), "{}");
    assert_eq!(relay.ingest(unknown).await.status(), 200);
}
