//! One delivery attempt: transform, send, record, decide.

use std::time::Instant;

use tracing::Instrument as _;

use crate::circuit::Signal;
use crate::destination::{HandlerError, Message, Target};
use crate::event::{Attempt, AttemptOutcome};
use crate::ingest::RequestId;
use crate::observe::{AttemptRecorded, AttemptSeen, Observer as _};
use crate::payload::Payload;
use crate::policy::{AttemptReport, Decision, FailureKind};
use crate::relay::Relay;
use crate::store::{AttemptCompletion, LeasedDelivery, NextStep, StoreError};
use crate::time::Timestamp;
use crate::transform::{TransformInput, Transformed};

use super::outbound::{OutboundContext, add_outbound_headers, attempt_span_id};
use crate::agent::{AgentFailure, DeliverFrame, OutcomeFrame};

/// What an attempt produced, before the policy decides.
struct Attempted {
    report: AttemptReport,
    status_code: Option<u16>,
    error: Option<String>,
    excerpt: Option<String>,
}

impl Attempted {
    fn failed(kind: FailureKind, message: impl std::fmt::Display) -> Self {
        Self {
            report: AttemptReport::Failed(kind),
            status_code: None,
            error: Some(format!("{}: {message}", kind.as_str())),
            excerpt: None,
        }
    }
}

/// What an agent's outcome (or its absence) means for the attempt.
fn agent_attempted(result: Result<OutcomeFrame, AgentFailure>) -> Attempted {
    match result {
        Ok(OutcomeFrame {
            status: Some(status),
            excerpt,
            retry_after_secs,
            ..
        }) => Attempted {
            report: AttemptReport::Response {
                status,
                retry_after: retry_after_secs.map(std::time::Duration::from_secs),
            },
            status_code: Some(status),
            error: (!(200..300).contains(&status)).then(|| format!("http {status}")),
            excerpt,
        },
        Ok(OutcomeFrame { error, .. }) => Attempted::failed(
            FailureKind::Connect,
            format!(
                "the agent could not forward it: {}",
                error.as_deref().unwrap_or("no reason given")
            ),
        ),
        Err(failure @ AgentFailure::Offline(_)) => {
            Attempted::failed(FailureKind::AgentOffline, failure)
        }
        Err(failure @ AgentFailure::Timeout { .. }) => {
            Attempted::failed(FailureKind::Timeout, failure)
        }
    }
}

impl Relay {
    /// Makes one attempt of a leased delivery and records it under the lease, in an `attempt`
    /// tracing span carrying the request id the event was received with.
    pub(crate) async fn attempt(&self, leased: LeasedDelivery, per_destination: usize) {
        if leased.event.tenant == *self.tenant_id() {
            self.attempt_here(leased, per_destination).await;
        } else if let Some(relay) = self.delivery_relay(&leased).await {
            relay.attempt_here(leased, per_destination).await;
        }
    }

    /// [`Relay::attempt`] with this relay's catalog (the delivery's tenant's).
    async fn attempt_here(&self, leased: LeasedDelivery, per_destination: usize) {
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
        self.attempt_in_span(leased, per_destination)
            .instrument(span)
            .await;
    }

