//! `standard_webhooks` and `svix`: `webhook-id`/`-timestamp`/`-signature` (or the `svix-`
//! headers), `whsec_` secrets, several signatures per request.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::{
    SignatureScheme, SignedRequest, VerifyError, active_secrets, check_tolerance, header_str,
    hmac_sha256, json_path, parse_unix_secs,
};
use crate::ingest::selector::Selector;
use crate::model::secret::{Secret, SourceSecret, constant_time_eq};
use crate::model::time::Timestamp;

/// Standard base64 that accepts keys with or without their `=` padding, as the official
/// Standard Webhooks libraries do.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The HMAC key of a Standard Webhooks / Svix secret: `whsec_<base64>` decodes (padding
/// optional); anything else, including a `whsec_` value that is not base64, is used as its raw
/// bytes. Inbound verification ([`StandardWebhooks`], [`Svix`]) and outbound signing
/// ([`crate::deliver::signing_key`]) both use this.
///
/// ```
/// use relay_core::model::secret::Secret;
/// use relay_core::ingest::signature::standard_webhooks_key;
/// assert_eq!(standard_webhooks_key(&Secret::new("whsec_aGVsbG8=")), b"hello");
/// assert_eq!(standard_webhooks_key(&Secret::new("whsec_aGVsbG8")), b"hello");
/// assert_eq!(standard_webhooks_key(&Secret::new("plain")), b"plain");
/// assert_eq!(standard_webhooks_key(&Secret::new("whsec_!!!")), b"whsec_!!!");
/// ```
pub fn standard_webhooks_key(secret: &Secret) -> Vec<u8> {
    let value = secret.expose();
    value
        .strip_prefix("whsec_")
        .and_then(|encoded| KEY_BASE64.decode(encoded).ok())
        .unwrap_or_else(|| value.as_bytes().to_vec())
}

/// The three headers of one flavour of the scheme.
#[derive(Debug, Clone, Copy)]
struct HeaderNames {
    id: &'static str,
    timestamp: &'static str,
    signature: &'static str,
}

const WEBHOOK: HeaderNames = HeaderNames {
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
};

const SVIX: HeaderNames = HeaderNames {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

/// The default tolerance of both flavours: 5 minutes, either direction (as in the official
/// libraries).
const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Verification shared by [`StandardWebhooks`] and [`Svix`].
fn verify_with(
    names: HeaderNames,
    tolerance: Duration,
    request: &SignedRequest<'_>,
    secrets: &[SourceSecret],
    now: Timestamp,
) -> Result<(), VerifyError> {
    let id = header_str(request.headers, names.id)?;
    let timestamp = header_str(request.headers, names.timestamp)?.trim();
    let signature = header_str(request.headers, names.signature)?;
    let signed_at = parse_unix_secs(timestamp).ok_or(VerifyError::Malformed(names.timestamp))?;
    // Several space-separated `version,base64` entries; only `v1` (HMAC-SHA256) is ours, other
    // versions (`v1a` asymmetric signatures, …) are skipped, as the official libraries do.
    let given: Vec<Vec<u8>> = signature
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, encoded)| BASE64.decode(encoded).ok())
        .collect();
    if given.is_empty() {
        return Err(VerifyError::Malformed(names.signature));
    }
    check_tolerance(signed_at, now, tolerance)?;
    for secret in active_secrets(secrets, now)? {
        let expected = hmac_sha256(
            &standard_webhooks_key(&secret.secret),
            &[
                id.as_bytes(),
                b".",
                timestamp.as_bytes(),
                b".",
                request.body,
            ],
        );
        let matched = given
            .iter()
            .fold(false, |acc, sig| acc | constant_time_eq(&expected, sig));
        if matched {
            return Ok(());
        }
    }
    Err(VerifyError::Mismatch)
}

