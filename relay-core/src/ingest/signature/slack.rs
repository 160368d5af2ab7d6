//! Slack's `v0` request signatures, and the `url_verification` handshake.

use std::time::Duration;

use serde_json::Value;

use super::{
    SignatureScheme, SignedRequest, VerifyError, active_secrets, check_tolerance, header_str,
    hmac_sha256, json_path, parse_unix_secs,
};
use crate::ingest::selector::Selector;
use crate::model::secret::{SourceSecret, constant_time_eq};
use crate::model::time::Timestamp;

const SIGNATURE_HEADER: &str = "x-slack-signature";
const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";

/// Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256>` over `"v0:{timestamp}:{body}"` under the
/// app's signing secret (used as text), with the timestamp from `X-Slack-Request-Timestamp`
/// within 5 minutes of now (either direction, as Slack's SDKs check). Event type from
/// `$.event.type`, else `$.type` (so `url_verification` and `event_callback` envelopes without
/// an inner event still get a type); idempotency key from `$.event_id`.
///
/// ```
/// // The example from Slack's "Verifying requests from Slack" documentation.
/// use relay_core::model::secret::SourceSecret;
/// use relay_core::ingest::signature::{Slack, SignatureScheme, SignedRequest, VerifyError};
/// use relay_core::model::time::Timestamp;
///
/// let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-slack-request-timestamp", "1531420618".parse().unwrap());
/// headers.insert(
///     "x-slack-signature",
///     "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503".parse().unwrap(),
/// );
/// let request = SignedRequest { headers: &headers, body };
/// let secrets = [SourceSecret::new("8f742231b10e8888abcd99yyyzzz85a5")];
/// let now = Timestamp::from_millis(1_531_420_618_000);
/// assert_eq!(Slack::new().verify(&request, &secrets, now), Ok(()));
/// let much_later = Timestamp::from_millis(1_531_420_618_000 + 301_000);
/// assert_eq!(Slack::new().verify(&request, &secrets, much_later), Err(VerifyError::Stale));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slack {
    tolerance: Duration,
}

impl Slack {
    /// The default tolerance for `X-Slack-Request-Timestamp`: 5 minutes.
    pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

    /// The scheme with the default tolerance.
    pub const fn new() -> Self {
        Self {
            tolerance: Self::DEFAULT_TOLERANCE,
        }
    }

    /// Sets how far the request timestamp may be from now, in either direction.
    pub const fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }
}

impl Default for Slack {
    fn default() -> Self {
        Self::new()
    }
}

impl SignatureScheme for Slack {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &[SourceSecret],
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        let timestamp = header_str(request.headers, TIMESTAMP_HEADER)?.trim();
        let signature = header_str(request.headers, SIGNATURE_HEADER)?;
        let signed_at =
            parse_unix_secs(timestamp).ok_or(VerifyError::Malformed(TIMESTAMP_HEADER))?;
        let given = signature
            .trim()
            .strip_prefix("v0=")
            .and_then(|hex_digest| hex::decode(hex_digest).ok())
            .ok_or(VerifyError::Malformed(SIGNATURE_HEADER))?;
        check_tolerance(signed_at, now, self.tolerance)?;
        for secret in active_secrets(secrets, now)? {
            let expected = hmac_sha256(
                secret.secret.expose().as_bytes(),
                &[b"v0:", timestamp.as_bytes(), b":", request.body],
            );
            if constant_time_eq(&expected, &given) {
                return Ok(());
            }
        }
        Err(VerifyError::Mismatch)
    }

    fn default_event_type(&self) -> Option<Selector> {
        let paths: Vec<Selector> = ["$.event.type", "$.type"]
            .into_iter()
            .filter_map(json_path)
            .collect();
        Some(Selector::FirstOf(paths))
    }

    fn default_idempotency_key(&self) -> Option<Selector> {
        json_path("$.event_id")
    }

    fn handshake(&self, payload: &Value) -> Option<String> {
        url_verification_challenge(payload)
    }
}

