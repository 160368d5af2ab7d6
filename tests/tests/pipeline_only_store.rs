//! The admin API over a store that provides only the pipeline's capabilities
//! ([`Stores::pipeline`]): ingest and readiness work, and what needs a missing capability
//! answers `501 {"error":"unsupported"}` with the capability named, never a 500 or a 503.

use std::sync::Arc;

use relay_core::Relay;
use relay_core::store::Stores;
use relay_core::store::memory::MemoryStore;
use relay_tests::serve;
use serde_json::Value;

#[tokio::test]
async fn missing_capabilities_answer_501_unsupported() {
    let relay = Relay::builder()
        .store(Arc::new(Stores::pipeline(Arc::new(MemoryStore::new()))))
        .build()
        .expect("relay");
    let app = relay_axum::health::routes(relay.clone())
        .merge(relay_axum::admin::router(relay, Default::default()));
    let base = format!("http://{}", serve(app).await);
    let client = relay_core::tls::client();

    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(
        ready.status(),
        200,
        "the ingest part answers the readiness ping"
    );

    let listed = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth("rk_0123456789abcdef_a-well-formed-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 501);
    let body: Value = listed.json().await.unwrap();
    assert_eq!(body["error"], "unsupported");
    assert_eq!(
        body["message"],
        "the store does not provide access (API keys, users, sessions)"
    );

    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": "twelve chars long"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 501, "logins need the access capability too");
}
