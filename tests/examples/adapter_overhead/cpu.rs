//! CPU time spent by the server's threads (this example's `server` threads, actix-server's
//! acceptor and its `actix-rt|…` worker arbiters), from Linux's per-thread `schedstat`.

use std::collections::HashMap;
use std::time::Duration;

/// CPU time used so far by each server thread, by thread id; empty where `/proc` is missing.
#[derive(Debug, Default)]
pub struct Sample(HashMap<String, u64>);

impl Sample {
    pub fn now() -> Self {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return Self::default();
        };
        let read = |path: std::path::PathBuf| std::fs::read_to_string(path).ok();
        let threads = tasks.flatten().filter_map(|task| {
            let name = read(task.path().join("comm"))?;
            if !["server", "actix-server", "actix-rt"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
            {
                return None;
            }
            let stat = read(task.path().join("schedstat"))?;
            let nanos = stat.split_whitespace().next()?.parse().ok()?;
            Some((task.file_name().to_string_lossy().into_owned(), nanos))
        });
        Self(threads.collect())
    }

    /// CPU time the server threads used since `earlier`.
    pub fn since(&self, earlier: &Sample) -> Duration {
        let nanos = self
            .0
            .iter()
            .map(|(thread, now)| now.saturating_sub(earlier.0.get(thread).copied().unwrap_or(0)));
        Duration::from_nanos(nanos.sum())
    }
}
