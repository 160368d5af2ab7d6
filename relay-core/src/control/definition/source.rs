//! [`SourceSpec`]: signature schemes, secrets, limits and selectors.

use std::sync::Arc;
use std::time::Duration;

use crate::ingest::limit::RateLimit;
use crate::ingest::signature::{
    GenericHmac, SCHEME_NAMES, SignatureEncoding, SignatureScheme, scheme_by_name,
    scheme_needs_secrets,
};
use crate::ingest::source::WebhookSource;
use crate::model::secret::SourceSecret;
use crate::model::time::Timestamp;

use serde::{Deserialize, Serialize};

use super::{Problem, Resolve};

/// A secret: a string (in the configuration file, `env:NAME` reads the environment) or one
/// with an expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum SecretSpec {
    /// A value without expiry.
    Plain(String),
    /// A value that stops verifying at `expires_at` (RFC 3339).
    Expiring(ExpiringSecret),
}

impl SecretSpec {
    /// The value as written.
    pub fn value(&self) -> &str {
        match self {
            Self::Plain(value) => value,
            Self::Expiring(e) => &e.value,
        }
    }
}

/// `{ value = "…", expires_at = "2026-12-01T00:00:00Z" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExpiringSecret {
    /// The secret.
    pub value: String,
    /// RFC 3339 instant after which it no longer verifies.
    pub expires_at: String,
}

/// `rate_limit = { per_minute = N }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Admissions in any 60-second window.
    pub per_minute: u32,
}

/// A source: `POST /webhooks/{name}`, verified by `scheme` with any of its unexpired secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// `POST /webhooks/{name}`.
    pub name: String,
    /// The signature scheme: `github`, `stripe`, `shopify`, `slack`, `standard_webhooks`,
    /// `generic_hmac` or `none`.
    pub scheme: String,
    /// Verification secrets (all unexpired ones verify).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretSpec>,
    /// Body limit in bytes (default 1 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<usize>,
    /// Ingest rate limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitSpec>,
    /// Dedup window in seconds (default 86400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_window_secs: Option<u64>,
    /// `header:NAME` or `$.json.path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// `header:NAME` or `$.json.path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// generic_hmac: the signature header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_header: Option<String>,
    /// generic_hmac: `hex` or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// generic_hmac: a prefix before the signature (e.g. `sha256=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// generic_hmac: the timestamp header (then `timestamp.body` is signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    /// generic_hmac: timestamp tolerance in seconds (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_secs: Option<u64>,
    /// Payloads of an event type with a schema must match it (else 422 `invalid_payload`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub validate_payload: bool,
}

impl SourceSpec {
    /// The source this describes; `None` (with the problems recorded under `key`) when it is
    /// unusable. Secrets go through `resolve`.
    pub fn build(
        &self,
        key: &str,
        resolve: &Resolve<'_>,
        problems: &mut Vec<Problem>,
    ) -> Option<WebhookSource> {
        build(key, self, resolve, problems)
    }
}

