//! One delivery attempt, as the pipeline's steps in order: gate, transform, sign, send,
//! feed the circuit, judge, report, record.

use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument as _;

use crate::ingest::RequestId;
use crate::relay::Relay;
use crate::store::LeasedDelivery;

use super::judge::Attempted;
use super::prepare::{Started, sign, transform};
use super::sent::request_detail;
use crate::model::attempt_detail::AttemptDetail;

impl Relay {
    /// Makes one attempt of a leased delivery and records it under the lease, in an `attempt`
    /// tracing span carrying the request id the event was received with. `slot` (the worker's
    /// in-flight slot) is let go once the attempt is judged, before its record is committed, so
    /// the slot serves the next attempt while the record waits for its group commit.
    pub(crate) async fn attempt(
        &self,
        leased: LeasedDelivery,
        per_destination: usize,
        slot: OwnedSemaphorePermit,
    ) {
        if leased.event.tenant == *self.tenant_id() {
            self.attempt_here(leased, per_destination, slot).await;
        } else if let Some(relay) = self.delivery_relay(&leased).await {
            relay.attempt_here(leased, per_destination, slot).await;
        }
    }

    /// [`Relay::attempt`] with this relay's catalog (the delivery's tenant's).
    async fn attempt_here(
        &self,
        leased: LeasedDelivery,
        per_destination: usize,
        slot: OwnedSemaphorePermit,
    ) {
        let span = tracing::info_span!(
            "attempt",
            delivery = %leased.delivery.id,
            destination = %leased.delivery.destination,
            number = leased.delivery.attempts + 1,
            request_id = tracing::field::Empty,
        );
        if let Some(id) = RequestId::stored(&leased.event.headers) {
            span.record("request_id", tracing::field::display(&id));
        }
        self.attempt_in_span(leased, per_destination, slot)
            .instrument(span)
            .await;
    }

    /// The attempt's steps, in order. At most `per_destination` attempts to a destination
    /// without its own cap are in flight at once (the gate's pass holds the slot until the
    /// circuit has the attempt's signal).
    async fn attempt_in_span(
        &self,
        leased: LeasedDelivery,
        per_destination: usize,
        slot: OwnedSemaphorePermit,
    ) {
        let LeasedDelivery {
            delivery,
            event,
            lease,
        } = leased;
        let catalog = self.catalog();
        let Some(pass) = self
            .clear_for_attempt(&catalog, &delivery, &lease, per_destination)
            .await
        else {
            return;
        };
        let started = Started::now(self.observers(), &delivery);
        let destination = catalog.destination(&delivery.destination);
        let mut detail = AttemptDetail::default();
        let attempted = match destination {
            None => Attempted::no_destination(&delivery.destination),
            Some(destination) => match transform(&catalog, destination, &delivery, &event) {
                Err((kind, message)) => Attempted::failed(kind, message),
                Ok(mut outbound) => {
                    sign(&mut outbound, destination, &delivery, &event, &started);
                    detail = request_detail(destination, &outbound, &event);
                    self.send(destination, outbound, &delivery, &event, started.number)
                        .await
                }
            },
        };
        self.record_in_circuit(pass, &lease, &delivery.destination, &attempted.report)
            .await;
        let (next, outcome) = self.judge(destination, &delivery, &attempted.report);
        let attempt =
            self.report_attempt(&delivery, &event, &started, (attempted, detail), outcome);
        drop(slot);
        self.complete(lease, attempt, next, &delivery, &event).await;
    }
}
