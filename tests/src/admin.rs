//! A running admin API over a delivery pipeline, with one API key per role, for the admin
//! end-to-end tests.

use std::time::Duration;

use relay_core::Relay;
use relay_core::control::admin::{Principal, Role};
use relay_core::deliver::destination::Destination;
use relay_core::deliver::policy::RetryPolicy;
use relay_core::model::ids::TenantId;
use relay_core::route::EventRoute;
use reqwest::Method;
use serde_json::Value;

use crate::pipeline::Pipeline;
use crate::{Receiver, loopback, serve};

/// The destination every [`AdminApi`] delivers to.
pub const DESTINATION: &str = "receiver";

/// A pipeline, its admin API on loopback, and a token per role.
pub struct AdminApi {
    /// The pipeline (relay + worker).
    pub pipeline: Pipeline,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Tokens of a viewer, an operator and an admin key.
    pub viewer: String,
    /// An operator's token.
    pub operator: String,
    /// An admin's token.
    pub admin: String,
    client: reqwest::Client,
}

impl AdminApi {
    /// Routes every event to `receiver` with `max_attempts` attempts 10–50 ms apart (no
    /// circuit breaker, so a failing receiver is retried as soon as it is due).
    pub async fn start(receiver: &Receiver, max_attempts: u32) -> Self {
        let policy = RetryPolicy::new(
            max_attempts,
            Duration::from_millis(10),
            Duration::from_millis(50),
        );
        let destination = Destination::http(DESTINATION, &receiver.url)
            .expect("URL")
            .policy(policy)
            .without_circuit_breaker();
        let pipeline = Pipeline::start(
            Relay::builder()
                .keyring(relay_core::control::credentials::Keyring::generate())
                .allow_cidrs(loopback())
                .destination(destination)
                .route(EventRoute::new("all").to([DESTINATION])),
        );
        let relay = pipeline.relay.clone();
        let system = Principal::system(TenantId::default());
        let mut tokens = Vec::new();
        for role in Role::ALL {
            let key = relay
                .access()
                .create_api_key(&system, role.as_str(), role)
                .await
                .expect("key");
            tokens.push(key.token.expose().to_owned());
        }
        let app = relay_axum::admin::router(relay, relay_axum::admin::AdminOptions::default());
        let addr = serve(app).await;
        let [viewer, operator, admin] = <[String; 3]>::try_from(tokens).expect("three keys");
        Self {
            pipeline,
            base: format!("http://{addr}"),
            viewer,
            operator,
            admin,
            client: relay_core::tls::client(),
        }
    }

    /// The token of a ranked `role` (a portal session has no API key).
    pub fn token(&self, role: Role) -> &str {
        match role {
            Role::Viewer => &self.viewer,
            Role::Operator => &self.operator,
            Role::Admin => &self.admin,
            Role::Portal => panic!("a portal session has no API key: see relay_tests::portal"),
        }
    }

    /// Sends a request with an optional bearer token and JSON body; returns the status and
    /// the JSON answer (`Null` when the body is empty or not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin API answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET path` as an admin; panics unless 200.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, Some(&self.admin), None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}