/// The `challenge` to echo when Slack checks an Events API URL (`"type": "url_verification"`),
/// else `None`. The request is signed like any other, so verify it first; ingest then answers
/// `200 {"challenge": …}` (JSON, which Slack accepts) through [`SignatureScheme::handshake`].
///
/// ```
/// use relay_core::ingest::signature::slack::url_verification_challenge;
/// let handshake = serde_json::json!({
///     "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
///     "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
///     "type": "url_verification"
/// });
/// assert_eq!(
///     url_verification_challenge(&handshake).as_deref(),
///     Some("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
/// );
/// let event = serde_json::json!({"type": "event_callback", "challenge": "x"});
/// assert_eq!(url_verification_challenge(&event), None);
/// ```
pub fn url_verification_challenge(payload: &Value) -> Option<String> {
    if payload.get("type")?.as_str()? != "url_verification" {
        return None;
    }
    payload.get("challenge")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;

    // The example from Slack's "Verifying requests from Slack" documentation.
    const DOC_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const DOC_TIMESTAMP: &str = "1531420618";
    const DOC_BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const DOC_SIGNATURE: &str =
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn doc_now() -> Timestamp {
        Timestamp::from_millis(1_531_420_618_000)
    }

    fn headers(timestamp: &str, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(TIMESTAMP_HEADER, timestamp.parse().unwrap());
        headers.insert(SIGNATURE_HEADER, signature.parse().unwrap());
        headers
    }

    fn check(
        headers: &HeaderMap,
        body: &[u8],
        secret: &str,
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        Slack::new().verify(
            &SignedRequest { headers, body },
            &[SourceSecret::new(secret)],
            now,
        )
    }

    #[test]
    fn slacks_documented_example_verifies() {
        let headers = headers(DOC_TIMESTAMP, DOC_SIGNATURE);
        assert_eq!(check(&headers, DOC_BODY, DOC_SECRET, doc_now()), Ok(()));
        let upper = headers_upper();
        assert_eq!(check(&upper, DOC_BODY, DOC_SECRET, doc_now()), Ok(()));
    }

    fn headers_upper() -> HeaderMap {
        let hex_part = DOC_SIGNATURE.trim_start_matches("v0=").to_uppercase();
        headers(DOC_TIMESTAMP, &format!("v0={hex_part}"))
    }

    #[test]
    fn one_changed_bit_of_body_timestamp_or_secret_fails() {
        let good = headers(DOC_TIMESTAMP, DOC_SIGNATURE);
        let mut body = DOC_BODY.to_vec();
        body[0] ^= 1;
        assert_eq!(
            check(&good, &body, DOC_SECRET, doc_now()),
            Err(VerifyError::Mismatch)
        );
        let other_ts = headers("1531420619", DOC_SIGNATURE);
        assert_eq!(
            check(&other_ts, DOC_BODY, DOC_SECRET, doc_now()),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(
                &good,
                DOC_BODY,
                "8f742231b10e8888abcd99yyyzzz85a4",
                doc_now()
            ),
            Err(VerifyError::Mismatch)
        );
        let flipped = DOC_SIGNATURE.replace("503", "502");
        assert_eq!(
            check(
                &headers(DOC_TIMESTAMP, &flipped),
                DOC_BODY,
                DOC_SECRET,
                doc_now()
            ),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn the_window_is_five_minutes_in_both_directions() {
        let good = headers(DOC_TIMESTAMP, DOC_SIGNATURE);
        let at = |secs: i64| doc_now().as_millis() + secs * 1000;
        for ok in [-300, 0, 300] {
            assert_eq!(
                check(&good, DOC_BODY, DOC_SECRET, Timestamp::from_millis(at(ok))),
                Ok(())
            );
        }
        for stale in [-301, 301] {
            assert_eq!(
                check(
                    &good,
                    DOC_BODY,
                    DOC_SECRET,
                    Timestamp::from_millis(at(stale))
                ),
                Err(VerifyError::Stale)
            );
        }
        let wide = Slack::new().tolerance(Duration::from_secs(3600));
        assert_eq!(
            wide.verify(
                &SignedRequest {
                    headers: &good,
                    body: DOC_BODY
                },
                &[SourceSecret::new(DOC_SECRET)],
                Timestamp::from_millis(at(3600)),
            ),
            Ok(())
        );
    }

    #[test]
    fn rotation_accepts_any_active_secret() {
        let good = headers(DOC_TIMESTAMP, DOC_SIGNATURE);
        let request = SignedRequest {
            headers: &good,
            body: DOC_BODY,
        };
        let secrets = [
            SourceSecret::new("a new signing secret"),
            SourceSecret::expiring(DOC_SECRET, doc_now().plus(Duration::from_secs(60))),
        ];
        assert_eq!(Slack::new().verify(&request, &secrets, doc_now()), Ok(()));
        let expired = [SourceSecret::expiring(DOC_SECRET, doc_now())];
        assert_eq!(
            Slack::new().verify(&request, &expired, doc_now()),
            Err(VerifyError::NoActiveSecret)
        );
    }

    #[test]
    fn malformed_and_missing_headers_are_refused() {
        for bad in ["", "a2114d57", "v1=a2114d57", "v0=zz"] {
            assert_eq!(
                check(
                    &headers(DOC_TIMESTAMP, bad),
                    DOC_BODY,
                    DOC_SECRET,
                    doc_now()
                ),
                Err(VerifyError::Malformed(SIGNATURE_HEADER)),
                "{bad:?}"
            );
        }
        for bad in ["", "now", "-1531420618", "1531420618.0"] {
            assert_eq!(
                check(
                    &headers(bad, DOC_SIGNATURE),
                    DOC_BODY,
                    DOC_SECRET,
                    doc_now()
                ),
                Err(VerifyError::Malformed(TIMESTAMP_HEADER)),
                "{bad:?}"
            );
        }
        for drop in [TIMESTAMP_HEADER, SIGNATURE_HEADER] {
            let mut h = headers(DOC_TIMESTAMP, DOC_SIGNATURE);
            h.remove(drop);
            assert_eq!(
                check(&h, DOC_BODY, DOC_SECRET, doc_now()),
                Err(VerifyError::MissingHeader(drop))
            );
        }
    }

    #[test]
    fn event_type_prefers_the_inner_event() {
        let headers = HeaderMap::new();
        let read = |doc: &Value| {
            Slack::new()
                .default_event_type()
                .and_then(|s| s.read(&headers, Some(doc)))
        };
        let callback = serde_json::json!({
            "type": "event_callback",
            "event_id": "Ev08MFMKH6",
            "event": {"type": "app_mention"}
        });
        assert_eq!(read(&callback).as_deref(), Some("app_mention"));
        let handshake = serde_json::json!({"type": "url_verification", "challenge": "c"});
        assert_eq!(read(&handshake).as_deref(), Some("url_verification"));
        assert_eq!(read(&serde_json::json!({})), None);
        let key = Slack::new()
            .default_idempotency_key()
            .and_then(|s| s.read(&headers, Some(&callback)));
        assert_eq!(key.as_deref(), Some("Ev08MFMKH6"));
    }

    #[test]
    fn url_verification_needs_the_type_and_a_string_challenge() {
        let ok = serde_json::json!({"type": "url_verification", "challenge": "abc"});
        assert_eq!(url_verification_challenge(&ok).as_deref(), Some("abc"));
        for not in [
            serde_json::json!({"type": "url_verification"}),
            serde_json::json!({"type": "url_verification", "challenge": 5}),
            serde_json::json!({"type": "URL_VERIFICATION", "challenge": "abc"}),
            serde_json::json!({"challenge": "abc"}),
            serde_json::json!(["url_verification"]),
            serde_json::json!("url_verification"),
            Value::Null,
        ] {
            assert_eq!(url_verification_challenge(&not), None, "{not}");
        }
    }
}
