//! What `/proc/self` tells about this process: peak RSS, and whether the store's threads
//! are gone. Linux only; elsewhere the answers are empty.

use std::path::Path;
use std::time::{Duration, Instant};

/// Resets the peak RSS (`VmHWM`) to the current RSS, so the next [`peak_rss_kib`] covers only
/// what follows. Returns whether the kernel allowed it.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The peak resident set size (`VmHWM`) in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The current resident set size (`VmRSS`) in KiB.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Free bytes on the file system holding `dir` (`df -Pk`), for callers about to fill it.
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let output = std::process::Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let kib: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// This process's CPU time from a starting point, as the number of cores it kept busy.
#[derive(Debug, Clone, Copy)]
pub struct CpuClock {
    ticks: Option<u64>,
    started: Instant,
}

impl CpuClock {
    /// Starts measuring.
    pub fn start() -> Self {
        Self {
            ticks: own_ticks(),
            started: Instant::now(),
        }
    }

    /// CPU time used since [`CpuClock::start`] over the wall time since then (1.0 = one core
    /// busy all along). Clock ticks are taken to be 10 ms (`USER_HZ` = 100 on Linux).
    pub fn cores(&self) -> Option<f64> {
        let used = own_ticks()?.saturating_sub(self.ticks?);
        Some(used as f64 / 100.0 / self.started.elapsed().as_secs_f64().max(1e-3))
    }
}

/// How many threads of this process have a name starting with `prefix`.
fn threads_named(prefix: &str) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

/// Waits (at most `timeout`) until every dropped `SqliteStore`'s writer and checkpoint
/// threads have finished (its last checkpoint included), so that one measurement's disk
/// work does not spill into the next.
pub async fn wait_store_threads_gone(timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while threads_named("relay-sqlite") > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The size of the WAL file of the database at `db`.
pub fn wal_bytes(db: &Path) -> Option<u64> {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).ok().map(|m| m.len())
}

/// CPU time (clock ticks) of the whole machine: (user + nice + system, total).
/// Interrupt and softirq time is left out: loopback networking is charged there.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    let busy = fields.iter().take(3).sum();
    Some((busy, total))
}

/// CPU time (clock ticks, user + system) of this process, its finished threads included.
fn own_ticks() -> Option<u64> {
    stat_ticks("/proc/self/stat")
}

/// CPU time (clock ticks of 10 ms, user + system) of the process `pid` (a child, say), its
/// finished threads included.
pub fn ticks_of(pid: u32) -> Option<u64> {
    stat_ticks(&format!("/proc/{pid}/stat"))
}

/// utime + stime of the `/proc/…/stat` file at `path`.
fn stat_ticks(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the `(comm)`, which may contain spaces: state is field 3, utime 14.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A snapshot of CPU time, to tell how much other processes used during a measurement.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    machine_busy: u64,
    machine_total: u64,
    own: u64,
}

impl CpuSnapshot {
    /// Now.
    pub fn take() -> Option<Self> {
        let (machine_busy, machine_total) = machine_ticks()?;
        Some(Self {
            machine_busy,
            machine_total,
            own: own_ticks()?,
        })
    }

    /// The share (0.0 to 1.0) of the machine's CPU time since `self` that OTHER processes
    /// used.
    pub fn others_since(&self) -> Option<f64> {
        self.others_besides(0)
    }

    /// [`CpuSnapshot::others_since`], not counting `ours` clock ticks either (what this
    /// process's children used meanwhile).
    pub fn others_besides(&self, ours: u64) -> Option<f64> {
        let now = Self::take()?;
        let total = now.machine_total.saturating_sub(self.machine_total).max(1);
        let busy = now.machine_busy.saturating_sub(self.machine_busy);
        let own = now.own.saturating_sub(self.own) + ours;
        Some(busy.saturating_sub(own) as f64 / total as f64)
    }
}

/// Waits (at most `timeout`) until other processes use less than 10% of the machine over
/// half a second, so that they (a build, say) do not share the cores with a measurement.
/// Returns the share last seen (0.0 to 1.0), `None` without `/proc`.
pub async fn wait_quiet(timeout: Duration) -> Option<f64> {
    let deadline = Instant::now() + timeout;
    loop {
        let before = CpuSnapshot::take()?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let others = before.others_since()?;
        if others < QUIET || Instant::now() >= deadline {
            return Some(others);
        }
    }
}

/// Other processes may use less than this share of the machine for it to count as quiet.
pub const QUIET: f64 = 0.10;
