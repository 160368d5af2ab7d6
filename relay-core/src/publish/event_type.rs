//! [`EventType`]: a named kind of event with a description and an optional JSON Schema,
//! compiled once, that published (and, where a source asks, ingested) payloads must match.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// One way a payload does not match its event type's schema.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PayloadError {
    /// Where, as a JSON pointer into the payload (`""` for the whole payload, `/amount`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// An event type's schema that is not a valid JSON Schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event type {name:?}: not a valid JSON Schema: {reason}")]
pub struct SchemaError {
    /// The event type.
    pub name: String,
    /// What the schema compiler said.
    pub reason: String,
}

/// A named kind of event (`invoice.paid`), listed at `GET /api/v1/event-types`. With a
/// schema (JSON Schema 2020-12), a payload of this type that does not match it is refused
/// with every mismatch.
///
/// ```
/// use relay_core::publish::EventType;
/// use serde_json::json;
/// let paid = EventType::new("invoice.paid")
///     .description("An invoice was paid")
///     .schema(json!({"type": "object", "required": ["id", "amount"],
///                    "properties": {"amount": {"type": "number"}}}))
///     .unwrap();
/// assert!(paid.validate(&json!({"id": "inv_1", "amount": 10})).is_ok());
/// let errors = paid.validate(&json!({"amount": "ten"})).unwrap_err();
/// assert_eq!(errors.len(), 2);
/// assert!(errors.iter().any(|e| e.field == "/amount"));
/// assert!(EventType::new("bad").schema(json!({"type": 12})).is_err());
/// ```
#[derive(Clone)]
pub struct EventType {
    name: String,
    description: Option<String>,
    schema: Option<(Value, Arc<jsonschema::Validator>)>,
}

impl EventType {
    /// An event type without description or schema.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: None,
            schema: None,
        }
    }

    /// Sets the description shown in the API.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Sets the JSON Schema (2020-12) payloads must match, compiled now.
    pub fn schema(mut self, schema: Value) -> Result<Self, SchemaError> {
        let validator = jsonschema::draft202012::new(&schema).map_err(|e| SchemaError {
            name: self.name.clone(),
            reason: e.to_string(),
        })?;
        self.schema = Some((schema, Arc::new(validator)));
        Ok(self)
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The description, if any.
    pub fn description_text(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The schema as given, if any.
    pub fn schema_json(&self) -> Option<&Value> {
        self.schema.as_ref().map(|(json, _)| json)
    }

    /// Every way `payload` does not match the schema (none without a schema).
    pub fn validate(&self, payload: &Value) -> Result<(), Vec<PayloadError>> {
        let Some((_, validator)) = &self.schema else {
            return Ok(());
        };
        let errors: Vec<PayloadError> = (validator.iter_errors(payload))
            .map(|error| PayloadError {
                field: error.instance_path().to_string(),
                message: error.to_string(),
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl fmt::Debug for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventType")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("schema", &self.schema_json())
            .finish()
    }
}

/// The event types of a catalog, by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventTypes(Arc<HashMap<String, EventType>>);

impl EventTypes {
    /// The types, or the first name given twice.
    pub(crate) fn new(types: Vec<EventType>) -> Result<Self, String> {
        let mut map = HashMap::with_capacity(types.len());
        for event_type in types {
            let name = event_type.name.clone();
            if map.insert(name.clone(), event_type).is_some() {
                return Err(name);
            }
        }
        Ok(Self(Arc::new(map)))
    }

    /// The type called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&EventType> {
        self.0.get(name)
    }

    /// Every type, by name.
    pub(crate) fn sorted(&self) -> Vec<&EventType> {
        let mut types: Vec<&EventType> = self.0.values().collect();
        types.sort_by(|a, b| a.name.cmp(&b.name));
        types
    }
}
