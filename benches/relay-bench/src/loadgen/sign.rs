//! The events `relay-bench load` sends: a 1 KiB JSON body with a unique id, signed as the
//! provider of the chosen scheme signs it.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use clap::ValueEnum;
use hmac::{Hmac, KeyInit, Mac};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use relay_core::ingest::signature::standard_webhooks_key;
use relay_core::model::secret::Secret;
use sha2::Sha256;

use crate::error::BenchError;
use crate::payload::{BODY_BYTES, Pushes};

/// How the events are signed (`--scheme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scheme {
    /// GitHub: `X-Hub-Signature-256: sha256=HEX`, `X-GitHub-Event`, `X-GitHub-Delivery`; the
    /// body a push payload.
    Github,
    /// Stripe: `Stripe-Signature: t=UNIX,v1=HEX` over `"{t}.{body}"`; the body an event object
    /// with `id` and `type`.
    Stripe,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,BASE64`
    /// over `"{id}.{t}.{body}"`, keyed by the `whsec_` secret's decoded bytes.
    Standard,
    /// No signature: an `Idempotency-Key` header and a JSON body with `id` and `type`.
    None,
}

impl Scheme {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Stripe => "stripe",
            Self::Standard => "standard",
            Self::None => "none",
        }
    }

    /// The event type sent unless `--event-type` says otherwise.
    pub fn default_event_type(self) -> &'static str {
        match self {
            Self::Github => "push",
            Self::Stripe => "payment_intent.succeeded",
            Self::Standard | Self::None => "load.test",
        }
    }
}

/// Builds the `i`-th event of a run: its body and headers.
#[derive(Clone)]
pub struct Signer {
    scheme: Scheme,
    key: Vec<u8>,
    event_type: HeaderValue,
    /// Makes ids unique across runs against the same gateway (its deduplication would
    /// otherwise answer a rerun's events as duplicates).
    run: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("scheme", &self.scheme)
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Events of `scheme` and `event_type`, signed with `secret`, ids starting with `run`.
    pub fn new(
        scheme: Scheme,
        secret: &str,
        event_type: &str,
        run: &str,
    ) -> Result<Self, BenchError> {
        let key = match scheme {
            Scheme::Standard => standard_webhooks_key(&Secret::new(secret)),
            _ => secret.as_bytes().to_vec(),
        };
        let event_type = HeaderValue::from_str(event_type)
            .map_err(|_| BenchError::Setup(format!("event type {event_type:?} is not a header")))?;
        Ok(Self {
            scheme,
            key,
            event_type,
            run: run.to_owned(),
        })
    }

    /// The unique id of the `i`-th event.
    pub fn id(&self, i: u64) -> String {
        format!("load-{}-{i}", self.run)
    }

    /// The `i`-th event's body and headers, signed at `now` (Unix seconds).
    pub fn event(&self, i: u64, now: u64) -> Result<(Bytes, HeaderMap), BenchError> {
        let mut headers = HeaderMap::with_capacity(8);
        headers.insert(USER_AGENT, HeaderValue::from_static("relay-bench-load"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let id = self.id(i);
        let body = match self.scheme {
            Scheme::Github => Pushes::body(i),
            _ => self.json_body(&id, now),
        };
        let header = |v: String| HeaderValue::from_str(&v).map_err(http::Error::from);
        match self.scheme {
            Scheme::Github => {
                headers.insert("x-github-event", self.event_type.clone());
                headers.insert("x-github-delivery", header(id)?);
                let signature = format!("sha256={}", hex::encode(self.mac(&[&body[..]])));
                headers.insert("x-hub-signature-256", header(signature)?);
            }
            Scheme::Stripe => {
                let t = now.to_string();
                let v1 = hex::encode(self.mac(&[t.as_bytes(), b".", &body[..]]));
                headers.insert("stripe-signature", header(format!("t={t},v1={v1}"))?);
            }
            Scheme::Standard => {
                let t = now.to_string();
                let signed: [&[u8]; 5] = [id.as_bytes(), b".", t.as_bytes(), b".", &body[..]];
                let v1 = BASE64.encode(self.mac(&signed));
                headers.insert("webhook-id", header(id)?);
                headers.insert("webhook-timestamp", header(t)?);
                headers.insert("webhook-signature", header(format!("v1,{v1}"))?);
            }
            Scheme::None => {
                headers.insert("idempotency-key", header(id)?);
            }
        }
        Ok((body, headers))
    }

    /// HMAC-SHA256 of the concatenated `parts` under the key.
    fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// `{"id":…,"type":…,"created":…,"data":{"padding":"xxx…"}}`, [`BODY_BYTES`] long.
    fn json_body(&self, id: &str, now: u64) -> Bytes {
        let event_type = self.event_type.to_str().unwrap_or("load.test");
        let head = format!(
            "{{\"id\":\"{id}\",\"object\":\"event\",\"type\":\"{event_type}\",\
             \"created\":{now},\"data\":{{\"padding\":\""
        );
        let tail = "\"}}";
        let pad = BODY_BYTES.saturating_sub(head.len() + tail.len());
        let mut body = String::with_capacity(BODY_BYTES);
        body.push_str(&head);
        body.extend(std::iter::repeat_n('x', pad));
        body.push_str(tail);
        Bytes::from(body)
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use relay_core::ingest::signature::{
        GitHub, SignatureScheme, SignedRequest, StandardWebhooks, Stripe,
    };
    use relay_core::model::secret::SourceSecret;
    use relay_core::model::time::Timestamp;

    use super::*;

    /// Whether relay-core's verifier of `scheme` accepts the event signed with `signed_with`
    /// when the source's secret is `secret`.
    fn verifies(
        scheme: &dyn SignatureScheme,
        kind: Scheme,
        signed_with: &str,
        secret: &str,
    ) -> bool {
        let signer = Signer::new(kind, signed_with, kind.default_event_type(), "t").unwrap();
        let now = Timestamp::now();
        let (body, headers) = signer
            .event(7, u64::try_from(now.as_millis() / 1000).unwrap())
            .unwrap();
        let request = SignedRequest {
            headers: &headers,
            body: &body,
        };
        scheme
            .verify(&request, &[SourceSecret::new(secret)], now)
            .is_ok()
    }

    #[test]
    fn each_scheme_is_signed_as_the_gateway_verifies_it() {
        let whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert!(verifies(&GitHub, Scheme::Github, "s3cret", "s3cret"));
        assert!(!verifies(&GitHub, Scheme::Github, "wrong", "s3cret"));
        assert!(verifies(
            &Stripe::new(),
            Scheme::Stripe,
            "whsec_x",
            "whsec_x"
        ));
        assert!(!verifies(
            &Stripe::new(),
            Scheme::Stripe,
            "whsec_y",
            "whsec_x"
        ));
        let standard = StandardWebhooks::new();
        assert!(verifies(&standard, Scheme::Standard, whsec, whsec));
        assert!(!verifies(&standard, Scheme::Standard, "whsec_AAAA", whsec));
    }

    #[test]
    fn bodies_are_one_kib_of_json_with_a_unique_id_and_the_type() {
        let signer = Signer::new(Scheme::Stripe, "k", "invoice.paid", "run1").unwrap();
        let (a, _) = signer.event(1, 1_700_000_000).unwrap();
        let (b, headers) = signer.event(2, 1_700_000_000).unwrap();
        assert_eq!(a.len(), BODY_BYTES);
        let json: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(json["id"], "load-run1-1");
        assert_eq!(json["type"], "invoice.paid");
        assert_ne!(a, b);
        assert!(
            headers["stripe-signature"]
                .to_str()
                .unwrap()
                .starts_with("t=1700000000,v1=")
        );
        let none = Signer::new(Scheme::None, "", "x", "r").unwrap();
        let (_, headers) = none.event(3, 0).unwrap();
        assert_eq!(headers["idempotency-key"], "load-r-3");
        let github = Signer::new(Scheme::Github, "k", "issues", "r").unwrap();
        let (_, headers) = github.event(4, 0).unwrap();
        assert_eq!(headers["x-github-event"], "issues");
        assert_eq!(headers["x-github-delivery"], "load-r-4");
    }
}
