//! From a parsed file to the sources, destinations and routes a relay is built from.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use relay_core::catalog::IDENTITY;
use relay_core::destination::Destination;
use relay_core::limit::RateLimit;
use relay_core::policy::RetryPolicy;
use relay_core::route::EventRoute;
use relay_core::secret::SourceSecret;
use relay_core::signature::{GenericHmac, GitHub, NoSignature, SignatureEncoding, SignatureScheme};
use relay_core::source::WebhookSource;
use relay_core::time::Timestamp;

use super::Problem;
use super::model::{Config, DestinationSpec, RouteSpec, SecretSpec, SourceSpec};

/// The schemes this build knows.
pub const SCHEMES: &[&str] = &["github", "generic_hmac", "none"];

/// A validated configuration, ready to build a relay from.
#[derive(Debug)]
pub struct Assembled {
    /// The sources.
    pub sources: Vec<WebhookSource>,
    /// The destinations.
    pub destinations: Vec<Destination>,
    /// The routes.
    pub routes: Vec<EventRoute>,
}

impl Assembled {
    /// A relay builder with everything added.
    pub fn into_builder(self) -> relay_core::RelayBuilder {
        let mut builder = relay_core::Relay::builder();
        for source in self.sources {
            builder = builder.source(source);
        }
        for destination in self.destinations {
            builder = builder.destination(destination);
        }
        for route in self.routes {
            builder = builder.route(route);
        }
        builder
    }
}

/// Validates everything and resolves `env:` values with `env`; every problem is reported,
/// not just the first.
pub fn assemble(
    config: &Config,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Assembled, Vec<Problem>> {
    let mut problems = Vec::new();
    let resolve = |key: &str, value: &str, problems: &mut Vec<Problem>| -> Option<String> {
        match value.strip_prefix("env:") {
            None => Some(value.to_owned()),
            Some(name) => env(name).or_else(|| {
                problems.push(Problem::new(
                    key,
                    format!("environment variable {name} is not set"),
                ));
                None
            }),
        }
    };
    unique(
        &mut problems,
        "sources",
        config.sources.iter().map(|s| s.name.as_str()),
    );
    unique(
        &mut problems,
        "destinations",
        config.destinations.iter().map(|d| d.name.as_str()),
    );
    unique(
        &mut problems,
        "routes",
        config.routes.iter().map(|r| r.name.as_str()),
    );

    let sources = config
        .sources
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| source(&format!("sources[{i}]"), spec, &resolve, &mut problems))
        .collect();
    let destinations = config
        .destinations
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| {
            destination(&format!("destinations[{i}]"), spec, &resolve, &mut problems)
        })
        .collect();
    let routes = config
        .routes
        .iter()
        .enumerate()
        .map(|(i, spec)| route(&format!("routes[{i}]"), spec, config, &mut problems))
        .collect();
    if problems.is_empty() {
        Ok(Assembled {
            sources,
            destinations,
            routes,
        })
    } else {
        Err(problems)
    }
}

fn unique<'a>(problems: &mut Vec<Problem>, section: &str, names: impl Iterator<Item = &'a str>) {
    let mut seen = HashSet::new();
    for (i, name) in names.enumerate() {
        if name.is_empty() || name.contains('/') {
            problems.push(Problem::new(
                format!("{section}[{i}].name"),
                "must be non-empty and contain no `/`",
            ));
        } else if !seen.insert(name) {
            problems.push(Problem::new(
                format!("{section}[{i}].name"),
                format!("{name:?} is defined twice"),
            ));
        }
    }
}

type Resolve<'a> = dyn Fn(&str, &str, &mut Vec<Problem>) -> Option<String> + 'a;

fn source(
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
    match spec.scheme.as_str() {
        "github" => Some(Arc::new(GitHub)),
        "none" => Some(Arc::new(NoSignature)),
        "generic_hmac" => {
            generic_hmac(key, spec, problems).map(|s| Arc::new(s) as Arc<dyn SignatureScheme>)
        }
        other => {
            problems.push(Problem::new(
                format!("{key}.scheme"),
                format!(
                    "unknown scheme {other:?} (expected one of {})",
                    SCHEMES.join(", ")
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
            .parse::<axum::http::HeaderName>()
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

fn destination(
    key: &str,
    spec: &DestinationSpec,
    resolve: &Resolve<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Destination> {
    let before = problems.len();
    let mut destination = match Destination::http(spec.name.clone(), &spec.url) {
        Ok(d) => Some(d),
        Err(e) => {
            problems.push(Problem::new(format!("{key}.url"), e.to_string()));
            None
        }
    };
    if let Some(secret) = &spec.signing_secret
        && let Some(value) = resolve(&format!("{key}.signing_secret"), secret, problems)
    {
        destination = destination.map(|d| d.signing_secret(value));
    }
    if let Some(auth) = &spec.auth_header
        && let Some(value) = resolve(&format!("{key}.auth_header"), auth, problems)
    {
        destination = destination.map(|d| d.auth_header(value));
    }
    if let Some(ms) = spec.timeout_ms {
        if ms == 0 {
            problems.push(Problem::new(
                format!("{key}.timeout_ms"),
                "must be greater than 0",
            ));
        }
        destination = destination.map(|d| d.timeout(Duration::from_millis(ms)));
    }
    if let Some(retry) = spec.retry {
        let default = RetryPolicy::default();
        let max_attempts = retry.max_attempts.unwrap_or(default.max_attempts);
        let initial = retry
            .initial_ms
            .map_or(default.backoff.initial, Duration::from_millis);
        let max = retry
            .max_ms
            .map_or(default.backoff.max, Duration::from_millis);
        if max_attempts == 0 {
            problems.push(Problem::new(
                format!("{key}.retry.max_attempts"),
                "must be at least 1 (it counts the first attempt)",
            ));
        }
        if initial > max {
            problems.push(Problem::new(
                format!("{key}.retry"),
                "initial_ms must not exceed max_ms",
            ));
        }
        destination = destination.map(|d| d.policy(RetryPolicy::new(max_attempts, initial, max)));
    }
    destination.filter(|_| problems.len() == before)
}

fn route(key: &str, spec: &RouteSpec, config: &Config, problems: &mut Vec<Problem>) -> EventRoute {
    if let Some(source) = &spec.source
        && !config.sources.iter().any(|s| &s.name == source)
    {
        problems.push(Problem::new(
            format!("{key}.source"),
            format!("no source named {source:?}"),
        ));
    }
    if spec.destinations.is_empty() {
        problems.push(Problem::new(
            format!("{key}.destinations"),
            "names no destination",
        ));
    }
    for (j, name) in spec.destinations.iter().enumerate() {
        if !config.destinations.iter().any(|d| &d.name == name) {
            problems.push(Problem::new(
                format!("{key}.destinations[{j}]"),
                format!("no destination named {name:?}"),
            ));
        }
    }
    if let Some(name) = &spec.transformer
        && name != IDENTITY
    {
        problems.push(Problem::new(
            format!("{key}.transformer"),
            format!("no transformer named {name:?} (available: {IDENTITY})"),
        ));
    }
    let mut route = EventRoute::new(spec.name.clone())
        .event_types(spec.event_types.iter().cloned())
        .to(spec.destinations.iter().cloned())
        .priority(spec.priority)
        .active(spec.active);
    if let Some(source) = &spec.source {
        route = route.source(source.clone());
    }
    if let Some(transformer) = &spec.transformer {
        route = route.transformer(transformer.clone());
    }
    route
}