/// [Standard Webhooks](https://www.standardwebhooks.com/): `webhook-id`, `webhook-timestamp`
/// (Unix seconds, within 5 minutes of now in either direction by default) and
/// `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>` over
/// `"{id}.{timestamp}.{body}"`; any one may match. Secrets are written `whsec_<base64 key>`
/// and the decoded bytes are the key (a secret without the prefix is used as raw bytes, as
/// for Relay's own outbound signing: see [`standard_webhooks_key`]). Event type from
/// `$.type`, idempotency key from the `webhook-id` header.
///
/// This is the scheme Relay signs its own deliveries with, so one Relay can receive from
/// another.
///
/// ```
/// // The example from the Standard Webhooks specification.
/// use relay_core::model::secret::SourceSecret;
/// use relay_core::ingest::signature::{SignatureScheme, SignedRequest, StandardWebhooks};
/// use relay_core::model::time::Timestamp;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek".parse().unwrap());
/// headers.insert("webhook-timestamp", "1614265330".parse().unwrap());
/// headers.insert(
///     "webhook-signature",
///     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".parse().unwrap(),
/// );
/// let request = SignedRequest { headers: &headers, body: br#"{"test": 2432232314}"# };
/// let secrets = [SourceSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")];
/// let now = Timestamp::from_millis(1_614_265_330_000);
/// assert_eq!(StandardWebhooks::new().verify(&request, &secrets, now), Ok(()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardWebhooks {
    tolerance: Duration,
}

impl StandardWebhooks {
    /// The default tolerance for `webhook-timestamp`: 300 s.
    pub const DEFAULT_TOLERANCE: Duration = DEFAULT_TOLERANCE;

    /// The scheme with the default tolerance.
    pub const fn new() -> Self {
        Self {
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Sets how far `webhook-timestamp` may be from now, in either direction.
    pub const fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }
}

impl Default for StandardWebhooks {
    fn default() -> Self {
        Self::new()
    }
}

impl SignatureScheme for StandardWebhooks {
    fn name(&self) -> &'static str {
        "standard_webhooks"
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &[SourceSecret],
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        verify_with(WEBHOOK, self.tolerance, request, secrets, now)
    }

    fn default_event_type(&self) -> Option<Selector> {
        json_path("$.type")
    }

    fn default_idempotency_key(&self) -> Option<Selector> {
        Some(Selector::header(WEBHOOK.id))
    }
}

/// [Svix](https://docs.svix.com/receiving/verifying-payloads/how-manual): Standard Webhooks
/// under the `svix-id`, `svix-timestamp` and `svix-signature` headers. Like Svix's own
/// libraries, a request without `svix-signature` but with `webhook-signature` is read from
/// the unbranded `webhook-*` headers. Event type from `$.type`, idempotency key from
/// `svix-id` (else `webhook-id`).
///
/// ```
/// // The example from Svix's documentation.
/// use relay_core::model::secret::SourceSecret;
/// use relay_core::ingest::signature::{SignatureScheme, SignedRequest, Svix, VerifyError};
/// use relay_core::model::time::Timestamp;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek".parse().unwrap());
/// headers.insert("svix-timestamp", "1614265330".parse().unwrap());
/// headers.insert(
///     "svix-signature",
///     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".parse().unwrap(),
/// );
/// let request = SignedRequest { headers: &headers, body: br#"{"test": 2432232314}"# };
/// let secrets = [SourceSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")];
/// let now = Timestamp::from_millis(1_614_265_330_000);
/// assert_eq!(Svix::new().verify(&request, &secrets, now), Ok(()));
/// let tampered = SignedRequest { headers: &headers, body: br#"{"test": 2432232315}"# };
/// assert_eq!(Svix::new().verify(&tampered, &secrets, now), Err(VerifyError::Mismatch));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Svix {
    tolerance: Duration,
}

impl Svix {
    /// The default tolerance for `svix-timestamp`: 300 s.
    pub const DEFAULT_TOLERANCE: Duration = DEFAULT_TOLERANCE;

    /// The scheme with the default tolerance.
    pub const fn new() -> Self {
        Self {
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Sets how far `svix-timestamp` may be from now, in either direction.
    pub const fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }
}

impl Default for Svix {
    fn default() -> Self {
        Self::new()
    }
}

impl SignatureScheme for Svix {
    fn name(&self) -> &'static str {
        "svix"
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &[SourceSecret],
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        let names = if !request.headers.contains_key(SVIX.signature)
            && request.headers.contains_key(WEBHOOK.signature)
        {
            WEBHOOK
        } else {
            SVIX
        };
        verify_with(names, self.tolerance, request, secrets, now)
    }

    fn default_event_type(&self) -> Option<Selector> {
        json_path("$.type")
    }

