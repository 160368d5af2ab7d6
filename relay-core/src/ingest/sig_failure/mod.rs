//! A record per refused signature: each ingest 401 leaves a [`SignatureFailure`] (source,
//! [reason](SignatureFailureReason), client address, time, request id, tenant) in the store,
//! at most [`SIG_FAILURES_PER_MINUTE`] (configurable) per source and minute on each node, so a
//! flood of bad requests cannot fill the disk; what the cap drops is counted (see
//! [`Observer::on_signature_failure`](crate::observe::Observer::on_signature_failure)).
//!
//! Neither the secret nor the signature the sender presented is ever part of a record: only
//! the verifier's typed error ([`VerifyError`]) and, for a missing or malformed header, the
//! header's name.

pub(crate) mod cap;
mod hook;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::ingest::signature::VerifyError;
use crate::model::ids::{SigFailureId, TenantId};
use crate::model::time::Timestamp;

/// Records kept per source and minute on each node unless configured otherwise
/// ([`RelayBuilder::signature_failures_per_minute`](crate::RelayBuilder::signature_failures_per_minute)).
pub const SIG_FAILURES_PER_MINUTE: u32 = 10;

/// Why a signature was refused, from the verifier's typed error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureFailureReason {
    /// A header the scheme needs is absent.
    MissingHeader,
    /// A header is present but cannot be parsed.
    Malformed,
    /// No active secret produces the signature given.
    NoSecretMatched,
    /// The signed timestamp is outside the tolerance window.
    StaleTimestamp,
    /// The source has no secret that is still active (all expired).
    NoActiveSecret,
}

impl SignatureFailureReason {
    /// Every reason, in a stable order.
    pub const ALL: [Self; 5] = [
        Self::MissingHeader,
        Self::Malformed,
        Self::NoSecretMatched,
        Self::StaleTimestamp,
        Self::NoActiveSecret,
    ];

    /// The reason's code: `missing_header`, `malformed`, `no_secret_matched`,
    /// `stale_timestamp` or `no_active_secret` (stored, and shown by the admin API).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::Malformed => "malformed",
            Self::NoSecretMatched => "no_secret_matched",
            Self::StaleTimestamp => "stale_timestamp",
            Self::NoActiveSecret => "no_active_secret",
        }
    }

    /// The reason of a code written by [`as_str`](Self::as_str).
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// The reason of a verifier's error, and the header it names (for a missing or
    /// malformed header).
    pub fn of(error: &VerifyError) -> (Self, Option<&'static str>) {
        match error {
            VerifyError::MissingHeader(header) => (Self::MissingHeader, Some(header)),
            VerifyError::Malformed(header) => (Self::Malformed, Some(header)),
            VerifyError::Stale => (Self::StaleTimestamp, None),
            VerifyError::Mismatch => (Self::NoSecretMatched, None),
            VerifyError::NoActiveSecret => (Self::NoActiveSecret, None),
        }
    }
}

impl std::fmt::Display for SignatureFailureReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One refused signature, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFailure {
    /// Its id (time-ordered).
    pub id: SigFailureId,
    /// The tenant of the source.
    pub tenant: TenantId,
    /// The source the request was sent to.
    pub source: String,
    /// Why the signature was refused.
    pub reason: SignatureFailureReason,
    /// The header that was missing or malformed (its name only), if the reason names one.
    pub header: Option<String>,
    /// The client's address (behind a trusted proxy, the one it reports), when the adapter
    /// knew it.
    pub client: Option<IpAddr>,
    /// When the request was refused.
    pub at: Timestamp,
    /// The request's id (`x-request-id`).
    pub request_id: String,
}

/// Which signature failures to list. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureFailureQuery {
    /// Only failures of this source.
    pub source: Option<String>,
    /// Only failures at or after this time.
    pub since: Option<Timestamp>,
    /// Only failures older than this one (the cursor of the previous page).
    pub before: Option<SigFailureId>,
}

impl SignatureFailureQuery {
    /// Whether `failure` matches (the tenant is matched by the store).
    pub fn matches(&self, failure: &SignatureFailure) -> bool {
        self.source.as_ref().is_none_or(|s| s == &failure.source)
            && self.since.is_none_or(|since| failure.at >= since)
            && self.before.is_none_or(|before| failure.id < before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verifier_error_has_a_reason_and_codes_round_trip() {
        let cases = [
            (
                VerifyError::MissingHeader("x-hub-signature-256"),
                "missing_header",
                Some("x-hub-signature-256"),
            ),
            (
                VerifyError::Malformed("stripe-signature"),
                "malformed",
                Some("stripe-signature"),
            ),
            (VerifyError::Stale, "stale_timestamp", None),
            (VerifyError::Mismatch, "no_secret_matched", None),
            (VerifyError::NoActiveSecret, "no_active_secret", None),
        ];
        for (error, code, header) in cases {
            let (reason, named) = SignatureFailureReason::of(&error);
            assert_eq!((reason.as_str(), named), (code, header), "{error:?}");
            assert_eq!(SignatureFailureReason::parse(code), Some(reason));
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{code}\""));
        }
        assert_eq!(SignatureFailureReason::parse("mismatch"), None);
    }
}

#[cfg(test)]
mod ingest_tests;
