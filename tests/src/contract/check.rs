//! Sends one [`Case`] over HTTP and compares the reply (and the stored event) with it.

use std::collections::HashMap;
use std::net::SocketAddr;

use relay_core::Relay;
use relay_core::ingest::RequestId;
use relay_core::model::ids::{EventId, TenantId};
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use super::cases::{Case, Expect};

/// What a reply was.
struct Reply {
    status: u16,
    content_type: Option<String>,
    retry_after: Option<String>,
    request_id: Option<Vec<u8>>,
    body: Vec<u8>,
}

/// Checks cases in order, remembering the event each accepted case made.
pub(super) struct Checker {
    relay: Relay,
    http: reqwest::Client,
    accepted: HashMap<&'static str, EventId>,
}

impl Checker {
    pub(super) fn new(relay: Relay) -> Self {
        Self {
            relay,
            // A fresh connection per case: a server may close a connection after answering
            // without reading the body (a 404 or 413 does), and a pooled client reusing it
            // races that close. Each case is about one request, not about keep-alive.
            http: relay_core::tls::client_builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("an HTTP client"),
            accepted: HashMap::new(),
        }
    }

    pub(super) async fn check(&mut self, addr: SocketAddr, case: &Case) -> Result<(), String> {
        let reply = self.send(addr, case).await?;
        if !matches!(case.expect, Expect::App(..)) {
            request_id_answered(case, reply.request_id.as_deref())?;
        }
        let json = || serde_json::from_slice::<Value>(&reply.body).map_err(|e| e.to_string());
        let is_json = reply.content_type.as_deref() == Some("application/json");
        let (want_status, want_body) = match &case.expect {
            Expect::App(status, text) => {
                let got = String::from_utf8_lossy(&reply.body);
                return ((reply.status, &*got) == (*status, *text))
                    .then_some(())
                    .ok_or_else(|| {
                        format!("want {status} {text:?}, got {} {got:?}", reply.status)
                    });
            }
            _ if !is_json => return Err(format!("content-type {:?}", reply.content_type)),
            Expect::Json(status, body) => (*status, body.clone()),
            Expect::RateLimited => {
                let secs: u64 = reply
                    .retry_after
                    .as_deref()
                    .unwrap_or("")
                    .parse()
                    .unwrap_or(0);
                if !(1..=60).contains(&secs) {
                    return Err(format!("Retry-After {:?}", reply.retry_after));
                }
                (429, json!({"error": "rate_limited"}))
            }
            Expect::DuplicateOf(name) => {
                let original = self.accepted.get(name).ok_or("no original accepted")?;
                (
                    200,
                    json!({"status": "duplicate", "event_id": original.to_string()}),
                )
            }
            Expect::Accepted { event_type } => {
                let body = json()?;
                let id = accepted_id(reply.status, &body)?;
                self.stored_as_sent(id, case, event_type).await?;
                self.accepted.insert(case.name, id);
                return Ok(());
            }
        };
        let got = json()?;
        if (reply.status, &got) != (want_status, &want_body) {
            return Err(format!(
                "want {want_status} {want_body}, got {} {got}",
                reply.status
            ));
        }
        Ok(())
    }

    async fn send(&self, addr: SocketAddr, case: &Case) -> Result<Reply, String> {
        let url = format!("http://{addr}{}", case.path);
        let mut request = self
            .http
            .request(case.method.clone(), url)
            .body(case.body.clone());
        for (name, value) in &case.headers {
            let value = HeaderValue::from_bytes(value).map_err(|e| e.to_string())?;
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let header = |name: &str| {
            let value = response.headers().get(name)?;
            Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
        };
        let (content_type, retry_after) = (header("content-type"), header("retry-after"));
        let request_id = response
            .headers()
            .get("x-request-id")
            .map(|v| v.as_bytes().to_vec());
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| e.to_string())?.to_vec();
        Ok(Reply {
            status,
            content_type,
            retry_after,
            request_id,
            body,
        })
    }

    /// The adapter handed relay-core the body byte for byte and every header.
    async fn stored_as_sent(
        &self,
        id: EventId,
        case: &Case,
        event_type: &str,
    ) -> Result<(), String> {
        let event = self
            .relay
            .store()
            .event(&TenantId::default(), id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("accepted but not stored")?;
        if event.body.as_ref() != case.body.as_slice() {
            return Err(format!("stored body {:?}", event.body));
        }
        if event.event_type != event_type {
            return Err(format!("event type {:?}", event.event_type));
        }
        for (name, value) in &case.headers {
            let stored = event.headers.get(*name).map(|v| v.as_bytes());
            if stored != Some(value.as_slice()) {
                return Err(format!("header {name} stored as {stored:?}"));
            }
        }
        Ok(())
    }
}

/// Every ingest reply carries `x-request-id`: the one sent when it is sane, else a new one.
fn request_id_answered(case: &Case, answered: Option<&[u8]>) -> Result<(), String> {
    let answered = answered.ok_or("no x-request-id in the reply")?;
    let sent = case
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-request-id"))
        .map(|(_, value)| value.as_slice());
    let sane = |id: &[u8]| RequestId::parse(id).is_some();
    match sent {
        Some(sent) if sane(sent) && answered != sent => {
            Err(format!("x-request-id {sent:?} answered as {answered:?}"))
        }
        Some(sent) if !sane(sent) && (answered == sent || !sane(answered)) => Err(format!(
            "x-request-id {sent:?} answered as {answered:?}, not replaced"
        )),
        _ if !sane(answered) => Err(format!("x-request-id {answered:?} is not a sane id")),
        _ => Ok(()),
    }
}

fn accepted_id(status: u16, body: &Value) -> Result<EventId, String> {
    let id = body["event_id"].as_str().unwrap_or("");
    let fields = body.as_object().map_or(0, |o| o.len());
    if status != 200 || body["status"] != "accepted" || fields != 2 {
        return Err(format!("want 200 accepted, got {status} {body}"));
    }
    id.parse().map_err(|_| format!("event_id {id:?}"))
}
