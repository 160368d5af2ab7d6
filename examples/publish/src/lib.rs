//! An app that sends its own webhooks: `POST /invoices/{id}/pay` marks an invoice paid and
//! publishes `invoice.paid` with [`Relay::publish`], which returns once the event and its
//! delivery are committed; Relay's worker then delivers it, signed with Standard Webhooks
//! headers, retried with backoff, to every subscribed endpoint.
//!
//! Run with `cargo run -p relay-example-publish` (see `src/main.rs`), then
//! `curl -X POST localhost:8082/invoices/inv_42/pay -H 'content-type: application/json' -d '{"amount": 99.5}'`.

use std::error::Error;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use relay_core::publish::EventType;
use relay_core::serde_json::{Value, json};
use relay_core::{Destination, EventRoute, Publish, PublishError, Published, Relay};
use serde::Deserialize;

/// The relay of this app: events of type `invoice.paid` (with a JSON Schema) from the app's
/// own publish source `app`, routed to the subscriber at `webhook_url`, signed with its
/// Standard Webhooks `signing_secret` (`whsec_…`).
pub fn relay(
    builder: relay_core::RelayBuilder,
    webhook_url: &str,
    signing_secret: &str,
) -> Result<Relay, Box<dyn Error>> {
    let invoice_paid = EventType::new("invoice.paid")
        .description("An invoice was paid")
        .schema(json!({
            "type": "object",
            "required": ["id", "amount"],
            "properties": {"id": {"type": "string"}, "amount": {"type": "number", "minimum": 0}}
        }))?;
    let relay = builder
        .event_type(invoice_paid)
        .destination(Destination::http("subscriber", webhook_url)?.signing_secret(signing_secret))
        .route(
            EventRoute::new("invoices")
                .source("app")
                .event_types(["invoice.*"])
                .to(["subscriber"]),
        )
        .build()?;
    Ok(relay)
}

/// The body of `POST /invoices/{id}/pay`.
#[derive(Debug, Deserialize)]
pub struct Payment {
    /// How much was paid.
    pub amount: Value,
}

/// The app's routes: `POST /invoices/{id}/pay`.
pub fn app(relay: Relay) -> Router {
    Router::new()
        .route("/invoices/{id}/pay", post(pay))
        .with_state(relay)
}

/// Marks the invoice paid (an app would change its own database here, in the same
/// transaction as the event with `relay-outbox`) and publishes `invoice.paid`. Paying twice
/// publishes once: the idempotency key is the invoice's.
async fn pay(
    State(relay): State<Relay>,
    Path(id): Path<String>,
    Json(payment): Json<Payment>,
) -> (StatusCode, Json<Value>) {
    let event = Publish::new("invoice.paid", json!({"id": id, "amount": payment.amount}))
        .idempotency_key(format!("{id}.paid"));
    match relay.publish(event).await {
        Ok(published) => {
            let status = match published {
                Published::Duplicate { .. } => "already_paid",
                _ => "paid",
            };
            let event_id = published.event_id().to_string();
            (
                StatusCode::OK,
                Json(json!({"invoice": id, "status": status, "event_id": event_id})),
            )
        }
        Err(PublishError::InvalidPayload(fields)) => {
            let fields: Vec<Value> = (fields.iter())
                .map(|f| json!({"field": f.field, "message": f.message}))
                .collect();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"error": "invalid_payload", "fields": fields})),
            )
        }
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "unavailable", "message": error.to_string()})),
        ),
    }
}
