//! A backend that provides only [`EventIngest`] and [`DeliveryQueue`] runs the pipeline:
//! [`Stores::pipeline`] fills the other capabilities, the builder accepts it, events are
//! ingested, deduplicated and delivered, and the control features it lacks answer
//! [`StoreError::Unsupported`] naming the missing capability.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use relay_core::Relay;
use relay_core::control::admin::{AdminError, EventQuery, Principal, Role};
use relay_core::deliver::WorkerConfig;
use relay_core::deliver::destination::{Destination, HandlerError, Message};
use relay_core::ingest::signature::NoSignature;
use relay_core::ingest::source::WebhookSource;
use relay_core::ingest::{IngestOutcome, IngestRequest};
use relay_core::model::ids::{EventId, NodeId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::route::EventRoute;
use relay_core::store::memory::MemoryStore;
use relay_core::store::{
    AttemptCompletion, DeadLetterFilter, DeliveryQueue, EventIngest, HeldAgent, InsertOutcome,
    Lease, LeasedDelivery, NewDelivery, NewEvent, ScheduleReport, StoreError, Stores,
};
use tokio::sync::mpsc;

/// "Your database": the two pipeline capabilities and nothing else. Here they are kept by a
/// [`MemoryStore`] inside; a real backend runs its own queries in each method.
#[derive(Debug, Default)]
struct PipelineOnly {
    rows: MemoryStore,
}

#[async_trait]
impl EventIngest for PipelineOnly {
    async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        self.rows.insert_event(new).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl DeliveryQueue for PipelineOnly {
    async fn lease_due_as(
        &self,
        holder: Option<&NodeId>,
        agents: &[HeldAgent],
        now: Timestamp,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        self.rows
            .lease_due_as(holder, agents, now, limit, lease_for)
            .await
    }

    async fn reclaim(&self, holder: &NodeId, now: Timestamp) -> Result<u64, StoreError> {
        self.rows.reclaim(holder, now).await
    }

    async fn complete_attempt(&self, completion: AttemptCompletion) -> Result<(), StoreError> {
        self.rows.complete_attempt(completion).await
    }

    async fn release(&self, lease: &Lease, due_at: Timestamp) -> Result<(), StoreError> {
        self.rows.release(lease, due_at).await
    }

    async fn schedule(
        &self,
        tenant: &TenantId,
        event: EventId,
        plan: Vec<NewDelivery>,
        force: bool,
        now: Timestamp,
    ) -> Result<ScheduleReport, StoreError> {
        self.rows.schedule(tenant, event, plan, force, now).await
    }

    async fn redrive(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.rows.redrive(tenant, filter, now).await
    }

    async fn discard_dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.rows.discard_dead_letters(tenant, filter, now).await
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        self.rows.queue_depth().await
    }
}

fn request(key: &str, body: &'static [u8]) -> IngestRequest {
    let mut headers = http::HeaderMap::new();
    headers.insert("idempotency-key", key.parse().unwrap());
    headers.insert("x-event-type", "order.created".parse().unwrap());
    IngestRequest::new("forms", headers, Bytes::from_static(body))
}

fn unsupported(error: AdminError) -> &'static str {
    match error {
        AdminError::Store(StoreError::Unsupported(capability)) => capability,
        other => panic!("expected an unsupported capability, got {other:?}"),
    }
}

#[tokio::test]
async fn a_pipeline_only_backend_ingests_and_delivers_and_refuses_the_rest_clearly() {
    let (sent, mut received) = mpsc::unbounded_channel::<Message>();
    let relay = Relay::builder()
        .store(Arc::new(Stores::pipeline(
            Arc::new(PipelineOnly::default()),
        )))
        .source(WebhookSource::new("forms", NoSignature))
        .destination(Destination::handler("app", move |message: Message| {
            let sent = sent.clone();
            async move {
                sent.send(message)
                    .map_err(|_| HandlerError::Reject("test ended".into()))?;
                Ok::<(), HandlerError>(())
            }
        }))
        .route(EventRoute::new("all").to(["app"]))
        .build()
        .expect("the builder accepts a pipeline-only backend");
    let worker = relay.spawn_worker(WorkerConfig::default());

    let first = relay.ingest(request("order-1", br#"{"id":1}"#)).await;
    let IngestOutcome::Accepted { event_id } = first else {
        panic!("{first:?}")
    };
    let again = relay.ingest(request("order-1", br#"{"id":1}"#)).await;
    assert_eq!(again, IngestOutcome::Duplicate { event_id });

    let message = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("delivered within 10 s")
        .expect("the handler ran");
    assert_eq!(message.event_type, "order.created");
    assert_eq!(&message.body[..], br#"{"id":1}"#);
    assert!(
        relay.readiness().await.is_ok(),
        "the ingest part answers ping"
    );

    let admin = Principal::system(TenantId::default());
    let listed = relay
        .events()
        .list_events(&admin, &EventQuery::default(), 10)
        .await;
    assert_eq!(unsupported(listed.unwrap_err()), "the event log");
    let key = relay
        .access()
        .create_api_key(&admin, "ci", Role::Viewer)
        .await;
    assert_eq!(
        unsupported(key.unwrap_err()),
        "access (API keys, users, sessions)"
    );
    worker.shutdown().await;
}
