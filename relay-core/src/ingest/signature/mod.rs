//! Inbound signature verification, one module per scheme.
//!
//! A [`SignatureScheme`] checks that a request was signed by someone holding one of the source's
//! active secrets, and says where the event type and idempotency key come from by default.

mod generic_hmac;
mod github;
mod hmac_util;
mod none;
mod publish;
mod shopify;
pub mod slack;
mod standard_webhooks;
mod stripe;

#[cfg(test)]
mod proptests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use serde_json::Value;

pub use generic_hmac::{GenericHmac, SignatureEncoding};
pub use github::GitHub;
pub use hmac_util::hmac_sha256;
pub use none::NoSignature;
pub use publish::PublishOnly;
pub use shopify::Shopify;
pub use slack::Slack;
pub use standard_webhooks::{StandardWebhooks, Svix, standard_webhooks_key};
pub use stripe::Stripe;

use crate::ingest::selector::Selector;
use crate::model::secret::SourceSecret;
use crate::model::time::Timestamp;

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
#[non_exhaustive]
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

    /// The challenge to echo when a verified request is the provider checking the endpoint
    /// (Slack's `url_verification`) rather than an event; such a request is answered
    /// `200 {"challenge":…}` and neither stored nor routed. `None` (the default) for events.
    fn handshake(&self, payload: &Value) -> Option<String> {
        let _ = payload;
        None
    }

    /// Whether HTTP requests reach a source of this scheme; `false` for [`PublishOnly`].
    fn accepts_requests(&self) -> bool {
        true
    }

    /// Whether a source of this scheme needs at least one secret to verify anything; `false`
    /// for [`NoSignature`] and [`PublishOnly`]. A relay refuses to build with a source that
    /// needs one and has none (it would answer 401 to every request).
    fn needs_secrets(&self) -> bool {
        true
    }
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

/// The names [`scheme_by_name`] knows, as written in configuration. `generic_hmac` is not
/// among them: it needs parameters, so build a [`GenericHmac`] directly.
pub const SCHEME_NAMES: &[&str] = &[
    "github",
    "stripe",
    "standard_webhooks",
    "svix",
    "shopify",
    "slack",
    "none",
    "publish",
];

/// Whether a source of scheme `name` needs at least one secret (all but `none` and
/// `publish`).
pub fn scheme_needs_secrets(name: &str) -> bool {
    !matches!(name, "none" | "publish")
}

/// The parameterless scheme called `name` in configuration, with its default settings
/// (tolerances of 300 s), or `None` for an unknown name and for `generic_hmac`.
///
/// ```
/// use relay_core::ingest::signature::{scheme_by_name, SCHEME_NAMES};
/// for name in SCHEME_NAMES {
///     assert_eq!(scheme_by_name(name).unwrap().name(), *name);
/// }
/// assert!(scheme_by_name("generic_hmac").is_none());
/// assert!(scheme_by_name("GitHub").is_none());
/// ```
pub fn scheme_by_name(name: &str) -> Option<Arc<dyn SignatureScheme>> {
    let scheme: Arc<dyn SignatureScheme> = match name {
        "github" => Arc::new(GitHub),
        "stripe" => Arc::new(Stripe::new()),
        "standard_webhooks" => Arc::new(StandardWebhooks::new()),
        "svix" => Arc::new(Svix::new()),
        "shopify" => Arc::new(Shopify),
        "slack" => Arc::new(Slack::new()),
        "none" => Arc::new(NoSignature),
        "publish" => Arc::new(PublishOnly),
        _ => return None,
    };
    Some(scheme)
}

/// Parses a Unix timestamp in whole seconds: ASCII digits only (no sign, no spaces inside).
pub(crate) fn parse_unix_secs(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// [`VerifyError::Stale`] when `signed_at` (Unix seconds) is more than `tolerance` away from
/// `now`, in either direction.
pub(crate) fn check_tolerance(
    signed_at: i64,
    now: Timestamp,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    if now.as_secs().abs_diff(signed_at) > tolerance.as_secs() {
        return Err(VerifyError::Stale);
    }
    Ok(())
}

/// The JSONPath selector for a constant path (`None` only if the constant does not compile,
/// which the schemes' tests rule out).
pub(crate) fn json_path(path: &'static str) -> Option<Selector> {
    path.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_scheme_reports_its_own_name() {
        for name in SCHEME_NAMES {
            let scheme = scheme_by_name(name).expect("known name");
            assert_eq!(scheme.name(), *name);
        }
        assert!(scheme_by_name("generic_hmac").is_none());
        assert!(scheme_by_name("").is_none());
        assert!(scheme_by_name("Stripe").is_none());
    }

    #[test]
    fn every_scheme_that_takes_requests_has_default_selectors() {
        for name in SCHEME_NAMES {
            let scheme = scheme_by_name(name).expect("known name");
            if !scheme.accepts_requests() {
                assert_eq!(*name, "publish", "only publish sources take no requests");
                continue;
            }
            assert!(scheme.default_event_type().is_some(), "{name}");
            assert!(scheme.default_idempotency_key().is_some(), "{name}");
        }
    }

    #[test]
    fn timestamps_are_digits_only() {
        assert_eq!(parse_unix_secs("1614265330"), Some(1_614_265_330));
        assert_eq!(parse_unix_secs(" 1614265330 "), Some(1_614_265_330));
        for bad in [
            "",
            "+1",
            "-1",
            "1.5",
            "1e9",
            "12 34",
            "9999999999999999",
            "0x10",
        ] {
            assert_eq!(parse_unix_secs(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tolerance_is_inclusive_and_symmetric() {
        let now = Timestamp::from_millis(1_000_000_000);
        let tol = Duration::from_secs(300);
        assert_eq!(check_tolerance(1_000_000 - 300, now, tol), Ok(()));
        assert_eq!(check_tolerance(1_000_000 + 300, now, tol), Ok(()));
        assert_eq!(
            check_tolerance(1_000_000 - 301, now, tol),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            check_tolerance(1_000_000 + 301, now, tol),
            Err(VerifyError::Stale)
        );
        assert_eq!(check_tolerance(i64::MIN, now, tol), Err(VerifyError::Stale));
        assert_eq!(check_tolerance(i64::MAX, now, tol), Err(VerifyError::Stale));
    }
}
