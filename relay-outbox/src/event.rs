//! What an app writes ([`OutboxEvent`]) and what the mover reads back ([`OutboxRow`]).

use relay_core::model::ids::{EventId, TenantId};
use relay_core::publish::Publish;
use serde_json::Value;

/// An event to write into the outbox inside the app's own transaction. Its id is fixed here
/// (a new one unless [`OutboxEvent::id`] sets it), so the app knows it before the commit.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    id: EventId,
    tenant: TenantId,
    event_type: String,
    payload: Value,
    idempotency_key: Option<String>,
    destinations: Option<Vec<String>>,
    source: Option<String>,
}

impl OutboxEvent {
    /// An event of type `event_type` carrying `payload`, with a new id, in tenant `default`.
    pub fn new(event_type: impl Into<String>, payload: Value) -> Self {
        Self {
            id: EventId::new(),
            tenant: TenantId::default_tenant(),
            event_type: event_type.into(),
            payload,
            idempotency_key: None,
            destinations: None,
            source: None,
        }
    }

    /// Fixes the event's id.
    pub fn id(mut self, id: EventId) -> Self {
        self.id = id;
        self
    }

    /// The tenant the event is published in (default `default`).
    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = tenant;
        self
    }

    /// See [`Publish::idempotency_key`].
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// See [`Publish::destinations`].
    pub fn destinations<I, S>(mut self, destinations: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.destinations = Some(destinations.into_iter().map(Into::into).collect());
        self
    }

    /// See [`Publish::source`].
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The event's id.
    pub fn event_id(&self) -> EventId {
        self.id
    }

    /// The row's column values, in the order of the `INSERT` statements' parameters.
    #[cfg_attr(
        not(any(
            feature = "tokio-postgres",
            feature = "rusqlite",
            feature = "sqlx-postgres",
            feature = "sqlx-sqlite"
        )),
        allow(dead_code)
    )]
    pub(crate) fn columns(&self) -> Columns {
        Columns {
            id: self.id.to_string(),
            tenant: self.tenant.as_str().to_owned(),
            event_type: self.event_type.clone(),
            payload: self.payload.to_string(),
            idempotency_key: self.idempotency_key.clone(),
            destinations: (self.destinations.as_ref()).map(|d| Value::from(d.clone()).to_string()),
            source: self.source.clone(),
        }
    }
}

/// An [`OutboxEvent`] as the text values of the table's columns.
#[cfg_attr(
    not(any(
        feature = "tokio-postgres",
        feature = "rusqlite",
        feature = "sqlx-postgres",
        feature = "sqlx-sqlite"
    )),
    allow(dead_code)
)]
pub(crate) struct Columns {
    pub(crate) id: String,
    pub(crate) tenant: String,
    pub(crate) event_type: String,
    pub(crate) payload: String,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) destinations: Option<String>,
    pub(crate) source: Option<String>,
}

/// One row as a mover read it from the outbox table (JSON columns as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// The event id as stored.
    pub id: String,
    /// The tenant's name.
    pub tenant: String,
    /// The event type.
    pub event_type: String,
    /// The payload, JSON text.
    pub payload: String,
    /// The idempotency key, if any.
    pub idempotency_key: Option<String>,
    /// The destinations, a JSON array of names as text, if any.
    pub destinations: Option<String>,
    /// The source, if any.
    pub source: Option<String>,
}

impl OutboxRow {
    /// The publish this row stands for, in its tenant, with its id fixed; or why the row can
    /// never be published (a malformed id, payload or destination list).
    pub fn to_publish(&self) -> Result<(TenantId, Publish), String> {
        let id: EventId = (self.id.parse()).map_err(|e| format!("invalid id: {e}"))?;
        let payload: Value =
            serde_json::from_str(&self.payload).map_err(|e| format!("invalid payload: {e}"))?;
        let mut publish = Publish::new(self.event_type.clone(), payload).event_id(id);
        if let Some(key) = &self.idempotency_key {
            publish = publish.idempotency_key(key.clone());
        }
        if let Some(destinations) = &self.destinations {
            let names: Vec<String> = serde_json::from_str(destinations)
                .map_err(|e| format!("destinations must be a JSON array of names: {e}"))?;
            publish = publish.destinations(names);
        }
        if let Some(source) = &self.source {
            publish = publish.source(source.clone());
        }
        Ok((TenantId::new(self.tenant.clone()), publish))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(event: &OutboxEvent) -> OutboxRow {
        let c = event.columns();
        OutboxRow {
            id: c.id,
            tenant: c.tenant,
            event_type: c.event_type,
            payload: c.payload,
            idempotency_key: c.idempotency_key,
            destinations: c.destinations,
            source: c.source,
        }
    }

    #[test]
    fn a_written_event_reads_back_as_the_same_publish() {
        let event = OutboxEvent::new("invoice.paid", json!({"id": "inv_1", "amount": 3}))
            .tenant(TenantId::new("acme"))
            .idempotency_key("inv_1")
            .destinations(["billing", "crm"])
            .source("billing-app");
        let (tenant, publish) = row(&event).to_publish().expect("valid row");
        assert_eq!(tenant, TenantId::new("acme"));
        let expected = Publish::new("invoice.paid", json!({"id": "inv_1", "amount": 3}))
            .event_id(event.event_id())
            .idempotency_key("inv_1")
            .destinations(["billing", "crm"])
            .source("billing-app");
        assert_eq!(publish, expected);
    }

    #[test]
    fn a_malformed_row_says_why() {
        let good = row(&OutboxEvent::new("a", json!({})));
        let bad_id = OutboxRow {
            id: "42".into(),
            ..good.clone()
        };
        assert!(bad_id.to_publish().unwrap_err().starts_with("invalid id"));
        let bad_payload = OutboxRow {
            payload: "{".into(),
            ..good.clone()
        };
        assert!(
            bad_payload
                .to_publish()
                .unwrap_err()
                .starts_with("invalid payload")
        );
        let bad_list = OutboxRow {
            destinations: Some(r#"{"a":1}"#.into()),
            ..good
        };
        assert!(
            bad_list
                .to_publish()
                .unwrap_err()
                .starts_with("destinations")
        );
    }
}
