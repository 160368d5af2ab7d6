//! `generic_hmac`: HMAC-SHA256 in a configurable header, hex or base64, with an optional prefix
//! and an optional signed timestamp.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::header::HeaderName;

use super::{SignatureScheme, SignedRequest, VerifyError, active_secrets, hmac_sha256};
use crate::ingest::selector::Selector;
use crate::model::secret::{SourceSecret, constant_time_eq};
use crate::model::time::Timestamp;

/// How the signature bytes are written in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureEncoding {
    /// Lower- or upper-case hexadecimal.
    #[default]
    Hex,
    /// Standard base64 with padding.
    Base64,
}

/// Any provider that sends an HMAC-SHA256 of the body in a header of its choosing, optionally
/// with a prefix (`sha256=`) and optionally over `timestamp.body` with a timestamp header.
///
/// ```
/// use base64::Engine as _;
/// use relay_core::model::secret::SourceSecret;
/// use relay_core::ingest::signature::{
///     hmac_sha256, GenericHmac, SignatureEncoding, SignatureScheme, SignedRequest, VerifyError,
/// };
/// use relay_core::model::time::Timestamp;
///
/// let scheme = GenericHmac::new("x-signature".parse().unwrap())
///     .encoding(SignatureEncoding::Base64)
///     .prefix("sha256=");
/// let body = br#"{"order":42}"#;
/// let mac = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(b"key", &[body]));
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-signature", format!("sha256={mac}").parse().unwrap());
/// let request = SignedRequest { headers: &headers, body };
/// assert_eq!(scheme.verify(&request, &[SourceSecret::new("key")], Timestamp::now()), Ok(()));
/// assert_eq!(
///     scheme.verify(&request, &[SourceSecret::new("kez")], Timestamp::now()),
///     Err(VerifyError::Mismatch)
/// );
/// ```
#[derive(Debug, Clone)]
pub struct GenericHmac {
    header: HeaderName,
    encoding: SignatureEncoding,
    prefix: Option<String>,
    timestamp_header: Option<HeaderName>,
    tolerance: Duration,
}

impl GenericHmac {
    /// The default tolerance for signed timestamps.
    pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

    /// Signature in `header`, hex-encoded, no prefix, no timestamp.
    pub fn new(header: HeaderName) -> Self {
        Self {
            header,
            encoding: SignatureEncoding::Hex,
            prefix: None,
            timestamp_header: None,
            tolerance: Self::DEFAULT_TOLERANCE,
        }
    }

    /// How the signature is encoded.
    pub fn encoding(mut self, encoding: SignatureEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// A prefix before the encoded signature (e.g. `sha256=`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into()).filter(|p| !p.is_empty());
        self
    }

    /// Sign `timestamp.body`, with the Unix timestamp (seconds) in this header, and refuse
    /// timestamps further than the tolerance from now.
    pub fn timestamp_header(mut self, header: HeaderName) -> Self {
        self.timestamp_header = Some(header);
        self
    }

    /// The tolerance for signed timestamps (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    fn decode(&self, value: &str) -> Option<Vec<u8>> {
        let value = value.trim();
        let encoded = match &self.prefix {
            Some(prefix) => value.strip_prefix(prefix.as_str())?,
            None => value,
        };
        match self.encoding {
            SignatureEncoding::Hex => hex::decode(encoded).ok(),
            SignatureEncoding::Base64 => BASE64.decode(encoded).ok(),
        }
    }
}

/// A header name known only at run time, reported as a static label in errors.
const SIGNATURE: &str = "signature header";
const TIMESTAMP: &str = "timestamp header";

