//! A relay with a worker, fed directly through [`Relay::ingest`], for delivery tests.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use relay_core::deliver::policy::RetryPolicy;
use relay_core::deliver::{WorkerConfig, WorkerHandle};
use relay_core::ingest::signature::NoSignature;
use relay_core::ingest::source::WebhookSource;
use relay_core::ingest::{IngestOutcome, IngestRequest};
use relay_core::model::event::{Attempt, Delivery};
use relay_core::model::ids::{EventId, TenantId};
use relay_core::{Relay, RelayBuilder};

use crate::eventually;

/// The source every [`Pipeline`] has (unsigned; idempotency key from `Idempotency-Key`).
pub const SOURCE: &str = "in";

/// How long the helpers wait for a delivery to get somewhere.
pub const WAIT: Duration = Duration::from_secs(15);

/// Retries 10–50 ms apart, `max_attempts` attempts in all.
pub fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::new(
        max_attempts,
        Duration::from_millis(10),
        Duration::from_millis(50),
    )
}

/// A running relay and its worker.
pub struct Pipeline {
    /// The relay.
    pub relay: Relay,
    worker: Option<WorkerHandle>,
}

impl Pipeline {
    /// Builds `builder` (plus the source [`SOURCE`]) and starts a worker polling every 20 ms.
    pub fn start(builder: RelayBuilder) -> Self {
        let relay = builder
            .source(WebhookSource::new(SOURCE, NoSignature))
            .build()
            .expect("valid configuration");
        Self::run(relay)
    }

    /// Starts a worker on an already built relay.
    pub fn run(relay: Relay) -> Self {
        let worker =
            relay.spawn_worker(WorkerConfig::default().poll_interval(Duration::from_millis(20)));
        Self {
            relay,
            worker: Some(worker),
        }
    }

    /// Ingests a JSON event with idempotency key `key`; returns its id.
    pub async fn send(&self, key: &str) -> EventId {
        let mut headers = HeaderMap::new();
        // From bytes: a key may be non-ASCII (opaque bytes on the wire), which http's `from_str`
        // refuses.
        headers.insert(
            "idempotency-key",
            http::HeaderValue::from_bytes(key.as_bytes()).expect("header value"),
        );
        headers.insert(
            "content-type",
            "application/json".parse().expect("header value"),
        );
        let body = Bytes::from(format!(r#"{{"key":"{key}"}}"#));
        match self
            .relay
            .ingest(IngestRequest::new(SOURCE, headers, body))
            .await
        {
            IngestOutcome::Accepted { event_id } => event_id,
            other => panic!("event {key} not accepted: {other:?}"),
        }
    }

    /// The event's delivery to `destination`.
    pub async fn delivery(&self, event: EventId, destination: &str) -> Delivery {
        self.relay
            .store()
            .deliveries(&TenantId::default(), event)
            .await
            .expect("store")
            .into_iter()
            .find(|d| d.destination == destination)
            .unwrap_or_else(|| panic!("no delivery of {event} to {destination}"))
    }

    /// Waits until the event's delivery to `destination` satisfies `done`.
    pub async fn wait_for(
        &self,
        event: EventId,
        destination: &str,
        what: &str,
        done: impl Fn(&Delivery) -> bool,
    ) -> Delivery {
        eventually(WAIT, || async {
            let delivery = self.delivery(event, destination).await;
            done(&delivery).then_some(delivery)
        })
        .await
        .unwrap_or_else(|| panic!("delivery of {event} to {destination} never became {what}"))
    }

    /// A delivery's attempts.
    pub async fn attempts(&self, delivery: &Delivery) -> Vec<Attempt> {
        self.relay
            .store()
            .attempts(&TenantId::default(), delivery.id)
            .await
            .expect("store")
    }

    /// Stops the worker.
    pub async fn stop(mut self) {
        if let Some(worker) = self.worker.take() {
            worker.shutdown().await;
        }
    }
}
