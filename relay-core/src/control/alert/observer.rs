//! The alert observer: counts what alerts watch in the pipeline's events and raises the
//! alerts, stored and delivered like any event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use super::counts::Alerts;
use super::{ALERT_ROUTE, ALERT_SOURCE, AlertConfig, AlertKind};
use crate::deliver::circuit::CircuitPhase;
use crate::ingest::outcome::IngestOutcome;
use crate::model::event::{AttemptOutcome, Event, EventStatus};
use crate::model::ids::{DeliveryId, EventId, TenantId};
use crate::model::time::Timestamp;
use crate::observe::{AttemptRecorded, CircuitSeen, IngestSeen, Observer};
use crate::store::{InsertOutcome, LeasedDelivery, NewDelivery, NewEvent, StoreError};

/// What raising an alert needs from the relay it is raised through. The relay gives the
/// observer a handle that does not keep it alive: every method answers `None` (or does
/// nothing) once the relay is gone.
#[async_trait::async_trait]
pub(crate) trait AlertSink: Send + Sync + std::fmt::Debug {
    /// Whether the relay still runs.
    fn is_alive(&self) -> bool;
    /// Pauses `destination` (stored as the circuit breaker's doing, with `reason`).
    fn disable_destination(&self, destination: &str, reason: String);
    /// Whether the relay's catalog has `destination`.
    fn has_destination(&self, destination: &str) -> Option<bool>;
    /// Commits `new` (an alert event and its delivery) and wakes the delivery workers when it
    /// was inserted.
    async fn commit(&self, new: NewEvent) -> Option<Result<InsertOutcome, StoreError>>;
}

/// The observer that counts what alerts watch and raises them (see the [module](super)
/// documentation), for one tenant's relay.
#[derive(Debug)]
pub(crate) struct AlertObserver {
    alerts: Arc<Alerts>,
    /// The relay alerts are stored through (and destinations disabled on).
    sink: Arc<dyn AlertSink>,
    /// The tenant whose events it watches.
    tenant: TenantId,
}

impl AlertObserver {
    /// Alerts configured by `config`, raised through `relay`, about `tenant`'s events.
    pub(crate) fn new(config: AlertConfig, sink: Arc<dyn AlertSink>, tenant: TenantId) -> Self {
        Self {
            alerts: Arc::new(Alerts::new(config)),
            sink,
            tenant,
        }
    }

    /// Fires `kind` about `subject` unless it fired within the window (in the background).
    fn fire(&self, kind: AlertKind, subject: &str, body: Value) {
        if !self.alerts.claim(kind, subject) {
            return;
        }
        if !self.sink.is_alive() {
            return;
        }
        let sink = Arc::clone(&self.sink);
        let alerts = Arc::clone(&self.alerts);
        let subject = subject.to_owned();
        tokio::spawn(async move {
            send_alert(&*sink, alerts.config(), kind, subject, body).await;
        });
    }

    /// A destination was disabled (`reason` says why).
    fn alert_destination_disabled(&self, destination: &str, reason: &str) {
        self.fire(
            AlertKind::DestinationDisabled,
            destination,
            json!({ "destination": destination, "reason": reason }),
        );
    }

    /// A delivery was dead-lettered.
    fn note_dead_letter(&self, destination: &str, route: &str) {
        let Some(threshold) = self.alerts.config().dead_letters else {
            return;
        };
        if route == ALERT_ROUTE {
            return; // Alerts about undeliverable alerts would feed themselves.
        }
        if let Some(count) = self
            .alerts
            .count(AlertKind::DeadLetters, destination, threshold)
        {
            self.fire(
                AlertKind::DeadLetters,
                destination,
                json!({ "destination": destination, "count": count, "threshold": threshold }),
            );
        }
    }

    /// A source refused a signature.
    fn note_signature_failure(&self, source: &str) {
        let Some(threshold) = self.alerts.config().signature_failures else {
            return;
        };
        if let Some(count) = self
            .alerts
            .count(AlertKind::SignatureFailures, source, threshold)
        {
            self.fire(
                AlertKind::SignatureFailures,
                source,
                json!({ "source": source, "count": count, "threshold": threshold }),
            );
        }
    }

    /// A destination's circuit opened; enough openings within the window disable it.
    fn note_circuit_opened(&self, destination: &str) {
        let Some(threshold) = self.alerts.config().breaker_opens else {
            return;
        };
        if let Some(count) =
            (self.alerts).count(AlertKind::DestinationDisabled, destination, threshold)
        {
            tracing::warn!(
                destination,
                count,
                "circuit opened too often; disabling the destination"
            );
            let reason = format!("circuit opened {count} times within the window");
            self.sink.disable_destination(destination, reason.clone());
            self.alert_destination_disabled(destination, &reason);
        }
    }

    /// What a lease round found: first attempts leased long after their event arrived, round
    /// after round for `queue_lag`, fire the lag alert; a round with nothing due ends a lag.
    fn note_lease_round(&self, leased: &[LeasedDelivery]) {
        let Some(threshold) = self.alerts.config().queue_lag else {
            return;
        };
        let now = Timestamp::now();
        let lag = leased
            .iter()
            .filter(|l| l.delivery.attempts == 0 && l.delivery.route != ALERT_ROUTE)
            .map(|l| now.since(l.delivery.created_at))
            .min();
        let sustained = {
            let mut state = self.alerts.state();
            match (leased.is_empty(), lag) {
                (true, _) => {
                    state.lagging_since = None;
                    None
                }
                (false, None) => None,
                (false, Some(lag)) if lag < threshold => {
                    state.lagging_since = None;
                    None
                }
                (false, Some(lag)) => {
                    let since = *state.lagging_since.get_or_insert_with(Instant::now);
                    (since.elapsed() >= threshold).then_some(lag)
                }
            }
        };
        if let Some(lag) = sustained {
            let lag_ms = u64::try_from(lag.as_millis()).unwrap_or(u64::MAX);
            self.fire(
                AlertKind::QueueLag,
                "queue",
                json!({
                    "lag_ms": lag_ms,
                    "threshold_ms": u64::try_from(threshold.as_millis()).unwrap_or(u64::MAX),
                }),
            );
        }
    }
}