fn build(
    key: &str,
    spec: &SourceSpec,
    resolve: &Resolve<'_>,
    problems: &mut Vec<Problem>,
) -> Option<WebhookSource> {
    let before = problems.len();
    let scheme = scheme(key, spec, problems);
    let mut source = scheme.map(|scheme| WebhookSource::with_scheme(spec.name.clone(), scheme));
    if spec.scheme == "publish" {
        let inbound_only = [
            ("secrets", !spec.secrets.is_empty()),
            ("max_body_bytes", spec.max_body_bytes.is_some()),
            ("rate_limit", spec.rate_limit.is_some()),
            ("event_type", spec.event_type.is_some()),
            ("idempotency_key", spec.idempotency_key.is_some()),
        ];
        for (field, _) in inbound_only.iter().filter(|(_, set)| *set) {
            problems.push(Problem::new(
                format!("{key}.{field}"),
                "does not apply to scheme \"publish\" (no request reaches it)",
            ));
        }
    }
    if spec.secrets.is_empty() && scheme_needs_secrets(&spec.scheme) {
        problems.push(Problem::new(
            format!("{key}.secrets"),
            format!("scheme {:?} needs at least one secret", spec.scheme),
        ));
    }
    for (j, secret) in spec.secrets.iter().enumerate() {
        let secret_key = format!("{key}.secrets[{j}]");
        let parsed = match secret {
            SecretSpec::Plain(value) => {
                resolve(&secret_key, value, problems).map(SourceSecret::new)
            }
            SecretSpec::Expiring(expiring) => {
                let value = resolve(&format!("{secret_key}.value"), &expiring.value, problems);
                let expiry = match humantime::parse_rfc3339_weak(&expiring.expires_at) {
                    Ok(at) => Some(Timestamp::from_system_time(at)),
                    Err(e) => {
                        problems.push(Problem::new(
                            format!("{secret_key}.expires_at"),
                            format!("not an RFC 3339 time: {e}"),
                        ));
                        None
                    }
                };
                value
                    .zip(expiry)
                    .map(|(value, at)| SourceSecret::expiring(value, at))
            }
        };
        if let (Some(s), Some(secret)) = (source.take(), parsed) {
            source = Some(s.source_secret(secret));
        }
    }
    let mut source = source?;
    if let Some(bytes) = spec.max_body_bytes {
        source = source.max_body_bytes(bytes);
    }
    if let Some(limit) = spec.rate_limit {
        source = source.rate_limit(RateLimit {
            per_minute: limit.per_minute,
        });
    }
    if let Some(secs) = spec.dedup_window_secs {
        source = source.dedup_window(Duration::from_secs(secs));
    }
    source = source.validate_payload(spec.validate_payload);
    for (field, value) in [
        ("event_type", &spec.event_type),
        ("idempotency_key", &spec.idempotency_key),
    ] {
        let Some(text) = value else { continue };
        match text.parse() {
            Ok(selector) if field == "event_type" => source = source.event_type(selector),
            Ok(selector) => source = source.idempotency_key(selector),
            Err(e) => problems.push(Problem::new(format!("{key}.{field}"), e.to_string())),
        }
    }
    (problems.len() == before).then_some(source)
}

fn scheme(
    key: &str,
    spec: &SourceSpec,
    problems: &mut Vec<Problem>,
) -> Option<Arc<dyn SignatureScheme>> {
    let hmac_only = [
        ("signature_header", spec.signature_header.is_some()),
        ("encoding", spec.encoding.is_some()),
        ("prefix", spec.prefix.is_some()),
        ("timestamp_header", spec.timestamp_header.is_some()),
        ("tolerance_secs", spec.tolerance_secs.is_some()),
    ];
    if spec.scheme != "generic_hmac" {
        for (field, _) in hmac_only.iter().filter(|(_, set)| *set) {
            problems.push(Problem::new(
                format!("{key}.{field}"),
                "only applies to scheme \"generic_hmac\"",
            ));
        }
    }
    if spec.scheme == "generic_hmac" {
        return generic_hmac(key, spec, problems).map(|s| Arc::new(s) as Arc<dyn SignatureScheme>);
    }
    match scheme_by_name(&spec.scheme) {
        Some(scheme) => Some(scheme),
        None => {
            let other = &spec.scheme;
            problems.push(Problem::new(
                format!("{key}.scheme"),
                format!(
                    "unknown scheme {other:?} (expected one of {})",
                    SCHEME_NAMES.join(", ") + ", generic_hmac"
                ),
            ));
            None
        }
    }
}

fn generic_hmac(key: &str, spec: &SourceSpec, problems: &mut Vec<Problem>) -> Option<GenericHmac> {
    let header = |field: &str, value: &str, problems: &mut Vec<Problem>| {
        value
            .to_ascii_lowercase()
            .parse::<http::HeaderName>()
            .map_err(|_| {
                problems.push(Problem::new(
                    format!("{key}.{field}"),
                    format!("{value:?} is not a valid header name"),
                ));
            })
    };
    let Some(name) = &spec.signature_header else {
        problems.push(Problem::new(
            format!("{key}.signature_header"),
            "required for scheme \"generic_hmac\"",
        ));
        return None;
    };
    let mut scheme = GenericHmac::new(header("signature_header", name, problems).ok()?);
    match spec.encoding.as_deref() {
        None | Some("hex") => {}
        Some("base64") => scheme = scheme.encoding(SignatureEncoding::Base64),
        Some(other) => {
            problems.push(Problem::new(
                format!("{key}.encoding"),
                format!("{other:?} is neither \"hex\" nor \"base64\""),
            ));
            return None;
        }
    }
    if let Some(prefix) = &spec.prefix {
        scheme = scheme.prefix(prefix.clone());
    }
    if let Some(name) = &spec.timestamp_header {
        scheme = scheme.timestamp_header(header("timestamp_header", name, problems).ok()?);
    }
    if let Some(secs) = spec.tolerance_secs {
        scheme = scheme.tolerance(Duration::from_secs(secs));
    }
    Some(scheme)
}