impl SignatureScheme for GenericHmac {
    fn name(&self) -> &'static str {
        "generic_hmac"
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &[SourceSecret],
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        let value = request
            .headers
            .get(&self.header)
            .ok_or(VerifyError::MissingHeader(SIGNATURE))?;
        let given = value
            .to_str()
            .ok()
            .and_then(|v| self.decode(v))
            .ok_or(VerifyError::Malformed(SIGNATURE))?;
        let timestamp = match &self.timestamp_header {
            None => None,
            Some(name) => {
                let raw = request
                    .headers
                    .get(name)
                    .ok_or(VerifyError::MissingHeader(TIMESTAMP))?;
                let text = raw
                    .to_str()
                    .map_err(|_| VerifyError::Malformed(TIMESTAMP))?
                    .trim();
                let secs: i64 = text
                    .parse()
                    .map_err(|_| VerifyError::Malformed(TIMESTAMP))?;
                let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
                if (now.as_secs() - secs).abs() > tolerance {
                    return Err(VerifyError::Stale);
                }
                Some(text.to_owned())
            }
        };
        for secret in active_secrets(secrets, now)? {
            let key = secret.secret.expose().as_bytes();
            let expected = match &timestamp {
                Some(ts) => hmac_sha256(key, &[ts.as_bytes(), b".", request.body]),
                None => hmac_sha256(key, &[request.body]),
            };
            if constant_time_eq(&expected, &given) {
                return Ok(());
            }
        }
        Err(VerifyError::Mismatch)
    }

    fn default_event_type(&self) -> Option<Selector> {
        Some(Selector::header("x-event-type"))
    }

    fn default_idempotency_key(&self) -> Option<Selector> {
        Some(Selector::header("idempotency-key"))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;

    const SECRET: &str = "s3cret";
    const BODY: &[u8] = br#"{"hello":"world"}"#;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    fn verify(
        scheme: &GenericHmac,
        headers: &HeaderMap,
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        scheme.verify(
            &SignedRequest {
                headers,
                body: BODY,
            },
            &[SourceSecret::new(SECRET)],
            now,
        )
    }

    #[test]
    fn hex_without_prefix() {
        let scheme = GenericHmac::new(HeaderName::from_static("x-sig"));
        let sig = hex::encode(hmac_sha256(SECRET.as_bytes(), &[BODY]));
        assert_eq!(
            verify(
                &scheme,
                &headers(&[("x-sig", sig.to_uppercase())]),
                Timestamp::now()
            ),
            Ok(())
        );
    }

    #[test]
    fn base64_with_prefix_and_wrong_prefix() {
        let scheme = GenericHmac::new(HeaderName::from_static("x-sig"))
            .encoding(SignatureEncoding::Base64)
            .prefix("sha256=");
        let sig = BASE64.encode(hmac_sha256(SECRET.as_bytes(), &[BODY]));
        let ok = headers(&[("x-sig", format!("sha256={sig}"))]);
        assert_eq!(verify(&scheme, &ok, Timestamp::now()), Ok(()));
        let no_prefix = headers(&[("x-sig", sig)]);
        assert_eq!(
            verify(&scheme, &no_prefix, Timestamp::now()),
            Err(VerifyError::Malformed(SIGNATURE))
        );
    }

    #[test]
    fn timestamped_signatures_enforce_the_tolerance() {
        let scheme = GenericHmac::new(HeaderName::from_static("x-sig"))
            .timestamp_header(HeaderName::from_static("x-ts"));
        let now = Timestamp::from_millis(1_700_000_000_000);
        let sign = |ts: i64| {
            let ts = ts.to_string();
            let sig = hex::encode(hmac_sha256(SECRET.as_bytes(), &[ts.as_bytes(), b".", BODY]));
            headers(&[("x-sig", sig), ("x-ts", ts)])
        };
        assert_eq!(verify(&scheme, &sign(now.as_secs() - 299), now), Ok(()));
        assert_eq!(verify(&scheme, &sign(now.as_secs() + 299), now), Ok(()));
        assert_eq!(
            verify(&scheme, &sign(now.as_secs() - 301), now),
            Err(VerifyError::Stale)
        );
        let mut tampered = sign(now.as_secs());
        tampered.insert("x-ts", (now.as_secs() + 1).to_string().parse().unwrap());
        assert_eq!(verify(&scheme, &tampered, now), Err(VerifyError::Mismatch));
        let mut missing = sign(now.as_secs());
        missing.remove("x-ts");
        assert_eq!(
            verify(&scheme, &missing, now),
            Err(VerifyError::MissingHeader(TIMESTAMP))
        );
    }
}
