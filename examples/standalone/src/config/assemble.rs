//! From a parsed file to the sources, destinations and routes a relay is built from.

use std::collections::HashSet;
use std::time::Duration;

use relay_core::circuit::CircuitBreaker;
use relay_core::destination::{Destination, Target};
use relay_core::guard::{AddressGuard, IpNet, parse_cidr};
use relay_core::policy::RetryPolicy;
use relay_core::route::EventRoute;
use relay_core::source::WebhookSource;
use relay_core::transform::{FormToEmail, Template, builtin_transformers};

use super::Problem;
use super::model::{Config, DestinationSpec, RouteSpec, TransformerSpec};
use super::source::{Resolve, source};

/// A transformer built from `[[transformers]]`.
#[derive(Debug)]
pub enum ConfiguredTransformer {
    /// `kind = "template"`.
    Template(Template),
    /// `kind = "form_to_email"`.
    FormToEmail(FormToEmail),
}

/// A validated configuration, ready to build a relay from.
#[derive(Debug)]
pub struct Assembled {
    /// The sources.
    pub sources: Vec<WebhookSource>,
    /// The destinations.
    pub destinations: Vec<Destination>,
    /// The routes.
    pub routes: Vec<EventRoute>,
    /// The configured transformers, by name.
    pub transformers: Vec<(String, ConfiguredTransformer)>,
    /// `delivery.allow_cidrs`.
    pub allow_cidrs: Vec<IpNet>,
}

impl Assembled {
    /// A relay builder with everything added.
    pub fn into_builder(self) -> relay_core::RelayBuilder {
        let mut builder = relay_core::Relay::builder().allow_cidrs(self.allow_cidrs);
        for source in self.sources {
            builder = builder.source(source);
        }
        for destination in self.destinations {
            builder = builder.destination(destination);
        }
        for route in self.routes {
            builder = builder.route(route);
        }
        for (name, transformer) in self.transformers {
            builder = match transformer {
                ConfiguredTransformer::Template(t) => builder.transformer(name, t),
                ConfiguredTransformer::FormToEmail(t) => builder.transformer(name, t),
            };
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

    let allow_cidrs: Vec<IpNet> = config
        .delivery
        .allow_cidrs
        .iter()
        .enumerate()
        .filter_map(|(i, value)| match parse_cidr(value) {
            Ok(net) => Some(net),
            Err(e) => {
                problems.push(Problem::new(
                    format!("delivery.allow_cidrs[{i}]"),
                    e.to_string(),
                ));
                None
            }
        })
        .collect();
    let guard = AddressGuard::new().allow_all(allow_cidrs.iter().copied());
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
            destination(
                &format!("destinations[{i}]"),
                spec,
                &guard,
                &resolve,
                &mut problems,
            )
        })
        .collect();
    unique(
        &mut problems,
        "transformers",
        config.transformers.iter().map(TransformerSpec::name),
    );
    let transformers = config
        .transformers
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| transformer(&format!("transformers[{i}]"), spec, &mut problems))
        .collect();
    let routes = config
        .routes
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| route(&format!("routes[{i}]"), spec, config, &mut problems))
        .collect();
    if problems.is_empty() {
        Ok(Assembled {
            sources,
            destinations,
            routes,
            transformers,
            allow_cidrs,
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

fn destination(
    key: &str,
    spec: &DestinationSpec,
    guard: &AddressGuard,
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
    if let Some(Target::Http { url, .. }) = destination.as_ref().map(Destination::target)
        && let Err(blocked) = guard.check_url(url)
    {
        problems.push(Problem::new(format!("{key}.url"), blocked.to_string()));
    }
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
    if let Some(ms) = spec.connect_timeout_ms {
        if ms == 0 {
            problems.push(Problem::new(
                format!("{key}.connect_timeout_ms"),
                "must be greater than 0",
            ));
        }
        destination = destination.map(|d| d.connect_timeout(Duration::from_millis(ms)));
    }
    if let Some(limit) = spec.max_in_flight {
        if limit == 0 {
            problems.push(Problem::new(
                format!("{key}.max_in_flight"),
                "must be at least 1",
            ));
        }
        destination = destination.map(|d| d.max_in_flight(limit));
    }
    if let Some(breaker) = spec.circuit_breaker {
        destination = destination.map(|d| {
            if breaker.enabled {
                d.circuit_breaker(circuit_breaker(key, breaker, problems))
            } else {
                d.without_circuit_breaker()
            }
        });
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

fn circuit_breaker(
    key: &str,
    spec: super::model::CircuitBreakerSpec,
    problems: &mut Vec<Problem>,
) -> CircuitBreaker {
    let default = CircuitBreaker::default();
    let breaker = CircuitBreaker {
        failure_threshold: spec.failures.unwrap_or(default.failure_threshold),
        window: spec.window_ms.map_or(default.window, Duration::from_millis),
        open_for: spec.open_ms.map_or(default.open_for, Duration::from_millis),
    };
    for (field, zero) in [
        ("failures", breaker.failure_threshold == 0),
        ("window_ms", breaker.window.is_zero()),
        ("open_ms", breaker.open_for.is_zero()),
    ] {
        if zero {
            problems.push(Problem::new(
                format!("{key}.circuit_breaker.{field}"),
                "must be greater than 0",
            ));
        }
    }
    breaker
}

fn route(
    key: &str,
    spec: &RouteSpec,
    config: &Config,
    problems: &mut Vec<Problem>,
) -> Option<EventRoute> {
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
        && !transformer_names(config).any(|known| &known == name)
    {
        problems.push(Problem::new(
            format!("{key}.transformer"),
            format!(
                "no transformer named {name:?} (available: {})",
                transformer_names(config).collect::<Vec<_>>().join(", ")
            ),
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
    if let Some(limit) = spec.rate_limit {
        route = route.rate_limit(limit.per_minute);
    }
    match route.conditions(spec.conditions.iter().cloned()) {
        Ok(route) => Some(route),
        Err(e) => {
            problems.push(Problem::new(
                format!("{key}.conditions[{}]", e.index),
                format!("{:?}: {}", e.path, e.reason),
            ));
            None
        }
    }
}

/// The built-in transformers' names, then the configured ones'.
fn transformer_names(config: &Config) -> impl Iterator<Item = String> + '_ {
    builtin_transformers()
        .into_iter()
        .map(|(name, _)| name)
        .chain(config.transformers.iter().map(|t| t.name().to_owned()))
}

fn transformer(
    key: &str,
    spec: &TransformerSpec,
    problems: &mut Vec<Problem>,
) -> Option<(String, ConfiguredTransformer)> {
    if builtin_transformers()
        .iter()
        .any(|(builtin, _)| builtin == spec.name())
    {
        problems.push(Problem::new(
            format!("{key}.name"),
            format!("{:?} is a built-in transformer", spec.name()),
        ));
        return None;
    }
    let built = match spec {
        TransformerSpec::Template { body, headers, .. } => {
            let template = relay_core::transform::TemplateSpec {
                body: body.clone(),
                headers: headers.clone(),
            };
            match Template::from_spec(&template) {
                Ok(t) => ConfiguredTransformer::Template(t),
                Err(e) => {
                    problems.push(Problem::new(key, e.to_string()));
                    return None;
                }
            }
        }
        TransformerSpec::FormToEmail {
            to, from, subject, ..
        } => ConfiguredTransformer::FormToEmail(FormToEmail::new(to, from, subject)),
    };
    Some((spec.name().to_owned(), built))
}
