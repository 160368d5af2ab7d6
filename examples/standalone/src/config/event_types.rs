//! `[[event_types]]`: names, descriptions and JSON Schemas (inline or from a file next to
//! the configuration), each compiled once.

use std::collections::HashSet;

use relay_core::publish::{EventType, MAX_EVENT_TYPE_LEN};
use serde_json::Value;

use super::Problem;
use super::model::{Config, EventTypeSpec};

/// The event types of `config`; every problem is recorded, not just the first.
pub(super) fn event_types(config: &Config, problems: &mut Vec<Problem>) -> Vec<EventType> {
    let mut seen = HashSet::new();
    let mut types = Vec::new();
    for (i, spec) in config.event_types.iter().enumerate() {
        let key = format!("event_types[{i}]");
        if spec.name.is_empty() || spec.name.len() > MAX_EVENT_TYPE_LEN {
            let message = format!("must be 1 to {MAX_EVENT_TYPE_LEN} characters");
            problems.push(Problem::new(format!("{key}.name"), message));
            continue;
        }
        if !seen.insert(spec.name.as_str()) {
            let message = format!("{:?} is defined twice", spec.name);
            problems.push(Problem::new(format!("{key}.name"), message));
            continue;
        }
        let mut event_type = EventType::new(&spec.name);
        if let Some(text) = &spec.description {
            event_type = event_type.description(text);
        }
        match schema(config, &key, spec, problems) {
            Some(schema) => match event_type.schema(schema) {
                Ok(with_schema) => types.push(with_schema),
                Err(error) => {
                    let message = format!("not a valid JSON Schema: {}", error.reason);
                    problems.push(Problem::new(format!("{key}.schema"), message));
                }
            },
            None => types.push(event_type),
        }
    }
    types
}

/// The schema given inline or in `schema_file`, if any.
fn schema(
    config: &Config,
    key: &str,
    spec: &EventTypeSpec,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    match (&spec.schema, &spec.schema_file) {
        (Some(_), Some(_)) => {
            let message = "give `schema` or `schema_file`, not both";
            problems.push(Problem::new(format!("{key}.schema_file"), message));
            None
        }
        (Some(inline), None) => Some(inline.clone()),
        (None, Some(file)) => {
            let path = config.dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                let message = format!("cannot read {}: {e}", path.display());
                problems.push(Problem::new(format!("{key}.schema_file"), message));
            });
            let parsed = text.ok().map(|text| serde_json::from_str(&text));
            match parsed {
                Some(Ok(value)) => Some(value),
                Some(Err(e)) => {
                    let message = format!("{} is not JSON: {e}", path.display());
                    problems.push(Problem::new(format!("{key}.schema_file"), message));
                    None
                }
                None => None,
            }
        }
        (None, None) => None,
    }
}
