//! Operational alerts: the gateway's own webhooks about itself, sent to a configured alert
//! destination through the same pipeline (stored, signed with the destination's secret,
//! retried, visible in the dead-letter queue like any delivery).
//!
//! - [`AlertKind::DestinationDisabled`]: a destination answered 410 Gone, or its circuit
//!   opened [`AlertConfig::breaker_opens`] times within the window (the destination is then
//!   disabled too).
//! - [`AlertKind::DeadLetters`]: a destination's dead letters reached
//!   [`AlertConfig::dead_letters`] within the window.
//! - [`AlertKind::SignatureFailures`]: a source's signature failures reached
//!   [`AlertConfig::signature_failures`] within the window (someone probing, or a rotated
//!   secret).
//! - [`AlertKind::QueueLag`]: first attempts have been leased later than
//!   [`AlertConfig::queue_lag`] after their event arrived, without a break, for that long.
//!
//! Each alert (kind and subject) fires at most once per window: a node does not fire it again
//! within a window of its last firing, and the alert event's idempotency key names the window,
//! so the store's dedup keeps nodes sharing a database from sending it twice in one. Counts are
//! kept per process.
//!
//! Alerts are an [observer](crate::observe) of the pipeline ([`AlertObserver`]), added by the
//! builder when alerts are configured; they watch the default tenant's events.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use crate::circuit::CircuitPhase;
use crate::event::AttemptOutcome;
use crate::event::{Event, EventStatus};
use crate::ids::{DeliveryId, EventId, TenantId};
use crate::ingest::outcome::IngestOutcome;
use crate::observe::{AttemptRecorded, CircuitSeen, IngestSeen, Observer};
use crate::relay::{Relay, WeakRelay};
use crate::store::{InsertOutcome, LeasedDelivery, NewDelivery, NewEvent};
use crate::time::Timestamp;

/// The source name alert events are stored under.
pub const ALERT_SOURCE: &str = "relay";
/// The route name alert deliveries are stored under (no configured route: the body is sent
/// as built).
pub const ALERT_ROUTE: &str = "relay.alerts";

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// A destination was disabled.
    DestinationDisabled,
    /// A destination's dead letters reached the threshold.
    DeadLetters,
    /// A source's signature failures reached the threshold.
    SignatureFailures,
    /// The queue has lagged for longer than the threshold.
    QueueLag,
}

impl AlertKind {
    /// The stable name (the event type is `relay.alert.<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DestinationDisabled => "destination_disabled",
            Self::DeadLetters => "dead_letters",
            Self::SignatureFailures => "signature_failures",
            Self::QueueLag => "queue_lag",
        }
    }
}

/// Where alerts go and when they fire. Thresholds left unset turn their alert off (a
/// destination disabled by a 410 always alerts).
///
/// ```
/// use std::time::Duration;
/// use relay_core::alert::AlertConfig;
/// let alerts = AlertConfig::new("ops")
///     .window(Duration::from_secs(3_600))
///     .dead_letters(10)
///     .signature_failures(20)
///     .queue_lag(Duration::from_secs(300))
///     .breaker_opens(3);
/// assert_eq!(alerts.destination, "ops");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertConfig {
    /// The destination alerts are delivered to (signed with its secret).
    pub destination: String,
    /// Each alert fires at most once per window; counts are taken over it.
    pub window: Duration,
    /// Dead letters per destination within the window that fire an alert.
    pub dead_letters: Option<u32>,
    /// Signature failures per source within the window that fire an alert.
    pub signature_failures: Option<u32>,
    /// Queue lag that, sustained that long, fires an alert.
    pub queue_lag: Option<Duration>,
    /// Circuit openings of a destination within the window that disable it (and alert).
    pub breaker_opens: Option<u32>,
}

impl AlertConfig {
    /// Alerts to `destination`, a one-hour window, no thresholds yet.
    pub fn new(destination: impl Into<String>) -> Self {
        Self {
            destination: destination.into(),
            window: Duration::from_secs(3_600),
            dead_letters: None,
            signature_failures: None,
            queue_lag: None,
            breaker_opens: None,
        }
    }

    /// The window.
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_millis(1));
        self
    }

    /// Alert when a destination dead-letters `count` deliveries within the window.
    pub fn dead_letters(mut self, count: u32) -> Self {
        self.dead_letters = Some(count.max(1));
        self
    }

    /// Alert when a source refuses `count` signatures within the window.
    pub fn signature_failures(mut self, count: u32) -> Self {
        self.signature_failures = Some(count.max(1));
        self
    }

    /// Alert when the queue lags by `lag` for `lag`.
    pub fn queue_lag(mut self, lag: Duration) -> Self {
        self.queue_lag = Some(lag);
        self
    }

    /// Disable (and alert about) a destination whose circuit opens `count` times within the
    /// window.
    pub fn breaker_opens(mut self, count: u32) -> Self {
        self.breaker_opens = Some(count.max(1));
        self
    }
}

