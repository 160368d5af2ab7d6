//! Recording an attempt: its signal fed into the destination's circuit, the observers told,
//! its log line, and the attempt completed in the store under its lease.

use crate::deliver::circuit::Signal;
use crate::deliver::policy::AttemptReport;
use crate::model::attempt_detail::AttemptDetail;
use crate::model::event::{Attempt, AttemptOutcome, Delivery, Event};
use crate::model::time::Timestamp;
use crate::observe::{AttemptRecorded, AttemptSeen, Observer as _};
use crate::relay::Relay;
use crate::store::{AttemptCompletion, Lease, NextStep, StoreError};

use super::ATTEMPT_LOG;
use super::gate::Pass;
use super::judge::Attempted;
use super::prepare::Started;

impl Relay {
    /// Feeds the attempt's `report` into the destination's circuit (when the gate admitted
    /// the delivery through one), then lets go of the `pass` (its in-flight slot).
    pub(super) async fn record_in_circuit(
        &self,
        pass: Pass,
        lease: &Lease,
        destination: &str,
        report: &AttemptReport,
    ) {
        if let Some(ticket) = pass.circuit {
            let signal = Signal::of(report);
            self.record_circuit(&lease.tenant, destination, ticket, signal)
                .await;
        }
        drop(pass);
    }

    /// Tells the observers about the attempt and logs it; returns the attempt as it is to be
    /// stored, with the request's `detail` completed by its timing and response headers.
    pub(super) fn report_attempt(
        &self,
        delivery: &Delivery,
        event: &Event,
        started: &Started,
        (attempted, mut detail): (Attempted, AttemptDetail),
        outcome: AttemptOutcome,
    ) -> Attempt {
        let elapsed = started.clock.elapsed();
        detail.latency_us = Some(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
        detail.response_headers = attempted.response_headers;
        self.observers().on_attempt(&AttemptSeen {
            tenant: &delivery.tenant,
            event: event.id,
            delivery: delivery.id,
            destination: &delivery.destination,
            route: &delivery.route,
            number: started.number,
            outcome,
            status_code: attempted.status_code,
            error: attempted.error.as_deref(),
            elapsed,
            span: started.span,
            started: started.wall,
        });
        let attempt = Attempt {
            delivery_id: delivery.id,
            number: started.number,
            started_at: started.at,
            latency_ms: u32::try_from(elapsed.as_millis()).unwrap_or(u32::MAX),
            status_code: attempted.status_code,
            error: attempted.error,
            response_excerpt: attempted.excerpt,
            outcome,
            detail,
        };
        match outcome {
            AttemptOutcome::Delivered => {
                tracing::debug!(target: ATTEMPT_LOG, outcome = outcome.as_str(), "attempt finished")
            }
            _ => tracing::info!(
                target: ATTEMPT_LOG,
                outcome = outcome.as_str(),
                error = attempt.error.as_deref(),
                "attempt finished"
            ),
        }
        attempt
    }

    /// Completes the `attempt` in the store under its `lease`, with the delivery's `next`
    /// step. Once it is recorded the observers hear of it, and the next delivery of an
    /// ordered lane is woken; a lease lost meanwhile, or a store failure, is logged.
    pub(super) async fn complete(
        &self,
        lease: Lease,
        attempt: Attempt,
        next: NextStep,
        delivery: &Delivery,
        event: &Event,
    ) {
        let (number, outcome) = (attempt.number, attempt.outcome);
        let since_received = Timestamp::now().since(event.received_at);
        let completed = self
            .store()
            .complete_attempt(AttemptCompletion {
                lease,
                attempt,
                next,
            })
            .await;
        if !matches!(completed, Err(StoreError::LeaseLost(_))) {
            (self.write_health()).record(completed.as_ref().map_err(|e| e as _).copied());
        }
        match completed {
            Ok(()) => {
                self.observers().on_attempt_recorded(&AttemptRecorded {
                    tenant: &delivery.tenant,
                    event: event.id,
                    delivery: delivery.id,
                    destination: &delivery.destination,
                    route: &delivery.route,
                    number,
                    outcome,
                    since_received,
                });
                if delivery.ordering_key.is_some() && !matches!(next, NextStep::RetryAt(_)) {
                    // The next delivery of its lane is due now.
                    self.wake_workers();
                }
            }
            Err(StoreError::LeaseLost(id)) => {
                tracing::warn!(target: ATTEMPT_LOG, delivery = %id, "lease expired during the attempt; another worker owns it now");
            }
            Err(error) => {
                tracing::error!(target: ATTEMPT_LOG, %error, delivery = %delivery.id, "could not record attempt; it will be retried when the lease expires");
            }
        }
    }
}
