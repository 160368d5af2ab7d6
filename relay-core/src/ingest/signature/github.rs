//! `github`: `X-Hub-Signature-256` (`sha256=` and the hex HMAC of the body).

use super::{SignatureScheme, SignedRequest, VerifyError, active_secrets, header_str, hmac_sha256};
use crate::ingest::selector::Selector;
use crate::model::secret::{SourceSecret, constant_time_eq};
use crate::model::time::Timestamp;

const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; event type from
/// `X-GitHub-Event`, idempotency key from `X-GitHub-Delivery`.
///
/// ```
/// // The example from GitHub's "Validating webhook deliveries" documentation.
/// use relay_core::model::secret::SourceSecret;
/// use relay_core::ingest::signature::{GitHub, SignatureScheme, SignedRequest, VerifyError};
/// use relay_core::model::time::Timestamp;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert(
///     "x-hub-signature-256",
///     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".parse().unwrap(),
/// );
/// let secrets = [SourceSecret::new("It's a Secret to Everybody")];
/// let ok = SignedRequest { headers: &headers, body: b"Hello, World!" };
/// assert_eq!(GitHub.verify(&ok, &secrets, Timestamp::now()), Ok(()));
/// let tampered = SignedRequest { headers: &headers, body: b"Hello, World?" };
/// assert_eq!(GitHub.verify(&tampered, &secrets, Timestamp::now()), Err(VerifyError::Mismatch));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct GitHub;

impl SignatureScheme for GitHub {
    fn name(&self) -> &'static str {
        "github"
    }

    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &[SourceSecret],
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        let value = header_str(request.headers, SIGNATURE_HEADER)?;
        let given = value
            .trim()
            .strip_prefix("sha256=")
            .and_then(|hex_digest| hex::decode(hex_digest).ok())
            .ok_or(VerifyError::Malformed(SIGNATURE_HEADER))?;
        for secret in active_secrets(secrets, now)? {
            let expected = hmac_sha256(secret.secret.expose().as_bytes(), &[request.body]);
            if constant_time_eq(&expected, &given) {
                return Ok(());
            }
        }
        Err(VerifyError::Mismatch)
    }

    fn default_event_type(&self) -> Option<Selector> {
        Some(Selector::header("x-github-event"))
    }

    fn default_idempotency_key(&self) -> Option<Selector> {
        Some(Selector::header("x-github-delivery"))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;

    /// The example from GitHub's "Validating webhook deliveries" documentation.
    const DOC_SECRET: &str = "It's a Secret to Everybody";
    const DOC_PAYLOAD: &[u8] = b"Hello, World!";
    const DOC_SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn check(signature: &str, body: &[u8], secrets: &[SourceSecret]) -> Result<(), VerifyError> {
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, signature.parse().unwrap());
        GitHub.verify(
            &SignedRequest {
                headers: &headers,
                body,
            },
            secrets,
            Timestamp::now(),
        )
    }

    #[test]
    fn githubs_documented_example_verifies() {
        assert_eq!(
            check(DOC_SIGNATURE, DOC_PAYLOAD, &[SourceSecret::new(DOC_SECRET)]),
            Ok(())
        );
    }

    #[test]
    fn one_changed_bit_fails() {
        let secrets = [SourceSecret::new(DOC_SECRET)];
        assert_eq!(
            check(DOC_SIGNATURE, b"Hello, World?", &secrets),
            Err(VerifyError::Mismatch)
        );
        let wrong_secret = [SourceSecret::new("It's a Secret to Everybodz")];
        assert_eq!(
            check(DOC_SIGNATURE, DOC_PAYLOAD, &wrong_secret),
            Err(VerifyError::Mismatch)
        );
        let flipped = DOC_SIGNATURE.replace("e17", "e16");
        assert_eq!(
            check(&flipped, DOC_PAYLOAD, &secrets),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn rotation_accepts_any_active_secret_and_skips_expired_ones() {
        let old = SourceSecret::expiring(DOC_SECRET, Timestamp::from_millis(1));
        assert_eq!(
            check(DOC_SIGNATURE, DOC_PAYLOAD, std::slice::from_ref(&old)),
            Err(VerifyError::NoActiveSecret)
        );
        let both = [
            SourceSecret::new("new secret"),
            SourceSecret::new(DOC_SECRET),
        ];
        assert_eq!(check(DOC_SIGNATURE, DOC_PAYLOAD, &both), Ok(()));
        let expired_and_new = [old, SourceSecret::new("new secret")];
        assert_eq!(
            check(DOC_SIGNATURE, DOC_PAYLOAD, &expired_and_new),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn malformed_and_missing_headers_are_refused() {
        let secrets = [SourceSecret::new(DOC_SECRET)];
        for bad in ["sha1=abc", "sha256=zz", "757107ea", ""] {
            assert_eq!(
                check(bad, DOC_PAYLOAD, &secrets),
                Err(VerifyError::Malformed(SIGNATURE_HEADER))
            );
        }
        let none = GitHub.verify(
            &SignedRequest {
                headers: &HeaderMap::new(),
                body: DOC_PAYLOAD,
            },
            &secrets,
            Timestamp::now(),
        );
        assert_eq!(none, Err(VerifyError::MissingHeader(SIGNATURE_HEADER)));
    }
}