    /// At most `per_destination` attempts to a destination without its own cap are in flight at
    /// once.
    async fn attempt_in_span(&self, leased: LeasedDelivery, per_destination: usize) {
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
        let started_at = Timestamp::now();
        let clock = Instant::now();
        let observers = self.observers();
        let (wall_start, span) = (observers.start_time(), attempt_span_id());
        let number = delivery.attempts + 1;
        let destination = catalog.destination(&delivery.destination);
        let result = match destination {
            None => Attempted::failed(
                FailureKind::Transform,
                format!("destination {:?} no longer exists", delivery.destination),
            ),
            Some(destination) => {
                let transformer = catalog.transformer_for_route(&delivery.route);
                // Parsing the body costs more than the rest of an identity attempt's CPU.
                let payload = match &transformer {
                    Some(t) if !t.reads_payload() => Payload::Raw,
                    _ => event.payload(),
                };
                let input = TransformInput {
                    event: &event,
                    payload: &payload,
                    destination: destination.name(),
                };
                let transformed = match transformer {
                    Some(transformer) => transformer.transform(&input).map_err(|e| e.to_string()),
                    None => Err(format!(
                        "route {:?} or its transformer no longer exists",
                        delivery.route
                    )),
                };
                match transformed {
                    Err(message) => Attempted::failed(FailureKind::Transform, message),
                    Ok(Transformed { body, mut headers }) => {
                        let context = OutboundContext {
                            delivery: delivery.id,
                            event: event.id,
                            attempt: number,
                            span,
                            timestamp: started_at.as_secs(),
                            secret: destination.secret(),
                        };
                        add_outbound_headers(&mut headers, &context, &body);
                        let timeouts = destination.timeouts();
                        let timeout = timeouts.total;
                        match destination.target() {
                            Target::Http { url, auth_header } => {
                                if let Some(auth) = auth_header
                                    && let Ok(mut value) =
                                        http::HeaderValue::from_str(auth.expose())
                                {
                                    value.set_sensitive(true);
                                    headers.insert(http::header::AUTHORIZATION, value);
                                }
                                match self.transport().post(url, headers, body, timeouts).await {
                                    Ok(answer) => Attempted {
                                        report: AttemptReport::Response {
                                            status: answer.status,
                                            retry_after: answer.retry_after,
                                        },
                                        status_code: Some(answer.status),
                                        error: (!(200..300).contains(&answer.status))
                                            .then(|| format!("http {}", answer.status)),
                                        excerpt: answer.excerpt,
                                    },
                                    Err(failure) => {
                                        Attempted::failed(failure.kind, failure.message)
                                    }
                                }
                            }
                            Target::Agent {
                                agent,
                                allow_targets,
                            } => {
                                let frame = DeliverFrame {
                                    id: 0,
                                    delivery_id: delivery.id.to_string(),
                                    destination: delivery.destination.clone(),
                                    event_type: event.event_type.clone(),
                                    attempt: number,
                                    target: String::new(),
                                    headers: DeliverFrame::encode_headers(&headers),
                                    body: DeliverFrame::encode_body(&body),
                                    timeout_ms: u64::try_from(timeout.as_millis())
                                        .unwrap_or(u64::MAX),
                                };
                                let sent =
                                    self.agents().deliver(agent, allow_targets, frame, timeout);
                                agent_attempted(sent.await)
                            }
                            Target::Handler(handler) => {
                                let message = Message {
                                    delivery_id: delivery.id,
                                    event_id: event.id,
                                    source: event.source.clone(),
                                    event_type: event.event_type.clone(),
                                    attempt: number,
                                    body,
                                    headers,
                                };
                                match tokio::time::timeout(timeout, handler.handle(message)).await {
                                    Err(_) => Attempted::failed(
                                        FailureKind::Timeout,
                                        format!("handler did not finish within {timeout:?}"),
                                    ),
                                    Ok(Ok(())) => Attempted {
                                        report: AttemptReport::Handled,
                                        status_code: None,
                                        error: None,
                                        excerpt: None,
                                    },
                                    Ok(Err(HandlerError::Retry(m))) => {
                                        Attempted::failed(FailureKind::HandlerRetry, m)
                                    }
                                    Ok(Err(HandlerError::Reject(m))) => {
                                        Attempted::failed(FailureKind::HandlerReject, m)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        };
        if let Some(ticket) = pass.circuit {
            let signal = Signal::of(&result.report);
            self.record_circuit(&lease.tenant, &delivery.destination, ticket, signal)
                .await;
        }
        drop(pass);
        let decision = match destination {
            Some(d) => d.delivery_policy().decide_at_age(
                delivery.cycle_attempts + 1,
                &result.report,
                Timestamp::now().since(delivery.created_at),
            ),
            None => Decision::DeadLetter,
        };
        let (next, outcome) = match decision {
            Decision::Delivered => (NextStep::Delivered, AttemptOutcome::Delivered),
            Decision::RetryAfter(delay) => (
                NextStep::RetryAt(Timestamp::now().plus(delay)),
                AttemptOutcome::Retrying,
            ),
            Decision::DeadLetter => (NextStep::DeadLettered, AttemptOutcome::DeadLettered),
            Decision::DisableDestination => {
                tracing::warn!(destination = %delivery.destination, "destination answered 410 Gone; pausing it");
                self.disable_destination(&delivery.destination);
                observers.on_destination_disabled(
                    &delivery.tenant,
                    &delivery.destination,
                    "answered 410 Gone",
                );
                (NextStep::DeadLettered, AttemptOutcome::DeadLettered)
            }
        };
        let elapsed = clock.elapsed();
        observers.on_attempt(&AttemptSeen {
            tenant: &delivery.tenant,
            event: event.id,
            delivery: delivery.id,
            destination: &delivery.destination,
            route: &delivery.route,
            number,
            outcome,
            status_code: result.status_code,
            error: result.error.as_deref(),
            elapsed,
            span,
            started: wall_start,
        });
        let attempt = Attempt {
            delivery_id: delivery.id,
            number,
            started_at,
            latency_ms: u32::try_from(elapsed.as_millis()).unwrap_or(u32::MAX),
            status_code: result.status_code,
            error: result.error,
            response_excerpt: result.excerpt,
            outcome,
        };
        match outcome {
            AttemptOutcome::Delivered => {
                tracing::debug!(outcome = outcome.as_str(), "attempt finished")
            }
            _ => tracing::info!(
                outcome = outcome.as_str(),
                error = attempt.error.as_deref(),
                "attempt finished"
            ),
        }
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
                observers.on_attempt_recorded(&AttemptRecorded {
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
                tracing::warn!(delivery = %id, "lease expired during the attempt; another worker owns it now");
            }
            Err(error) => {
                tracing::error!(%error, delivery = %delivery.id, "could not record attempt; it will be retried when the lease expires");
            }
        }
    }
}
