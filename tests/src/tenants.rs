//! A gateway with the admin API and ingest on one listener, a platform admin key, and
//! helpers to make tenants with their own objects: for the multi-tenancy tests.

use std::sync::Arc;
use std::time::Duration;

use relay_core::Relay;
use relay_core::control::admin::{Principal, Role};
use relay_core::deliver::{WorkerConfig, WorkerHandle};
use relay_core::model::ids::TenantId;
use relay_core::store::Store;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Receiver, loopback, serve};

/// A running gateway (admin router + ingest layer + worker).
pub struct Gateway {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The token of an admin key of the `default` tenant (the platform admin).
    pub platform: String,
    /// The relay.
    pub relay: Relay,
    client: reqwest::Client,
    _worker: WorkerHandle,
}

impl Gateway {
    /// Starts a gateway on an in-memory store, delivering to loopback addresses.
    pub async fn start() -> Self {
        Self::on(Arc::new(relay_core::store::memory::MemoryStore::new())).await
    }

    /// Starts a gateway on `store`, delivering to loopback addresses.
    pub async fn on(store: Arc<dyn Store>) -> Self {
        let relay = Relay::builder()
            .store(store)
            .keyring(relay_core::control::credentials::Keyring::generate())
            .allow_cidrs(loopback())
            .build()
            .expect("relay");
        let platform = relay
            .access()
            .create_api_key(
                &Principal::system(TenantId::default()),
                "platform",
                Role::Admin,
            )
            .await
            .expect("key");
        let worker =
            relay.spawn_worker(WorkerConfig::default().poll_interval(Duration::from_millis(20)));
        let app = relay_axum::admin::router(relay.clone(), Default::default())
            .layer(relay_axum::RelayLayer::new(relay.clone()));
        let addr = serve(app).await;
        Self {
            base: format!("http://{addr}"),
            platform: platform.token.expose().to_owned(),
            relay,
            client: relay_core::tls::client(),
            _worker: worker,
        }
    }

    /// Sends an admin request with `token`; returns the status and the JSON answer (`Null`
    /// when there is none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = (self.client)
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("answer");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// [`Gateway::call`] that must answer 2xx; returns the answer.
    pub async fn ok(&self, method: Method, path: &str, token: &str, body: Value) -> Value {
        let (status, answer) = self.call(method.clone(), path, token, Some(body)).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    /// Creates tenant `name` with `limits` and an admin key of it; returns the key's token.
    pub async fn tenant(&self, name: &str, limits: Value) -> String {
        let tenant = json!({"name": name, "limits": limits});
        self.ok(Method::POST, "/api/v1/tenants", &self.platform, tenant)
            .await;
        let key = self
            .ok(
                Method::POST,
                &format!("/api/v1/tenants/{name}/api-keys"),
                &self.platform,
                json!({"name": "admin", "role": "admin"}),
            )
            .await;
        key["token"].as_str().expect("token").to_owned()
    }

    /// Gives the tenant of `token` a source `orders` (no signature), a destination `app` to
    /// `receiver` and a route `all` between them.
    pub async fn objects(&self, token: &str, receiver: &Receiver) {
        let source = json!({"name": "orders", "scheme": "none"});
        self.ok(Method::POST, "/api/v1/sources", token, source)
            .await;
        let destination = json!({"name": "app", "url": receiver.url});
        self.ok(Method::POST, "/api/v1/destinations", token, destination)
            .await;
        let route = json!({"name": "all", "source": "orders", "destinations": ["app"]});
        self.ok(Method::POST, "/api/v1/routes", token, route).await;
    }

    /// Posts a JSON webhook with an idempotency key; returns the status, the `Retry-After`
    /// header and the JSON answer.
    pub async fn ingest(&self, path: &str, key: &str, body: &str) -> (u16, Option<u64>, Value) {
        let response = (self.client.post(format!("{}{path}", self.base)))
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("answer");
        let status = response.status().as_u16();
        let retry_after = (response.headers().get("retry-after"))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        (
            status,
            retry_after,
            response.json().await.unwrap_or(Value::Null),
        )
    }
}