    fn default_idempotency_key(&self) -> Option<Selector> {
        Some(Selector::FirstOf(vec![
            Selector::header(SVIX.id),
            Selector::header(WEBHOOK.id),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;
    use crate::deliver::sign_standard_webhook;
    use crate::model::secret::Secret;

    // The example of the Standard Webhooks specification (and of Svix's documentation).
    const DOC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const DOC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const DOC_TIMESTAMP: i64 = 1_614_265_330;
    const DOC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const DOC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn doc_now() -> Timestamp {
        Timestamp::from_millis(DOC_TIMESTAMP * 1000)
    }

    fn headers(names: HeaderNames, id: &str, timestamp: &str, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(names.id, id.parse().unwrap());
        headers.insert(names.timestamp, timestamp.parse().unwrap());
        headers.insert(names.signature, signature.parse().unwrap());
        headers
    }

    fn doc_headers(names: HeaderNames) -> HeaderMap {
        headers(names, DOC_ID, &DOC_TIMESTAMP.to_string(), DOC_SIGNATURE)
    }

    fn check(
        scheme: &dyn SignatureScheme,
        headers: &HeaderMap,
        body: &[u8],
        secret: &str,
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        scheme.verify(
            &SignedRequest { headers, body },
            &[SourceSecret::new(secret)],
            now,
        )
    }

    fn both() -> [(&'static dyn SignatureScheme, HeaderNames); 2] {
        const SW: StandardWebhooks = StandardWebhooks::new();
        const SX: Svix = Svix::new();
        [(&SW, WEBHOOK), (&SX, SVIX)]
    }

    #[test]
    fn the_documented_example_verifies() {
        for (scheme, names) in both() {
            let headers = doc_headers(names);
            assert_eq!(
                check(scheme, &headers, DOC_BODY, DOC_SECRET, doc_now()),
                Ok(())
            );
        }
        // And our outbound signer produces exactly the documented signature.
        let ours = sign_standard_webhook(&Secret::new(DOC_SECRET), DOC_ID, DOC_TIMESTAMP, DOC_BODY);
        assert_eq!(ours, DOC_SIGNATURE);
    }

    #[test]
    fn one_changed_bit_of_body_id_timestamp_or_secret_fails() {
        for (scheme, names) in both() {
            let good = doc_headers(names);
            let mut body = DOC_BODY.to_vec();
            body[9] ^= 1;
            assert_eq!(
                check(scheme, &good, &body, DOC_SECRET, doc_now()),
                Err(VerifyError::Mismatch)
            );
            let other_ts = headers(
                names,
                DOC_ID,
                &(DOC_TIMESTAMP ^ 1).to_string(),
                DOC_SIGNATURE,
            );
            assert_eq!(
                check(scheme, &other_ts, DOC_BODY, DOC_SECRET, doc_now()),
                Err(VerifyError::Mismatch)
            );
            let other_id = headers(
                names,
                "msg_p5jXN8AQM9LWM0D4loKWxJeK",
                &DOC_TIMESTAMP.to_string(),
                DOC_SIGNATURE,
            );
            assert_eq!(
                check(scheme, &other_id, DOC_BODY, DOC_SECRET, doc_now()),
                Err(VerifyError::Mismatch)
            );
            // `M` → `N` in the base64 text flips bits of the decoded key.
            let other_secret = "whsec_NfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
            assert_eq!(
                check(scheme, &good, DOC_BODY, other_secret, doc_now()),
                Err(VerifyError::Mismatch)
            );
            // The secret is decoded, not used as text.
            let mut raw = DOC_SECRET.to_owned();
            raw.replace_range(..6, "");
            assert_eq!(
                check(scheme, &good, DOC_BODY, &raw, doc_now()),
                Err(VerifyError::Mismatch)
            );
        }
    }

    #[test]
    fn several_signatures_any_may_match_and_other_versions_are_ignored() {
        for (scheme, names) in both() {
            let sig_of_other_key =
                sign_standard_webhook(&Secret::new("whsec_AAAA"), DOC_ID, DOC_TIMESTAMP, DOC_BODY);
            let good = DOC_SIGNATURE.trim_start_matches("v1,");
            for list in [
                format!("{sig_of_other_key} {DOC_SIGNATURE}"),
                format!("v1a,{good} {DOC_SIGNATURE}"),
                format!("v2,xyz v1,!!! {DOC_SIGNATURE} garbage"),
            ] {
                let headers = headers(names, DOC_ID, &DOC_TIMESTAMP.to_string(), &list);
                assert_eq!(
                    check(scheme, &headers, DOC_BODY, DOC_SECRET, doc_now()),
                    Ok(()),
                    "{list}"
                );
            }
            // The right signature under another version is not accepted.
            let headers = headers(
                names,
                DOC_ID,
                &DOC_TIMESTAMP.to_string(),
                &format!("v1a,{good}"),
            );
            assert_eq!(
                check(scheme, &headers, DOC_BODY, DOC_SECRET, doc_now()),
                Err(VerifyError::Malformed(names.signature))
            );
        }
    }

    #[test]
    fn the_window_is_five_minutes_in_both_directions() {
        for (scheme, names) in both() {
            let headers = doc_headers(names);
            let at = |secs: i64| Timestamp::from_millis((DOC_TIMESTAMP + secs) * 1000);
            for ok in [-300, 300, 0] {
                assert_eq!(
                    check(scheme, &headers, DOC_BODY, DOC_SECRET, at(ok)),
                    Ok(())
                );
            }
            for stale in [-301, 301, 86_400] {
                assert_eq!(
                    check(scheme, &headers, DOC_BODY, DOC_SECRET, at(stale)),
                    Err(VerifyError::Stale)
                );
            }
        }
        let wide = StandardWebhooks::new().tolerance(Duration::from_secs(600));
        assert_eq!(
            check(
                &wide,
                &doc_headers(WEBHOOK),
                DOC_BODY,
                DOC_SECRET,
                Timestamp::from_millis((DOC_TIMESTAMP + 599) * 1000)
            ),
            Ok(())
        );
    }

    #[test]
    fn rotation_accepts_any_active_secret() {
        let headers = doc_headers(WEBHOOK);
        let request = SignedRequest {
            headers: &headers,
            body: DOC_BODY,
        };
        let secrets = [
            SourceSecret::new("whsec_bmV3IGtleQ=="),
            SourceSecret::expiring(DOC_SECRET, doc_now().plus(Duration::from_secs(1))),
        ];
        assert_eq!(
            StandardWebhooks::new().verify(&request, &secrets, doc_now()),
            Ok(())
        );
        let expired = [
            SourceSecret::new("whsec_bmV3IGtleQ=="),
            SourceSecret::expiring(DOC_SECRET, doc_now()),
        ];
        assert_eq!(
            StandardWebhooks::new().verify(&request, &expired, doc_now()),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_refused() {
        for (scheme, names) in both() {
            for drop in [names.id, names.timestamp, names.signature] {
                let mut headers = doc_headers(names);
                headers.remove(drop);
                assert_eq!(
                    check(scheme, &headers, DOC_BODY, DOC_SECRET, doc_now()),
                    Err(VerifyError::MissingHeader(drop))
                );
            }
            for bad_ts in ["", "soon", "1614265330.5", "-1614265330"] {
                let headers = headers(names, DOC_ID, bad_ts, DOC_SIGNATURE);
                assert_eq!(
                    check(scheme, &headers, DOC_BODY, DOC_SECRET, doc_now()),
                    Err(VerifyError::Malformed(names.timestamp))
                );
            }
            for bad_sig in [
                "",
                "v1",
                "v1,",
                "v1,@@@",
                "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            ] {
                let headers = headers(names, DOC_ID, &DOC_TIMESTAMP.to_string(), bad_sig);
                let result = check(scheme, &headers, DOC_BODY, DOC_SECRET, doc_now());
                assert!(
                    matches!(
                        result,
                        Err(VerifyError::Malformed(_) | VerifyError::Mismatch)
                    ),
                    "{bad_sig:?}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn svix_falls_back_to_unbranded_headers() {
        let headers = doc_headers(WEBHOOK);
        assert_eq!(
            check(&Svix::new(), &headers, DOC_BODY, DOC_SECRET, doc_now()),
            Ok(())
        );
        // But the Standard Webhooks scheme does not read svix-* headers.
        assert_eq!(
            check(
                &StandardWebhooks::new(),
                &doc_headers(SVIX),
                DOC_BODY,
                DOC_SECRET,
                doc_now()
            ),
            Err(VerifyError::MissingHeader("webhook-id"))
        );
    }

    #[test]
    fn defaults_read_type_from_the_body_and_key_from_the_id_header() {
        let doc = serde_json::json!({"type": "invoice.paid"});
        for (scheme, names) in both() {
            let headers = doc_headers(names);
            let read = |s: Option<Selector>| s.and_then(|s| s.read(&headers, Some(&doc)));
            assert_eq!(
                read(scheme.default_event_type()).as_deref(),
                Some("invoice.paid")
            );
            assert_eq!(
                read(scheme.default_idempotency_key()).as_deref(),
                Some(DOC_ID)
            );
        }
        let unbranded = doc_headers(WEBHOOK);
        assert_eq!(
            Svix::new()
                .default_idempotency_key()
                .and_then(|s| s.read(&unbranded, None))
                .as_deref(),
            Some(DOC_ID)
        );
    }
}
