//! One-off HTTP/1.1 requests to a gateway on loopback (setup calls of the admin API, health
//! checks), on a fresh connection each.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};

use crate::error::BenchError;
use crate::load;

/// Sends one request (a JSON `body` when given, the admin `token` as a bearer token) and
/// returns the status and the body.
pub async fn call(
    addr: SocketAddr,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<(u16, Bytes), BenchError> {
    let mut sender = load::connect(addr).await?;
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, addr.to_string());
    if let Some(token) = token {
        builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => builder
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))?,
        None => builder.body(Full::new(Bytes::new()))?,
    };
    let failed = |e: hyper::Error| BenchError::Setup(format!("{path}: {e}"));
    sender.ready().await.map_err(failed)?;
    let response = sender.send_request(request).await.map_err(failed)?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map_err(failed)?;
    Ok((status, body.to_bytes()))
}

/// Like [`call`], failing unless the answer has the status `expected`; the body as JSON
/// (`null` when empty).
pub async fn expect(
    addr: SocketAddr,
    (method, path): (Method, &str),
    token: &str,
    body: Option<String>,
    expected: u16,
) -> Result<serde_json::Value, BenchError> {
    let (status, answer) = call(addr, method.clone(), path, Some(token), body).await?;
    if status != expected {
        return Err(BenchError::Setup(format!(
            "{method} {path} answered {status} (expected {expected}): {}",
            String::from_utf8_lossy(&answer)
        )));
    }
    Ok(serde_json::from_slice(&answer).unwrap_or(serde_json::Value::Null))
}

/// Waits (at most `timeout`) until `GET /healthz` on `addr` answers 200.
pub async fn wait_healthy(addr: SocketAddr, timeout: Duration) -> Result<(), BenchError> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok((200, _)) = call(addr, Method::GET, "/healthz", None, None).await {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(BenchError::Setup(format!(
                "the gateway on {addr} did not answer /healthz within {timeout:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
