//! The per-process counts behind alerts: occurrences within the window, and when each alert
//! last fired.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use super::{AlertConfig, AlertKind};

/// A relay's alert configuration and counters.
#[derive(Debug)]
pub(super) struct Alerts {
    config: AlertConfig,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
pub(super) struct State {
    occurrences: HashMap<(AlertKind, String), VecDeque<Instant>>,
    fired: HashMap<(AlertKind, String), Instant>,
    pub(super) lagging_since: Option<Instant>,
}

impl Alerts {
    pub(super) fn new(config: AlertConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State::default()),
        }
    }

    pub(super) fn config(&self) -> &AlertConfig {
        &self.config
    }

    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Counts one occurrence; the count within the window when it reaches `threshold`.
    pub(super) fn count(&self, kind: AlertKind, subject: &str, threshold: u32) -> Option<u32> {
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
    pub(super) fn claim(&self, kind: AlertKind, subject: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
