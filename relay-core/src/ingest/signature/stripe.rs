//! `stripe`: the `Stripe-Signature` header (`t=` and one or more `v1=`), 300 s tolerance.

use std::time::Duration;

use super::{
    SignatureScheme, SignedRequest, VerifyError, active_secrets, check_tolerance, header_str,
    hmac_sha256, json_path, parse_unix_secs,
};
use crate::ingest::selector::Selector;
use crate::model::secret::{SourceSecret, constant_time_eq};
use crate::model::time::Timestamp;

const SIGNATURE_HEADER: &str = "stripe-signature";

/// Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, where each `v1` is the
/// hex HMAC-SHA256 of `"{t}.{body}"` under the endpoint's signing secret (`whsec_…`, used as
/// is: Stripe does not decode it). Any `v1` may match (Stripe sends several while a secret
/// rolls); other keys (`v0`, …) are ignored. `t` must lie within the tolerance (300 s by
/// default, either direction), else [`VerifyError::Stale`]. Event type from `$.type`,
/// idempotency key from `$.id`.
///
/// ```
/// use relay_core::model::secret::SourceSecret;
/// use relay_core::ingest::signature::{hmac_sha256, SignatureScheme, SignedRequest, Stripe, VerifyError};
/// use relay_core::model::time::Timestamp;
///
/// let secret = "whsec_test_secret";
/// let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
/// let t = 1_700_000_000_i64;
/// let v1 = hex::encode(hmac_sha256(secret.as_bytes(), &[t.to_string().as_bytes(), b".", body]));
/// let mut headers = http::HeaderMap::new();
/// headers.insert("stripe-signature", format!("t={t},v1={v1},v0=ignored").parse().unwrap());
/// let request = SignedRequest { headers: &headers, body };
/// let secrets = [SourceSecret::new(secret)];
///
/// let now = Timestamp::from_millis(t * 1000 + 60_000);
/// assert_eq!(Stripe::new().verify(&request, &secrets, now), Ok(()));
/// let later = Timestamp::from_millis(t * 1000 + 301_000);
/// assert_eq!(Stripe::new().verify(&request, &secrets, later), Err(VerifyError::Stale));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stripe {
    tolerance: Duration,
}

impl Stripe {
    /// The default tolerance for the signed timestamp (Stripe's own libraries use 300 s).
    pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

    /// The scheme with the default tolerance.
    pub const fn new() -> Self {
        Self {
            tolerance: Self::DEFAULT_TOLERANCE,
        }
    }

    /// Sets how far the signed timestamp may be from now, in either direction.
    pub const fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }
}

impl Default for Stripe {
    fn default() -> Self {
        Self::new()
    }
}

/// The parts of a `Stripe-Signature` header Relay uses.
struct ParsedHeader<'a> {
    /// The `t` value as sent (it is signed as text).
    timestamp: &'a str,
    /// Every decodable `v1` signature.
    signatures: Vec<Vec<u8>>,
}

fn parse_header(value: &str) -> Option<ParsedHeader<'_>> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in value.split(',') {
        let Some((key, val)) = item.split_once('=') else {
            continue;
        };
        match key.trim() {
            "t" if timestamp.is_none() => timestamp = Some(val.trim()),
            "v1" => {
                if let Ok(signature) = hex::decode(val.trim()) {
                    signatures.push(signature);
                }
            }
            _ => {}
        }
    }
    Some(ParsedHeader {
        timestamp: timestamp?,
        signatures,
    })
}