/// A relay's alert configuration and counters.
#[derive(Debug)]
pub(crate) struct Alerts {
    config: AlertConfig,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    occurrences: HashMap<(AlertKind, String), VecDeque<Instant>>,
    fired: HashMap<(AlertKind, String), Instant>,
    lagging_since: Option<Instant>,
}

impl Alerts {
    pub(crate) fn new(config: AlertConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn config(&self) -> &AlertConfig {
        &self.config
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Counts one occurrence; the count within the window when it reaches `threshold`.
    fn count(&self, kind: AlertKind, subject: &str, threshold: u32) -> Option<u32> {
        let now = Instant::now();
        let mut state = self.state();
        let log = state
            .occurrences
            .entry((kind, subject.to_owned()))
            .or_default();
        log.push_back(now);
        while log
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.config.window)
        {
            log.pop_front();
        }
        let count = u32::try_from(log.len()).unwrap_or(u32::MAX);
        (count >= threshold).then_some(count)
    }

    /// Whether the alert may fire now (not fired within the window); marks it fired.
    fn claim(&self, kind: AlertKind, subject: &str) -> bool {
        let now = Instant::now();
        let mut state = self.state();
        let key = (kind, subject.to_owned());
        if state
            .fired
            .get(&key)
            .is_some_and(|at| now.duration_since(*at) < self.config.window)
        {
            return false;
        }
        state.fired.insert(key, now);
        true
    }
}

/// The observer that counts what alerts watch and raises them (see the [module](self)
/// documentation), for one tenant's relay.
#[derive(Debug)]
pub(crate) struct AlertObserver {
    alerts: Arc<Alerts>,
    /// The relay alerts are stored through (and destinations disabled on).
    relay: WeakRelay,
    /// The tenant whose events it watches.
    tenant: TenantId,
}

impl AlertObserver {
    /// Alerts configured by `config`, raised through `relay`, about `tenant`'s events.
    pub(crate) fn new(config: AlertConfig, relay: WeakRelay, tenant: TenantId) -> Self {
        Self {
            alerts: Arc::new(Alerts::new(config)),
            relay,
            tenant,
        }
    }

    /// Fires `kind` about `subject` unless it fired within the window (in the background).
    fn fire(&self, kind: AlertKind, subject: &str, body: Value) {
        if !self.alerts.claim(kind, subject) {
            return;
        }
        let Some(relay) = self.relay.upgrade() else {
            return;
        };
        let alerts = Arc::clone(&self.alerts);
        let subject = subject.to_owned();
        tokio::spawn(async move { send_alert(&relay, alerts.config(), kind, subject, body).await });
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
            if let Some(relay) = self.relay.upgrade() {
                relay.disable_destination(destination);
            }
            self.alert_destination_disabled(
                destination,
                &format!("circuit opened {count} times within the window"),
            );
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
}

/// Builds the alert event and commits it with its delivery to the alert destination.
async fn send_alert(
    relay: &Relay,
    config: &AlertConfig,
    kind: AlertKind,
    subject: String,
    mut body: Value,
) {
    if relay.catalog().destination(&config.destination).is_none() {
        tracing::warn!(alert = kind.as_str(), destination = %config.destination, "alert destination does not exist; alert dropped");
        return;
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
        }],
    };
    match relay.store().insert_event(new).await {
        Ok(InsertOutcome::Inserted) => {
            tracing::warn!(alert = kind.as_str(), subject, "alert raised");
            relay.wake_workers();
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reach_the_threshold_within_the_window_and_fire_once() {
        let alerts = Alerts::new(
            AlertConfig::new("ops")
                .window(Duration::from_millis(200))
                .dead_letters(3),
        );
        let kind = AlertKind::DeadLetters;
        assert_eq!(alerts.count(kind, "crm", 3), None);
        assert_eq!(alerts.count(kind, "crm", 3), None);
        assert_eq!(alerts.count(kind, "other", 3), None);
        assert_eq!(alerts.count(kind, "crm", 3), Some(3));
        assert!(alerts.claim(kind, "crm"));
        assert!(!alerts.claim(kind, "crm"));
        assert!(alerts.claim(kind, "other"));
        std::thread::sleep(Duration::from_millis(220));
        assert_eq!(
            alerts.count(kind, "crm", 3),
            None,
            "old ones left the window"
        );
        assert!(alerts.claim(kind, "crm"), "a new window");
    }
}
