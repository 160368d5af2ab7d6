//! Inbound signature verification, one module per scheme.
//!
//! A [`SignatureScheme`] checks that a request was signed by someone holding one of the source's
//! active secrets, and says where the event type and idempotency key come from by default.

mod generic_hmac;
mod github;
mod hmac_util;
mod none;

use std::fmt;

use http::HeaderMap;

pub use generic_hmac::{GenericHmac, SignatureEncoding};
pub use github::GitHub;
pub use hmac_util::hmac_sha256;
pub use none::NoSignature;

use crate::secret::SourceSecret;
use crate::selector::Selector;
use crate::time::Timestamp;

/// The part of an inbound request that signatures cover.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The raw body bytes, exactly as received.
    pub body: &'a [u8],
}

/// Why a request failed verification. Every variant answers 401 `invalid_signature`; the kind
/// is kept for the audit trail and metrics, never shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A header the scheme needs is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header is present but cannot be parsed.
    #[error("malformed header {0}")]
    Malformed(&'static str),
    /// The signed timestamp is outside the tolerance window.
    #[error("timestamp outside the tolerance window")]
    Stale,
    /// No active secret produces the given signature.
    #[error("signature does not match")]
    Mismatch,
    /// The source has no secret that is still active.
    #[error("no active secret")]
    NoActiveSecret,
}

impl VerifyError {
    /// A short, stable name for the failure kind (`missing_header`, `malformed`, `stale`,
    /// `mismatch`, `no_active_secret`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingHeader(_) => "missing_header",
            Self::Malformed(_) => "malformed",
            Self::Stale => "stale",
            Self::Mismatch => "mismatch",
            Self::NoActiveSecret => "no_active_secret",
        }
    }
}

/// A way of signing inbound webhooks (GitHub's, Stripe's, a generic HMAC header, …).
pub trait SignatureScheme: Send + Sync + fmt::Debug {
    /// The scheme's name as written in configuration (`github`, `generic_hmac`, …).
    fn name(&self) -> &'static str;

    /// Checks the request against the secrets that are active at `now`.
    fn verify(
        &self,
        request: &SignedRequest<'_>,
        secrets: &[SourceSecret],
        now: Timestamp,
    ) -> Result<(), VerifyError>;

    /// Where the event type comes from unless the source overrides it.
    fn default_event_type(&self) -> Option<Selector>;

    /// Where the idempotency key comes from unless the source overrides it. Without one, the
    /// key is the SHA-256 of the body.
    fn default_idempotency_key(&self) -> Option<Selector>;
}

/// The secrets active at `now`, or [`VerifyError::NoActiveSecret`].
pub(crate) fn active_secrets(
    secrets: &[SourceSecret],
    now: Timestamp,
) -> Result<impl Iterator<Item = &SourceSecret>, VerifyError> {
    if !secrets.iter().any(|s| s.is_active(now)) {
        return Err(VerifyError::NoActiveSecret);
    }
    Ok(secrets.iter().filter(move |s| s.is_active(now)))
}

/// The header's value as text, or the matching error.
pub(crate) fn header_str<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<&'a str, VerifyError> {
    headers
        .get(name)
        .ok_or(VerifyError::MissingHeader(name))?
        .to_str()
        .map_err(|_| VerifyError::Malformed(name))
}