impl Observer for AlertObserver {
    fn on_ingest(&self, ingest: &IngestSeen<'_>) {
        if *ingest.tenant == self.tenant && *ingest.outcome == IngestOutcome::InvalidSignature {
            self.note_signature_failure(ingest.source);
        }
    }

    fn on_attempt_recorded(&self, recorded: &AttemptRecorded<'_>) {
        if *recorded.tenant == self.tenant && recorded.outcome == AttemptOutcome::DeadLettered {
            self.note_dead_letter(recorded.destination, recorded.route);
        }
    }

    fn on_destination_disabled(&self, tenant: &TenantId, destination: &str, reason: &str) {
        if *tenant == self.tenant {
            self.alert_destination_disabled(destination, reason);
        }
    }

    fn on_circuit(&self, circuit: &CircuitSeen<'_>) {
        let opened = circuit.changed_from.is_some() && circuit.phase == CircuitPhase::Open;
        if opened && *circuit.tenant == self.tenant {
            self.note_circuit_opened(circuit.destination);
        }
    }

    fn on_lease_round(&self, tenant: &TenantId, leased: &[LeasedDelivery]) {
        if *tenant == self.tenant {
            self.note_lease_round(leased);
        }
    }

    fn on_agent_offline(&self, tenant: &TenantId, agent: &str, offline_for: Duration) {
        let Some(threshold) = self.alerts.config().agent_offline else {
            return;
        };
        if *tenant == self.tenant && offline_for >= threshold {
            self.fire(
                AlertKind::AgentOffline,
                agent,
                json!({
                    "agent": agent,
                    "offline_secs": offline_for.as_secs(),
                    "threshold_secs": threshold.as_secs(),
                }),
            );
        }
    }
}

/// Builds the alert event and commits it with its delivery to the alert destination
/// (`None`: the relay is gone).
async fn send_alert(
    sink: &dyn AlertSink,
    config: &AlertConfig,
    kind: AlertKind,
    subject: String,
    mut body: Value,
) -> Option<()> {
    if !sink.has_destination(&config.destination)? {
        tracing::warn!(alert = kind.as_str(), destination = %config.destination, "alert destination does not exist; alert dropped");
        return Some(());
    }
    let now = Timestamp::now();
    let window_ms = i64::try_from(config.window.as_millis())
        .unwrap_or(i64::MAX)
        .max(1);
    let window = now.as_millis().div_euclid(window_ms);
    let event_type = format!("relay.alert.{}", kind.as_str());
    if let Value::Object(fields) = &mut body {
        fields.insert("type".into(), json!(event_type));
        fields.insert("alert".into(), json!(kind.as_str()));
        fields.insert("window_secs".into(), json!(config.window.as_secs()));
        fields.insert("at".into(), json!(now.as_millis()));
    }
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let new = NewEvent {
        event: Event {
            tenant: TenantId::default(),
            id: EventId::new(),
            source: ALERT_SOURCE.to_owned(),
            event_type,
            idempotency_key: format!("{}:{subject}:{window}", kind.as_str()),
            headers,
            body: Bytes::from(body.to_string()),
            received_at: now,
            status: EventStatus::Routed,
        },
        dedup_until: Timestamp::from_millis(window.saturating_add(1).saturating_mul(window_ms)),
        deliveries: vec![NewDelivery {
            id: DeliveryId::new(),
            destination: config.destination.clone(),
            route: ALERT_ROUTE.to_owned(),
            ordering: None,
            agent: None,
        }],
    };
    match sink.commit(new).await? {
        Ok(InsertOutcome::Inserted) => {
            tracing::warn!(alert = kind.as_str(), subject, "alert raised");
        }
        Ok(InsertOutcome::Duplicate { .. }) => {
            tracing::debug!(
                alert = kind.as_str(),
                subject,
                "alert already raised in this window"
            );
        }
        Err(error) => {
            tracing::error!(%error, alert = kind.as_str(), subject, "could not store an alert");
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Relay;

    fn signature_failure<'a>(tenant: &'a TenantId) -> IngestSeen<'a> {
        IngestSeen {
            tenant,
            source: "forms",
            source_known: true,
            request_id: "req-1",
            outcome: &IngestOutcome::InvalidSignature,
            elapsed: Duration::from_millis(1),
            started: None,
        }
    }

    /// Only the events of the tenant it watches count (a tenant relay raised no alerts).
    #[tokio::test]
    async fn another_tenants_events_do_not_count() {
        let relay = Relay::builder().build().unwrap();
        let config = || AlertConfig::new("ops").signature_failures(1);
        let observer =
            AlertObserver::new(config(), Arc::new(relay.downgrade()), TenantId::default());
        observer.on_ingest(&signature_failure(&TenantId::new("acme")));
        let kind = AlertKind::SignatureFailures;
        assert!(observer.alerts.claim(kind, "forms"), "nothing fired");

        let observer =
            AlertObserver::new(config(), Arc::new(relay.downgrade()), TenantId::default());
        observer.on_ingest(&signature_failure(&TenantId::default()));
        assert!(!observer.alerts.claim(kind, "forms"), "it fired");
    }
}
