//! `[[sources]]`: signature schemes, secrets, limits and selectors.

use std::sync::Arc;
use std::time::Duration;

use relay_core::limit::RateLimit;
use relay_core::secret::SourceSecret;
use relay_core::signature::{
    GenericHmac, SCHEME_NAMES, SignatureEncoding, SignatureScheme, scheme_by_name,
};
use relay_core::source::WebhookSource;
use relay_core::time::Timestamp;

use super::Problem;
use super::model::{SecretSpec, SourceSpec};

/// Resolves a value that may read `env:NAME`, recording a problem when it cannot.
pub(super) type Resolve<'a> = dyn Fn(&str, &str, &mut Vec<Problem>) -> Option<String> + 'a;

pub(super) fn source(
    key: &str,
    spec: &SourceSpec,
    resolve: &Resolve<'_>,
    problems: &mut Vec<Problem>,
) -> Option<WebhookSource> {
    let before = problems.len();
    let scheme = scheme(key, spec, problems);
    let mut source = scheme.map(|scheme| WebhookSource::with_scheme(spec.name.clone(), scheme));
    if spec.secrets.is_empty() && spec.scheme != "none" {
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