impl SignatureScheme for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &[SourceSecret],
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        let value = header_str(request.headers, SIGNATURE_HEADER)?;
        let parsed = parse_header(value).ok_or(VerifyError::Malformed(SIGNATURE_HEADER))?;
        let signed_at =
            parse_unix_secs(parsed.timestamp).ok_or(VerifyError::Malformed(SIGNATURE_HEADER))?;
        if parsed.signatures.is_empty() {
            return Err(VerifyError::Malformed(SIGNATURE_HEADER));
        }
        check_tolerance(signed_at, now, self.tolerance)?;
        for secret in active_secrets(secrets, now)? {
            let expected = hmac_sha256(
                secret.secret.expose().as_bytes(),
                &[parsed.timestamp.as_bytes(), b".", request.body],
            );
            // Check every candidate (no early exit) so timing says nothing about which matched.
            let matched = parsed
                .signatures
                .iter()
                .fold(false, |acc, given| acc | constant_time_eq(&expected, given));
            if matched {
                return Ok(());
            }
        }
        Err(VerifyError::Mismatch)
    }

    fn default_event_type(&self) -> Option<Selector> {
        json_path("$.type")
    }

    fn default_idempotency_key(&self) -> Option<Selector> {
        json_path("$.id")
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;

    // Stripe does not publish a complete (secret, payload, header) test vector: the header in
    // its documentation (`t=1492774577,v1=5257a869…`) comes without the secret and payload.
    // `LIBRARY_HEADER` was produced by Stripe's official library (stripe-python 16.1.0,
    // `stripe.WebhookSignature.generate_signature_header(BODY, SECRET, timestamp=T)`) for the
    // secret and payload of that library's own webhook tests; the live cross-check is
    // `tests/tests/interop_official_clients.rs`.
    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = b"{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
    const T: i64 = 1_492_774_577;
    const LIBRARY_HEADER: &str =
        "t=1492774577,v1=c2f890decbc5ede7c5060bb9a6d31e0626a4342bacb9aeae2adb1bcea72f9812";

    fn now() -> Timestamp {
        Timestamp::from_millis(T * 1000)
    }

    fn v1(secret: &str, t: i64, body: &[u8]) -> String {
        hex::encode(hmac_sha256(
            secret.as_bytes(),
            &[t.to_string().as_bytes(), b".", body],
        ))
    }

    fn check(
        scheme: Stripe,
        header: &str,
        body: &[u8],
        secrets: &[SourceSecret],
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, header.parse().unwrap());
        scheme.verify(
            &SignedRequest {
                headers: &headers,
                body,
            },
            secrets,
            now,
        )
    }

    #[test]
    fn the_official_librarys_header_verifies_and_one_bit_changes_fail() {
        let secrets = [SourceSecret::new(SECRET)];
        assert_eq!(
            check(Stripe::new(), LIBRARY_HEADER, BODY, &secrets, now()),
            Ok(())
        );
        let mut body = BODY.to_vec();
        body[0] ^= 1;
        assert_eq!(
            check(Stripe::new(), LIBRARY_HEADER, &body, &secrets, now()),
            Err(VerifyError::Mismatch)
        );
        let next_t = LIBRARY_HEADER.replace("t=1492774577", "t=1492774576");
        assert_eq!(
            check(Stripe::new(), &next_t, BODY, &secrets, now()),
            Err(VerifyError::Mismatch)
        );
        // `t` → `u`: one bit of the secret.
        let other_secret = [SourceSecret::new("whsec_uest_secret")];
        assert_eq!(
            check(Stripe::new(), LIBRARY_HEADER, BODY, &other_secret, now()),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(LIBRARY_HEADER, format!("t={T},v1={}", v1(SECRET, T, BODY)));
    }

    #[test]
    fn a_fresh_signature_verifies_and_one_bit_changes_fail() {
        let secrets = [SourceSecret::new(SECRET)];
        let header = format!("t={T},v1={}", v1(SECRET, T, BODY));
        assert_eq!(check(Stripe::new(), &header, BODY, &secrets, now()), Ok(()));

        let mut body = BODY.to_vec();
        body[3] ^= 1;
        assert_eq!(
            check(Stripe::new(), &header, &body, &secrets, now()),
            Err(VerifyError::Mismatch)
        );
        let other_t = header.replace(&T.to_string(), &(T ^ 1).to_string());
        assert_eq!(
            check(Stripe::new(), &other_t, BODY, &secrets, now()),
            Err(VerifyError::Mismatch)
        );
        let other_secret = [SourceSecret::new("whsec_test_secreu")];
        assert_eq!(
            check(Stripe::new(), &header, BODY, &other_secret, now()),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn any_v1_matches_and_unknown_keys_are_ignored() {
        let secrets = [SourceSecret::new(SECRET)];
        let good = v1(SECRET, T, BODY);
        let other = v1("whsec_old", T, BODY);
        for header in [
            format!("t={T},v1={other},v1={good}"),
            format!("t={T},v0={other},v1={good},v2=zzz"),
            format!("v1={good}, t={T}"),
            format!("t={T},v1=nothex,v1={good},junk"),
        ] {
            assert_eq!(
                check(Stripe::new(), &header, BODY, &secrets, now()),
                Ok(()),
                "{header}"
            );
        }
        // A v0 signature alone is not accepted, even when it is right.
        let only_v0 = format!("t={T},v0={good}");
        assert_eq!(
            check(Stripe::new(), &only_v0, BODY, &secrets, now()),
            Err(VerifyError::Malformed(SIGNATURE_HEADER))
        );
    }

    #[test]
    fn rotation_accepts_either_active_secret() {
        let header = format!("t={T},v1={}", v1(SECRET, T, BODY));
        let rotated = [
            SourceSecret::new("whsec_new"),
            SourceSecret::expiring(SECRET, Timestamp::from_millis(T * 1000 + 1)),
        ];
        assert_eq!(check(Stripe::new(), &header, BODY, &rotated, now()), Ok(()));
        let after_expiry = [
            SourceSecret::new("whsec_new"),
            SourceSecret::expiring(SECRET, now()),
        ];
        assert_eq!(
            check(Stripe::new(), &header, BODY, &after_expiry, now()),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn stale_timestamps_are_refused_with_a_configurable_tolerance() {
        let secrets = [SourceSecret::new(SECRET)];
        let header = format!("t={T},v1={}", v1(SECRET, T, BODY));
        let at = |secs: i64| Timestamp::from_millis((T + secs) * 1000);
        assert_eq!(
            check(Stripe::new(), &header, BODY, &secrets, at(300)),
            Ok(())
        );
        assert_eq!(
            check(Stripe::new(), &header, BODY, &secrets, at(301)),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            check(Stripe::new(), &header, BODY, &secrets, at(-301)),
            Err(VerifyError::Stale)
        );
        let wide = Stripe::new().tolerance(Duration::from_secs(3600));
        assert_eq!(check(wide, &header, BODY, &secrets, at(3600)), Ok(()));
        let narrow = Stripe::default().tolerance(Duration::from_secs(10));
        assert_eq!(
            check(narrow, &header, BODY, &secrets, at(11)),
            Err(VerifyError::Stale)
        );
    }

    #[test]
    fn malformed_and_missing_headers_are_refused() {
        let secrets = [SourceSecret::new(SECRET)];
        let good = v1(SECRET, T, BODY);
        for header in [
            String::new(),
            format!("v1={good}"),
            format!("t=,v1={good}"),
            format!("t=-{T},v1={good}"),
            format!("t={T}"),
            format!("t={T},v1=zz"),
        ] {
            assert_eq!(
                check(Stripe::new(), &header, BODY, &secrets, now()),
                Err(VerifyError::Malformed(SIGNATURE_HEADER)),
                "{header:?}"
            );
        }
        let missing = Stripe::new().verify(
            &SignedRequest {
                headers: &HeaderMap::new(),
                body: BODY,
            },
            &secrets,
            now(),
        );
        assert_eq!(missing, Err(VerifyError::MissingHeader(SIGNATURE_HEADER)));
    }

    #[test]
    fn defaults_read_type_and_id_from_the_body() {
        let doc = serde_json::json!({"id": "evt_1", "type": "invoice.paid"});
        let headers = HeaderMap::new();
        let read = |s: Option<Selector>| s.and_then(|s| s.read(&headers, Some(&doc)));
        assert_eq!(
            read(Stripe::new().default_event_type()).as_deref(),
            Some("invoice.paid")
        );
        assert_eq!(
            read(Stripe::new().default_idempotency_key()).as_deref(),
            Some("evt_1")
        );
    }
}
