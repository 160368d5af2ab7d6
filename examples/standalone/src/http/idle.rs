//! Whether a connection is serving a request, and since when it has not been.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

/// The requests of one connection in flight, and when the last one started or ended.
#[derive(Debug)]
pub(super) struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Activity {
    /// A connection that has just been opened.
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
        })
    }

    /// A request starts; it ends when the returned guard is dropped.
    pub(super) fn start(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.touch();
        Busy(Arc::clone(self))
    }

    /// Since when no request has been in flight; `None` while one is.
    pub(super) fn idle_since(&self) -> Option<Instant> {
        let last = *self.last.lock().unwrap_or_else(PoisonError::into_inner);
        (self.in_flight.load(Ordering::SeqCst) == 0).then_some(last)
    }

    fn touch(&self) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }
}

/// A request in flight.
pub(super) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_only_without_requests_in_flight() {
        let activity = Activity::new();
        let opened = activity.idle_since().expect("idle when opened");
        let first = activity.start();
        let second = activity.start();
        assert_eq!(activity.idle_since(), None);
        drop(first);
        assert_eq!(activity.idle_since(), None, "one is still in flight");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let before_end = Instant::now();
        drop(second);
        let since = activity.idle_since().expect("idle again");
        assert!(
            since >= before_end && since > opened,
            "idle since the last request ended"
        );
    }
}
