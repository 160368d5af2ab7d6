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
//! - [`AlertKind::AgentOffline`]: an agent a destination is bound to has been connected to
//!   no node for [`AlertConfig::agent_offline`] (its deliveries wait meanwhile).
//!
//! Each alert (kind and subject) fires at most once per window: a node does not fire it again
//! within a window of its last firing, and the alert event's idempotency key names the window,
//! so the store's dedup keeps nodes sharing a database from sending it twice in one. Counts are
//! kept per process.
//!
//! Alerts are an [observer](crate::observe) of the pipeline (`observer.rs`), added by the
//! builder when alerts are configured; they watch the default tenant's events.

mod counts;
pub(crate) mod observer;

use std::time::Duration;

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
    /// An agent a destination is bound to has been offline for longer than the threshold.
    AgentOffline,
}

impl AlertKind {
    /// The stable name (the event type is `relay.alert.<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DestinationDisabled => "destination_disabled",
            Self::DeadLetters => "dead_letters",
            Self::SignatureFailures => "signature_failures",
            Self::QueueLag => "queue_lag",
            Self::AgentOffline => "agent_offline",
        }
    }
}

/// Where alerts go and when they fire. Thresholds left unset turn their alert off (a
/// destination disabled by a 410 always alerts).
///
/// ```
/// use std::time::Duration;
/// use relay_core::control::alert::AlertConfig;
/// let alerts = AlertConfig::new("ops")
///     .window(Duration::from_secs(3_600))
///     .dead_letters(10)
///     .signature_failures(20)
///     .queue_lag(Duration::from_secs(300))
///     .breaker_opens(3);
/// assert_eq!(alerts.destination, "ops");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// How long an agent a destination is bound to may be connected to no node before it
    /// alerts.
    pub agent_offline: Option<Duration>,
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
            agent_offline: None,
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

    /// Alert when an agent a destination is bound to has been connected to no node for
    /// `after`.
    pub fn agent_offline(mut self, after: Duration) -> Self {
        self.agent_offline = Some(after);
        self
    }

    /// Disable (and alert about) a destination whose circuit opens `count` times within the
    /// window.
    pub fn breaker_opens(mut self, count: u32) -> Self {
        self.breaker_opens = Some(count.max(1));
        self
    }
}
