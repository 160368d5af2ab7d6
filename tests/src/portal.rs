//! Consumer-portal helpers: make a link as a platform admin, open it like a browser (without
//! following the redirect), and call the admin API with the session cookie it sets.

use reqwest::Method;
use serde_json::{Value, json};

/// What opening a portal link answered.
#[derive(Debug)]
pub struct Opened {
    /// The status (303 when the link worked).
    pub status: u16,
    /// The `relay_session` cookie's value, when one was set.
    pub cookie: Option<String>,
    /// The `Location` header, when there was one.
    pub location: Option<String>,
    /// The answer's body.
    pub body: String,
}

fn client() -> reqwest::Client {
    relay_core::tls::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// `POST {base}/api/v1/tenants/{tenant}/portal-links` with `token` (bearer) and `body`;
/// returns the status and the JSON answer.
pub async fn create_link(base: &str, token: &str, tenant: &str, body: Value) -> (u16, Value) {
    let response = client()
        .post(format!("{base}/api/v1/tenants/{tenant}/portal-links"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Opens a portal link's URL, as a browser would, without following the redirect.
pub async fn open(url: &str) -> Opened {
    let response = client().get(url).send().await.expect("an answer");
    let header = |name: &str| {
        (response.headers().get_all(name).iter())
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let cookie = header("set-cookie").into_iter().find_map(|c| {
        let value = c.strip_prefix("relay_session=")?.split(';').next()?;
        (!value.is_empty()).then(|| value.to_owned())
    });
    let location = header("location").into_iter().next();
    let status = response.status().as_u16();
    Opened {
        status,
        cookie,
        location,
        body: response.text().await.unwrap_or_default(),
    }
}

/// A fresh portal session of `tenant` (the session cookie's value), made by the platform
/// admin `token` on the gateway at `base`.
pub async fn session(base: &str, token: &str, tenant: &str) -> String {
    let (status, link) = create_link(base, token, tenant, json!({})).await;
    assert_eq!(status, 201, "a portal link for {tenant}: {link}");
    let opened = open(link["url"].as_str().expect("url")).await;
    assert_eq!(opened.status, 303, "the link logs in: {opened:?}");
    opened.cookie.expect("the session cookie")
}

/// Calls the admin API at `base` with the session `cookie`; returns the status and the JSON
/// answer (`Null` when there is none).
pub async fn call(
    base: &str,
    method: Method,
    path: &str,
    cookie: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client()
        .request(method, format!("{base}{path}"))
        .header("cookie", format!("relay_session={cookie}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
