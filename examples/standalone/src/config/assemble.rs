//! From a parsed file to the sources, destinations and routes a relay is built from.

use std::collections::HashSet;
use std::sync::Arc;

use relay_core::catalog::{Catalog, CatalogError};
use relay_core::ingest::source::Source;
use relay_core::route::Route;
use relay_core::transform::Transformer;

use relay_core::control::alert::AlertConfig;
use relay_core::deliver::destination::{Destination, HttpDestinationSpec};
use relay_core::deliver::guard::{AddressGuard, IpNet, parse_cidr};
use relay_core::ingest::source::WebhookSource;
use relay_core::model::secret::Secret;
use relay_core::publish::EventType;
use relay_core::route::EventRoute;
use relay_core::transform::{FormToEmail, Template, builtin_transformers};

use relay_core::control::definition;

use super::Problem;
use super::model::{AlertsSpec, Config, TransformerSpec};

/// What SSRF refusals say to allow an address with: this binary's configuration key.
const ALLOW_HINT: &str = "delivery.allow_cidrs";

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
    /// The same destinations as data, to be saved in the store (credentials sealed).
    pub destination_specs: Vec<HttpDestinationSpec>,
    /// The routes.
    pub routes: Vec<EventRoute>,
    /// The configured transformers, by name.
    pub transformers: Vec<(String, ConfiguredTransformer)>,
    /// `[[event_types]]`, their schemas compiled.
    pub event_types: Vec<EventType>,
    /// `delivery.allow_cidrs`.
    pub allow_cidrs: Vec<IpNet>,
    /// `admin.metrics_token`, resolved.
    pub metrics_token: Option<Secret>,
    /// `[alerts]`.
    pub alerts: Option<AlertConfig>,
}

impl Assembled {
    /// The sources, destinations, routes and configured transformers as a catalog (for a
    /// reload: the rest of the file takes effect at start only).
    pub fn catalog(self) -> Result<Catalog, CatalogError> {
        let sources = (self.sources.into_iter())
            .map(|s| Arc::new(s) as Arc<dyn Source>)
            .collect();
        let routes = (self.routes.into_iter())
            .map(|r| Arc::new(r) as Arc<dyn Route>)
            .collect();
        let transformers = (self.transformers.into_iter())
            .map(|(name, t)| {
                let t: Arc<dyn Transformer> = match t {
                    ConfiguredTransformer::Template(t) => Arc::new(t),
                    ConfiguredTransformer::FormToEmail(t) => Arc::new(t),
                };
                (name, t)
            })
            .collect();
        Catalog::new(sources, self.destinations, routes, transformers)?
            .with_event_types(self.event_types)
    }

