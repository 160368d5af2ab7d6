//! Judging an attempt: what the target's answer (or its absence) means, as an [`Attempted`],
//! and what the destination's delivery policy makes of it: the delivery's next step and the
//! attempt's outcome.

use std::time::Duration;

use tokio::time::error::Elapsed;

use crate::control::agent::{AgentFailure, OutcomeFrame};
use crate::deliver::destination::{Destination, HandlerError};
use crate::deliver::policy::{AttemptReport, Decision, FailureKind};
use crate::model::event::{AttemptOutcome, Delivery};
use crate::model::time::Timestamp;
use crate::observe::Observer as _;
use crate::relay::Relay;
use crate::store::NextStep;

use super::ATTEMPT_LOG;
use super::http::{HttpAnswer, HttpFailure};

/// What an attempt produced, before the policy decides.
pub(super) struct Attempted {
    /// What the delivery policy and the circuit breaker judge.
    pub(super) report: AttemptReport,
    /// The HTTP status answered, if any.
    pub(super) status_code: Option<u16>,
    /// Why it failed, if it did.
    pub(super) error: Option<String>,
    /// The start of the answer's body, if any.
    pub(super) excerpt: Option<String>,
    /// The answer's headers (capped), if it had any.
    pub(super) response_headers: Vec<(String, String)>,
}

impl Attempted {
    /// An attempt that got no answer, or could not be made, for this reason.
    pub(super) fn failed(kind: FailureKind, message: impl std::fmt::Display) -> Self {
        Self {
            report: AttemptReport::Failed(kind),
            status_code: None,
            error: Some(format!("{}: {message}", kind.as_str())),
            excerpt: None,
            response_headers: Vec::new(),
        }
    }

    /// An attempt to a destination that is no longer in the catalog.
    pub(super) fn no_destination(destination: &str) -> Self {
        Self::failed(
            FailureKind::Transform,
            format!("destination {destination:?} no longer exists"),
        )
    }

    /// An answer with this status: an error unless it is 2xx.
    fn answered(status: u16, retry_after: Option<Duration>, excerpt: Option<String>) -> Self {
        Self {
            report: AttemptReport::Response {
                status,
                retry_after,
            },
            status_code: Some(status),
            error: (!(200..300).contains(&status)).then(|| format!("http {status}")),
            excerpt,
            response_headers: Vec::new(),
        }
    }

    /// What an HTTP endpoint's answer (or its absence) means for the attempt.
    pub(super) fn of_http(result: Result<HttpAnswer, HttpFailure>) -> Self {
        match result {
            Ok(answer) => Self {
                response_headers: answer.headers,
                ..Self::answered(answer.status, answer.retry_after, answer.excerpt)
            },
            Err(failure) => Self::failed(failure.kind, failure.message),
        }
    }

    /// What an agent's outcome (or its absence) means for the attempt.
    pub(super) fn of_agent(result: Result<OutcomeFrame, AgentFailure>) -> Self {
        match result {
            Ok(OutcomeFrame {
                status: Some(status),
                excerpt,
                retry_after_secs,
                ..
            }) => Self::answered(status, retry_after_secs.map(Duration::from_secs), excerpt),
            Ok(OutcomeFrame { error, .. }) => Self::failed(
                FailureKind::Connect,
                format!(
                    "the agent could not forward it: {}",
                    error.as_deref().unwrap_or("no reason given")
                ),
            ),
            Err(failure @ AgentFailure::Offline(_)) => {
                Self::failed(FailureKind::AgentOffline, failure)
            }
            Err(failure @ AgentFailure::Timeout { .. }) => {
                Self::failed(FailureKind::Timeout, failure)
            }
        }
    }

    /// What an in-process handler's result (or its panic's message) means for the attempt;
    /// `timeout` is how long it was given.
    pub(super) fn of_handler(
        result: Result<Result<Result<(), HandlerError>, String>, Elapsed>,
        timeout: Duration,
    ) -> Self {
        match result {
            Err(_) => Self::failed(
                FailureKind::Timeout,
                format!("handler did not finish within {timeout:?}"),
            ),
            Ok(Ok(Ok(()))) => Self {
                report: AttemptReport::Handled,
                status_code: None,
                error: None,
                excerpt: None,
                response_headers: Vec::new(),
            },
            Ok(Ok(Err(HandlerError::Retry(m)))) => Self::failed(FailureKind::HandlerRetry, m),
            Ok(Ok(Err(HandlerError::Reject(m)))) => Self::failed(FailureKind::HandlerReject, m),
            Ok(Err(panic)) => Self::failed(
                FailureKind::HandlerPanic,
                format!("the handler panicked: {panic}"),
            ),
        }
    }
}

impl Relay {
    /// What the destination's delivery policy makes of the attempt's `report`: the delivery's
    /// next step and the attempt's outcome. A destination no longer in the catalog
    /// dead-letters the delivery; one that answered 410 Gone is paused.
    pub(super) fn judge(
        &self,
        destination: Option<&Destination>,
        delivery: &Delivery,
        report: &AttemptReport,
    ) -> (NextStep, AttemptOutcome) {
        let decision = match destination {
            Some(d) => d.delivery_policy().decide_at_age(
                delivery.cycle_attempts + 1,
                report,
                Timestamp::now().since(delivery.created_at),
            ),
            None => Decision::DeadLetter,
        };
        match decision {
            Decision::Delivered => (NextStep::Delivered, AttemptOutcome::Delivered),
            Decision::RetryAfter(delay) => (
                NextStep::RetryAt(Timestamp::now().plus(delay)),
                AttemptOutcome::Retrying,
            ),
            Decision::DeadLetter => (NextStep::DeadLettered, AttemptOutcome::DeadLettered),
            Decision::DisableDestination => {
                self.pause_gone(delivery);
                (NextStep::DeadLettered, AttemptOutcome::DeadLettered)
            }
        }
    }

    /// Pauses the delivery's destination, which answered 410 Gone, and tells the observers.
    fn pause_gone(&self, delivery: &Delivery) {
        tracing::warn!(target: ATTEMPT_LOG, destination = %delivery.destination, "destination answered 410 Gone; pausing it");
        self.hold_destination(
            crate::store::CHANGED_BY_GONE,
            &delivery.destination,
            "answered 410 Gone".to_owned(),
        );
        self.observers().on_destination_disabled(
            &delivery.tenant,
            &delivery.destination,
            "answered 410 Gone",
        );
    }
}
