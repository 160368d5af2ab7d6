//! Per-tenant limits: the daily quota (429 `quota_exceeded` with `Retry-After` to the next
//! UTC day), the ingest token bucket (429 `rate_limited`), and the caps on sources and
//! routes; a tenant's limits never touch another tenant.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use relay_tests::Receiver;
use relay_tests::tenants::Gateway;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn over_its_daily_quota_a_tenant_gets_429_until_the_next_utc_day() {
    let receiver = Receiver::ok().await;
    let gw = Gateway::start().await;
    let small = gw.tenant("small", json!({"daily_quota": 3})).await;
    gw.objects(&small, &receiver).await;
    let other = gw.tenant("other", json!({})).await;
    gw.objects(&other, &receiver).await;

    for n in 0..3 {
        let (status, _, body) = gw
            .ingest("/webhooks/small/orders", &format!("k{n}"), "{}")
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, retry_after, body) = gw.ingest("/webhooks/small/orders", "k3", "{}").await;
    assert_eq!((status, body), (429, json!({"error": "quota_exceeded"})));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let to_midnight = 86_400 - now % 86_400;
    let retry_after = retry_after.expect("Retry-After");
    assert!(
        retry_after <= to_midnight + 1 && retry_after + 60 >= to_midnight,
        "Retry-After {retry_after}s, next UTC day in {to_midnight}s"
    );
    // The other tenant (and the same key there) is not counted against it.
    let (status, _, _) = gw.ingest("/webhooks/other/orders", "k3", "{}").await;
    assert_eq!(status, 200);
    // Raising the quota takes effect at once.
    gw.ok(
        Method::PUT,
        "/api/v1/tenants/small",
        &gw.platform,
        json!({"limits": {"daily_quota": 4}}),
    )
    .await;
    let (status, _, _) = gw.ingest("/webhooks/small/orders", "k4", "{}").await;
    assert_eq!(status, 200);
    let (status, _, _) = gw.ingest("/webhooks/small/orders", "k5", "{}").await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn a_noisy_tenant_is_rate_limited_and_a_quiet_one_is_not() {
    let receiver = Receiver::ok().await;
    let gw = Gateway::start().await;
    let noisy = gw
        .tenant("noisy", json!({"rate_per_second": 1, "burst": 3}))
        .await;
    gw.objects(&noisy, &receiver).await;
    let quiet = gw.tenant("quiet", json!({})).await;
    gw.objects(&quiet, &receiver).await;

    let started = Instant::now();
    let (mut accepted, mut limited) = (0u64, 0u64);
    for n in 0..20 {
        let (status, retry_after, body) = gw
            .ingest("/webhooks/noisy/orders", &format!("n{n}"), "{}")
            .await;
        match status {
            200 => accepted += 1,
            429 => {
                assert_eq!(body, json!({"error": "rate_limited"}));
                assert!(
                    retry_after.is_some_and(|s| s >= 1),
                    "Retry-After in whole seconds"
                );
                limited += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
        let (status, _, _) = gw
            .ingest("/webhooks/quiet/orders", &format!("q{n}"), "{}")
            .await;
        assert_eq!(status, 200, "the quiet tenant is never limited");
    }
    // A burst of 3, then one a second: however slow this machine is, never more.
    let refills = started.elapsed().as_secs() + 1;
    assert!(
        accepted >= 1 && accepted <= 3 + refills,
        "{accepted} accepted in {:?}",
        started.elapsed()
    );
    if started.elapsed() < Duration::from_secs(10) {
        assert!(limited >= 20 - 3 - refills, "{limited} limited");
    }
}

#[tokio::test]
async fn caps_on_sources_and_routes_refuse_the_next_create_with_409() {
    let gw = Gateway::start().await;
    let token = gw
        .tenant("capped", json!({"max_sources": 1, "max_routes": 1}))
        .await;
    let receiver = Receiver::ok().await;
    gw.objects(&token, &receiver).await;
    let (status, body) = gw
        .call(
            Method::POST,
            "/api/v1/sources",
            &token,
            Some(json!({"name": "more", "scheme": "none"})),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let route = json!({"name": "second", "source": "orders", "destinations": ["app"]});
    let (status, _) = gw
        .call(Method::POST, "/api/v1/routes", &token, Some(route.clone()))
        .await;
    assert_eq!(status, 409);
    // Destinations are not capped, and the platform's tenant is not capped by another's limits.
    let (status, _) = gw
        .call(
            Method::POST,
            "/api/v1/destinations",
            &token,
            Some(json!({"name": "d2", "url": receiver.url})),
        )
        .await;
    assert_eq!(status, 201);
    let platform = gw.platform.clone();
    for source in ["p1", "p2"] {
        let (status, body) = gw
            .call(
                Method::POST,
                "/api/v1/sources",
                &platform,
                Some(json!({"name": source, "scheme": "none"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    // Raising the cap lets the next one in.
    gw.ok(
        Method::PUT,
        "/api/v1/tenants/capped",
        &platform,
        json!({"limits": {"max_routes": 2}}),
    )
    .await;
    let (status, body) = gw
        .call(Method::POST, "/api/v1/routes", &token, Some(route))
        .await;
    assert_eq!(status, 201, "{body}");
}
