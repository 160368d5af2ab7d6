//! [`FailureCap`]: at most N records per (tenant, source) and minute.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::ids::TenantId;
use crate::model::time::Timestamp;

/// Windows kept before the ones of past minutes are swept out.
const SWEEP_AT: usize = 1024;

/// Whether a refused signature is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Store it.
    Record,
    /// The source's records of this minute are used up: count it only.
    Drop,
}

/// One (tenant, source)'s current minute.
#[derive(Debug, Clone, Copy)]
struct Window {
    minute: i64,
    recorded: u32,
}

/// Counts the records stored per (tenant, source) in the current minute. Only sources that
/// exist reach it (a refused signature needs a resolved source), and windows of past minutes
/// are swept out once there are many, so its memory is bounded by the sources.
#[derive(Debug, Default)]
pub(crate) struct FailureCap {
    windows: Mutex<HashMap<(TenantId, String), Window>>,
}

impl FailureCap {
    /// Decides for one more refused signature of `source` at `now`, under `per_minute`.
    pub(crate) fn admit(
        &self,
        tenant: &TenantId,
        source: &str,
        now: Timestamp,
        per_minute: u32,
    ) -> Admission {
        let minute = now.as_millis().div_euclid(60_000);
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, window| window.minute >= minute);
        }
        let window = windows
            .entry((tenant.clone(), source.to_owned()))
            .or_insert(Window {
                minute,
                recorded: 0,
            });
        if window.minute != minute {
            *window = Window {
                minute,
                recorded: 0,
            };
        }
        if window.recorded < per_minute {
            window.recorded += 1;
            Admission::Record
        } else {
            Admission::Drop
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.windows.lock().map(|w| w.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_n_per_source_and_minute() {
        let cap = FailureCap::default();
        let tenant = TenantId::default();
        let at = |ms| Timestamp::from_millis(ms);
        let admitted = (0..1_000)
            .filter(|i| cap.admit(&tenant, "github", at(*i), 10) == Admission::Record)
            .count();
        assert_eq!(admitted, 10);
        assert_eq!(cap.admit(&tenant, "stripe", at(5), 10), Admission::Record);
        let other = TenantId::new("acme");
        assert_eq!(cap.admit(&other, "github", at(5), 10), Admission::Record);
        assert_eq!(
            cap.admit(&tenant, "github", at(60_000), 10),
            Admission::Record
        );
        assert_eq!(cap.admit(&tenant, "github", at(60_001), 0), Admission::Drop);
    }

    #[test]
    fn past_minutes_are_swept() {
        let cap = FailureCap::default();
        let tenant = TenantId::default();
        for i in 0..SWEEP_AT {
            cap.admit(&tenant, &format!("s{i}"), Timestamp::from_millis(0), 1);
        }
        cap.admit(&tenant, "late", Timestamp::from_millis(120_000), 1);
        assert_eq!(cap.len(), 1);
    }
}
