//! Forwarding one delivery frame to the local target.

use std::time::{Duration, Instant};

use relay_core::control::agent::{AgentTargets, DeliverFrame, OutcomeFrame};
use relay_core::deliver::{RESPONSE_EXCERPT_BYTES, parse_retry_after};

/// The client the agent POSTs with: no proxy, no redirects (like the gateway's own).
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    relay_core::tls::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("Relay-Agent/", env!("CARGO_PKG_VERSION")))
        .build()
}

fn failed(frame: &DeliverFrame, started: Instant, error: String) -> OutcomeFrame {
    OutcomeFrame {
        id: frame.id,
        status: None,
        latency_ms: millis(started.elapsed()),
        error: Some(error),
        excerpt: None,
        retry_after_secs: None,
    }
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// POSTs the frame to its target when that is this agent's URL for the frame's destination
/// (what it was started with) and reports how it went. A frame naming any other target is
/// refused without a request.
pub async fn forward(
    client: &reqwest::Client,
    forward: &AgentTargets,
    frame: &DeliverFrame,
) -> OutcomeFrame {
    let started = Instant::now();
    let own = forward.for_destination(&frame.destination);
    if own != Some(frame.target.as_str()) {
        let own = own.unwrap_or("no URL");
        return failed(
            frame,
            started,
            format!(
                "target_refused: this agent forwards destination {:?} to {own} only",
                frame.destination
            ),
        );
    }
    let Some(body) = frame.body_bytes() else {
        return failed(frame, started, "bad_frame: the body is not base64".into());
    };
    let mut headers = frame.header_map();
    for hop in [
        http::header::HOST,
        http::header::CONTENT_LENGTH,
        http::header::CONNECTION,
    ] {
        headers.remove(hop);
    }
    let timeout = Duration::from_millis(frame.timeout_ms.max(1));
    let exchange = async {
        let mut response = client
            .post(&frame.target)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = response.status().as_u16();
        let retry_after = (response.headers().get(http::header::RETRY_AFTER))
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after)
            .map(|d| d.as_secs());
        let mut excerpt = Vec::new();
        while excerpt.len() < RESPONSE_EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(RESPONSE_EXCERPT_BYTES);
        Ok::<_, String>((status, retry_after, excerpt))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok((status, retry_after_secs, excerpt))) => OutcomeFrame {
            id: frame.id,
            status: Some(status),
            latency_ms: millis(started.elapsed()),
            error: None,
            excerpt: (!excerpt.is_empty()).then(|| String::from_utf8_lossy(&excerpt).into_owned()),
            retry_after_secs,
        },
        Ok(Err(error)) => failed(frame, started, format!("connect: {error}")),
        Err(_) => failed(
            frame,
            started,
            format!("timeout: no answer within {timeout:?}"),
        ),
    }
}