    /// A relay builder with everything added.
    pub fn into_builder(self) -> relay_core::RelayBuilder {
        let mut builder = relay_core::Relay::builder()
            .allow_cidrs(self.allow_cidrs)
            .guard_hint(ALLOW_HINT);
        if let Some(alerts) = self.alerts {
            builder = builder.alerts(alerts);
        }
        for source in self.sources {
            builder = builder.source(source);
        }
        for destination in self.destinations {
            builder = builder.destination(destination);
        }
        for route in self.routes {
            builder = builder.route(route);
        }
        for event_type in self.event_types {
            builder = builder.event_type(event_type);
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
    problems.extend(config.server.retention_problems());
    problems.extend(config.server.node_id_problems());
    problems.extend(config.server.public_url_problems());
    problems.extend(config.server.ingest_guard_problems());
    if config.server.request_timeout_ms == 0 {
        problems.push(Problem::new(
            "server.request_timeout_ms",
            "must be at least 1".to_owned(),
        ));
    }
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
    let guard = (AddressGuard::new().hint(ALLOW_HINT)).allow_all(allow_cidrs.iter().copied());
    let sources = config
        .sources
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| spec.build(&format!("sources[{i}]"), &resolve, &mut problems))
        .collect();
    let destination_specs: Vec<(HttpDestinationSpec, Destination)> = config
        .destinations
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| {
            spec.build(
                &format!("destinations[{i}]"),
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
        .filter_map(|(i, spec)| spec.build(&format!("routes[{i}]"), config, &mut problems))
        .collect();
    let metrics_token = config.admin.metrics_token.as_deref().and_then(|value| {
        let key = "admin.metrics_token";
        let token = resolve(key, value, &mut problems)?;
        if token.is_empty() {
            problems.push(Problem::new(
                key,
                "empty: leave it out for a public /metrics",
            ));
            return None;
        }
        Some(Secret::new(token))
    });
    let event_types = super::event_types::event_types(config, &mut problems);
    let alerts = config
        .alerts
        .as_ref()
        .and_then(|spec| alerts(spec, config, &mut problems));
    if problems.is_empty() {
        Ok(Assembled {
            event_types,
            metrics_token,
            sources,
            routes,
            transformers,
            allow_cidrs,
            alerts,
            destinations: destination_specs.iter().map(|(_, d)| d.clone()).collect(),
            // Agent destinations have no URL to save as an HTTP destination.
            destination_specs: (destination_specs.into_iter())
                .filter(|(_, d)| {
                    matches!(
                        d.target(),
                        relay_core::deliver::destination::Target::Http { .. }
                    )
                })
                .map(|(s, _)| s)
                .collect(),
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

impl definition::Names for Config {
    fn has_source(&self, name: &str) -> bool {
        self.sources.iter().any(|s| s.name == name)
    }

    fn has_destination(&self, name: &str) -> bool {
        self.destinations.iter().any(|d| d.name == name)
    }

    fn transformers(&self) -> Vec<String> {
        transformer_names(self).collect()
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

fn alerts(spec: &AlertsSpec, config: &Config, problems: &mut Vec<Problem>) -> Option<AlertConfig> {
    let before = problems.len();
    if !config
        .destinations
        .iter()
        .any(|d| d.name == spec.destination)
    {
        problems.push(Problem::new(
            "alerts.destination",
            format!("no destination named {:?}", spec.destination),
        ));
    }
    let mut duration = |field: &str, value: &Option<String>| {
        let text = value.as_deref()?;
        match humantime::parse_duration(text.trim()) {
            Ok(d) if !d.is_zero() => Some(d),
            Ok(_) => {
                problems.push(Problem::new(
                    format!("alerts.{field}"),
                    "must be greater than 0",
                ));
                None
            }
            Err(e) => {
                problems.push(Problem::new(
                    format!("alerts.{field}"),
                    format!("{text:?} is not a duration ({e}); e.g. \"30s\", \"5m\", \"1h\""),
                ));
                None
            }
        }
    };
    let window = duration("window", &spec.window);
    let queue_lag = duration("queue_lag", &spec.queue_lag);
    let agent_offline = duration("agent_offline", &spec.agent_offline);
    for (field, value) in [
        ("dead_letters", spec.dead_letters),
        ("signature_failures", spec.signature_failures),
        ("breaker_opens", spec.breaker_opens),
    ] {
        if value == Some(0) {
            problems.push(Problem::new(
                format!("alerts.{field}"),
                "must be at least 1",
            ));
        }
    }
    if problems.len() != before {
        return None;
    }
    let mut alerts = AlertConfig::new(spec.destination.clone());
    if let Some(window) = window {
        alerts = alerts.window(window);
    }
    if let Some(lag) = queue_lag {
        alerts = alerts.queue_lag(lag);
    }
    if let Some(after) = agent_offline {
        alerts = alerts.agent_offline(after);
    }
    if let Some(count) = spec.dead_letters {
        alerts = alerts.dead_letters(count);
    }
    if let Some(count) = spec.signature_failures {
        alerts = alerts.signature_failures(count);
    }
    if let Some(count) = spec.breaker_opens {
        alerts = alerts.breaker_opens(count);
    }
    Some(alerts)
}
