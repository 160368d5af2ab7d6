//! The agent protocol: JSON text frames over one WebSocket.
//!
//! The agent connects with `GET /agent/v1/connect`, `Authorization: Bearer rag_…` and the
//! URLs it forwards to in [`TARGET_HEADER`] (one header per URL: `URL` for every destination
//! without its own, `DESTINATION=URL` for one; see
//! [`AgentTargets`](super::AgentTargets)), and its version in [`VERSION_HEADER`]. The gateway answers [`GatewayFrame::Welcome`],
//! then one [`GatewayFrame::Deliver`] per attempt; the agent answers each with an
//! [`AgentFrame::Outcome`] carrying the same `id`. An agent that stops sends
//! [`AgentFrame::Draining`] first, answers what it was sent, then closes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::HeaderMap;
use serde::{Deserialize, Serialize};

/// The path of the WebSocket endpoint.
pub const CONNECT_PATH: &str = "/agent/v1/connect";

/// The request header naming a URL the agent forwards to (repeated for several).
pub const TARGET_HEADER: &str = "x-relay-agent-target";

/// The request header carrying the agent's version (shown in its status).
pub const VERSION_HEADER: &str = "x-relay-agent-version";

/// What the gateway sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GatewayFrame {
    /// The connection is accepted.
    Welcome {
        /// The agent's name.
        agent: String,
        /// The default target the gateway accepted (the agent's bare `--forward`, normalised;
        /// empty without one).
        target: String,
        /// Every target the gateway accepted.
        #[serde(default)]
        targets: super::AgentTargets,
    },
    /// One attempt to forward.
    Deliver(DeliverFrame),
}

/// One attempt of a delivery, to POST to `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverFrame {
    /// Names this attempt on this connection; the outcome carries it back.
    pub id: u64,
    /// The delivery (`webhook-id`).
    pub delivery_id: String,
    /// The destination it is for.
    pub destination: String,
    /// The event's type.
    pub event_type: String,
    /// The attempt number, 1 for the first.
    pub attempt: u32,
    /// Where to POST it.
    pub target: String,
    /// The request headers (signature headers included); values that are not text are left
    /// out.
    pub headers: Vec<(String, String)>,
    /// The body, in base64.
    pub body: String,
    /// How long the gateway waits for the outcome.
    pub timeout_ms: u64,
}

impl DeliverFrame {
    /// The headers as a map (invalid names or values are skipped).
    pub fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                http::header::HeaderName::from_bytes(name.as_bytes()),
                http::header::HeaderValue::from_str(value),
            ) {
                map.append(name, value);
            }
        }
        map
    }

    /// The decoded body; `None` when it is not base64.
    pub fn body_bytes(&self) -> Option<Bytes> {
        BASE64.decode(&self.body).ok().map(Bytes::from)
    }

    /// Encodes `headers` for a frame (text values only).
    pub fn encode_headers(headers: &HeaderMap) -> Vec<(String, String)> {
        headers
            .iter()
            .filter_map(|(name, value)| {
                value
                    .to_str()
                    .ok()
                    .map(|v| (name.as_str().to_owned(), v.to_owned()))
            })
            .collect()
    }

    /// Encodes a body for a frame.
    pub fn encode_body(body: &[u8]) -> String {
        BASE64.encode(body)
    }
}

/// What the agent sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentFrame {
    /// How one attempt went.
    Outcome(OutcomeFrame),
    /// The agent is stopping: send it nothing more; it answers what it was sent, then closes.
    /// This node stops leasing its deliveries at once, so another node holding a connection
    /// of the agent takes them over without an attempt lost or sent twice.
    Draining,
}

/// The outcome of forwarding one [`DeliverFrame`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeFrame {
    /// The frame's `id`.
    pub id: u64,
    /// The local target's HTTP status; `None` when it did not answer.
    pub status: Option<u16>,
    /// How long forwarding took, in milliseconds.
    pub latency_ms: u64,
    /// Why there is no status (connection refused, timeout, target refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The start of the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// The target's `Retry-After`, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

/// Whether `target` is inside one of the `allowed` URL prefixes (compared after both are
/// normalised as URLs, so `http://localhost:3000` and `http://localhost:3000/` are the same).
///
/// ```
/// use relay_core::control::agent::target_allowed;
/// let allowed = ["http://localhost:3000/".to_owned()];
/// assert!(target_allowed(&allowed, "http://localhost:3000/webhooks"));
/// assert!(target_allowed(&allowed, "http://LOCALHOST:3000"));
/// assert!(!target_allowed(&allowed, "http://localhost:3001/"));
/// assert!(!target_allowed(&allowed, "http://169.254.169.254/"));
/// ```
pub fn target_allowed(allowed: &[String], target: &str) -> bool {
    let Some(target) = normalise_target(target) else {
        return false;
    };
    allowed.iter().any(|prefix| {
        normalise_target(prefix).is_some_and(|prefix| target.starts_with(prefix.as_str()))
    })
}

/// `target` parsed as an `http`/`https` URL and written back in its normal form; `None`
/// when it is not one.
pub fn normalise_target(target: &str) -> Option<String> {
    let url = url::Url::parse(target.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let frame = GatewayFrame::Deliver(DeliverFrame {
            id: 7,
            delivery_id: "d".into(),
            destination: "laptop".into(),
            event_type: "push".into(),
            attempt: 1,
            target: "http://localhost:3000/".into(),
            headers: vec![("webhook-id".into(), "d".into())],
            body: DeliverFrame::encode_body(b"{}"),
            timeout_ms: 1000,
        });
        let text = serde_json::to_string(&frame).unwrap();
        assert!(text.contains(r#""type":"deliver""#), "{text}");
        let back: GatewayFrame = serde_json::from_str(&text).unwrap();
        assert_eq!(back, frame);
        let GatewayFrame::Deliver(deliver) = back else {
            unreachable!()
        };
        assert_eq!(deliver.body_bytes().unwrap(), Bytes::from_static(b"{}"));
        assert_eq!(deliver.header_map()["webhook-id"], "d");
        let outcome: AgentFrame =
            serde_json::from_str(r#"{"type":"outcome","id":7,"status":200,"latency_ms":3}"#)
                .unwrap();
        assert!(matches!(
            outcome,
            AgentFrame::Outcome(OutcomeFrame {
                id: 7,
                status: Some(200),
                ..
            })
        ));
    }

    #[test]
    fn targets_are_prefixes_of_normal_urls() {
        let allowed = vec!["http://127.0.0.1:3000/hooks/".to_owned()];
        assert!(target_allowed(&allowed, "http://127.0.0.1:3000/hooks/a"));
        assert!(!target_allowed(&allowed, "http://127.0.0.1:3000/other"));
        assert!(!target_allowed(&allowed, "ftp://127.0.0.1:3000/hooks/"));
        assert!(!target_allowed(&allowed, "not a url"));
        assert!(!target_allowed(&[], "http://127.0.0.1:3000/hooks/"));
    }
}
