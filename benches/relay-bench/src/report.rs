//! Medians, ratios and the markdown table.

use std::fmt::Write as _;

use relay_store_sqlite::Synchronous;

use crate::child::Job as Kind;
use crate::cli::{Args, StoreChoice, Which};
use crate::proc::QUIET;
use crate::sample::Sample;

/// The target of issue 12: ingest at least this share of bare axum's rate in the same run.
const INGEST_TARGET: f64 = 0.40;

impl Kind {
    fn name(self, args: &Args) -> String {
        let store = match args.store {
            StoreChoice::Sqlite => "SqliteStore",
            StoreChoice::Postgres => "PgStore",
        };
        match self.which {
            Which::Gateway if args.no_worker => {
                format!("gateway: axum + RelayLayer + {store} (worker OFF)")
            }
            Which::Gateway => format!("gateway: axum + RelayLayer + {store} + worker"),
            Which::Raw if args.scenario == crate::cli::Scenario::Deliver => {
                format!("raw rusqlite delivery loop, {} deliveries/tx", args.batch)
            }
            Which::Raw => format!("raw rusqlite loop, {} events/tx", args.batch),
            Which::Bare => "bare axum (200 + small JSON)".into(),
            Which::Client => "raw hyper client".into(),
            Which::Publish => format!("in-process publish + {store} + worker"),
            Which::PublishHttp => format!("POST /api/v1/events + {store} + worker"),
        }
    }

    fn sync_label(self) -> &'static str {
        match self.sync {
            Some(Synchronous::Full) => "FULL",
            Some(Synchronous::Normal) => "NORMAL",
            None => "n/a",
        }
    }

    fn unit(self) -> &'static str {
        match self.which {
            Which::Bare => "req/s",
            Which::Raw | Which::Gateway | Which::Publish | Which::PublishHttp => "events/s",
            Which::Client => "req/s",
        }
    }
}

/// Every run's samples, per measurement, in the order first seen.
#[derive(Debug, Default)]
pub struct Results {
    rows: Vec<(Kind, Vec<Sample>)>,
}

impl Results {
    /// Every measurement with its runs' samples.
    pub fn rows(&self) -> &[(Kind, Vec<Sample>)] {
        &self.rows
    }

    /// Records one run's sample.
    pub fn push(&mut self, kind: Kind, sample: Sample) {
        match self.rows.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, samples)) => samples.push(sample),
            None => self.rows.push((kind, vec![sample])),
        }
    }

    fn median(&self, which: Which, sync: Option<Synchronous>) -> Option<f64> {
        let (_, samples) = self
            .rows
            .iter()
            .find(|(k, _)| k.which == which && k.sync == sync)?;
        median_rate(samples)
    }

    /// The markdown report: setup, the table of medians, the ratios.
    pub fn markdown(&self, args: &Args) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}\n", machine());
        let _ = writeln!(
            out,
            "Scenario `ingest`, store `{}`: {} events per measurement, {} keep-alive HTTP/1.1 \
             connections on 127.0.0.1, time limit {} s, {} runs each (median shown), each run \
             in a fresh process. Client and server share one tokio runtime (one worker thread \
             per core) in that process: the load generator's CPU is inside every HTTP number, \
             and in the CPU and RSS figures.\n",
            args.store.name(),
            args.events(),
            args.connections,
            args.time_limit,
            args.runs
        );
        out.push_str("| measurement | synchronous | median | every run | p50 / p99 latency (median run) | peak RSS | notes (median run) |\n");
        out.push_str("|---|---|---:|---|---|---:|---|\n");
        for (kind, samples) in &self.rows {
            let _ = writeln!(out, "{}", row(*kind, samples, args));
        }
        out.push('\n');
        out.push_str("| ratio | value |\n|---|---:|\n");
        let bare = self.median(Which::Bare, None);
        let modes: Vec<Option<Synchronous>> = match args.store {
            StoreChoice::Sqlite => args.modes().into_iter().map(Some).collect(),
            StoreChoice::Postgres => vec![None],
        };
        for sync in modes {
            let label = match sync {
                None => "PostgreSQL",
                Some(_) => Kind {
                    sync,
                    ..Kind::of(Which::Raw)
                }
                .sync_label(),
            };
            let gateway = self.median(Which::Gateway, sync);
            let raw = self.median(Which::Raw, sync);
            if let (Some(g), Some(r)) = (gateway, raw) {
                let _ = writeln!(
                    out,
                    "| gateway / raw loop ({label}) | {:.0}% |",
                    100.0 * g / r
                );
            }
            if let (Some(g), Some(b)) = (gateway, bare) {
                let verdict = if g / b >= INGEST_TARGET {
                    "met"
                } else {
                    "NOT met"
                };
                let _ = writeln!(
                    out,
                    "| gateway ({label}) / bare axum (target >= {:.0}%: {verdict}) | {:.0}% |",
                    100.0 * INGEST_TARGET,
                    100.0 * g / b
                );
            }
        }
        out
    }
}

fn row(kind: Kind, samples: &[Sample], args: &Args) -> String {
    let mid = median_sample(samples);
    let rate = median_rate(samples).unwrap_or(0.0);
    let every: Vec<String> = samples.iter().map(|s| thousands(s.rate)).collect();
    let latency = match (mid.and_then(|s| s.p50_us), mid.and_then(|s| s.p99_us)) {
        (Some(p50), Some(p99)) => format!("{} / {}", millis(p50), millis(p99)),
        _ => "n/a".into(),
    };
    let rss = samples.iter().filter_map(|s| s.peak_rss_kib).max();
    let rss = rss.map_or("n/a".into(), |kib| format!("{} MiB", kib / 1024));
    format!(
        "| {} | {} | **{} {}** | {} | {} | {} | {} |",
        kind.name(args),
        kind.sync_label(),
        thousands(rate),
        kind.unit(),
        every.join(" · "),
        latency,
        rss,
        mid.map_or(String::new(), notes)
    )
}

/// The notes column: counts, failures, CPU, disturbance, WAL, deliveries.
pub fn notes(sample: &Sample) -> String {
    let mut notes = vec![format!(
        "{} done in {:.2} s",
        sample.completed,
        sample.elapsed.as_secs_f64()
    )];
    if let Some(cpu) = sample.cpu {
        // CPU per item holds up better than a rate on a machine shared with other work.
        let per = cpu * sample.elapsed.as_secs_f64() * 1e6 / sample.completed.max(1) as f64;
        notes.push(format!("{cpu:.2} cores busy, {per:.0} CPU-µs each"));
    }
    if sample.failed > 0 {
        let why = sample.first_failure.as_deref().unwrap_or("?");
        notes.push(format!(
            "{} FAILED (first: {})",
            sample.failed,
            why.replace('|', "/")
        ));
    }
    if let Some(commits) = sample.commits.filter(|c| *c > 0) {
        notes.push(format!(
            "{commits} commits ({:.0} done per commit)",
            sample.completed as f64 / commits as f64
        ));
    }
    match sample.others {
        Some(others) if others >= QUIET => notes.push(format!(
            "DISTURBED: other processes used {:.0}% of the CPU",
            others * 100.0
        )),
        Some(others) if others >= 0.01 => notes.push(format!(
            "other processes used {:.0}% of the CPU",
            others * 100.0
        )),
        _ => {}
    }
    if let Some(wal) = sample.wal_bytes {
        notes.push(format!("WAL {} MiB at the end", wal / (1024 * 1024)));
    }
    if let Some(delivered) = sample.delivered {
        notes.push(format!("{delivered} deliveries received"));
    }
    notes.join(", ")
}

/// The sample with the median rate (the lower middle one for an even count).
pub fn median_sample(samples: &[Sample]) -> Option<&Sample> {
    let mut sorted: Vec<&Sample> = samples.iter().collect();
    sorted.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    sorted.get((sorted.len().max(1) - 1) / 2).copied()
}

/// The median rate (the mean of the two middle ones for an even count).
pub fn median_rate(samples: &[Sample]) -> Option<f64> {
    let mut rates: Vec<f64> = samples.iter().map(|s| s.rate).collect();
    rates.sort_by(f64::total_cmp);
    let n = rates.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(rates[n / 2]),
        _ => Some((rates[n / 2 - 1] + rates[n / 2]) / 2.0),
    }
}

/// `1500` µs as `1.5 ms`.
pub fn millis(micros: u32) -> String {
    format!("{:.1} ms", f64::from(micros) / 1000.0)
}

/// `12345.6` as `12,346`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `nproc` and the CPU model, from this process's view.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("Machine: {cores} cores available (nproc), {model}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(rates: &[f64]) -> Vec<Sample> {
        rates
            .iter()
            .map(|&rate| Sample {
                rate,
                ..Sample::default()
            })
            .collect()
    }

    #[test]
    fn medians() {
        assert_eq!(median_rate(&rates(&[3.0, 1.0, 2.0])), Some(2.0));
        assert_eq!(median_rate(&rates(&[4.0, 1.0, 2.0, 3.0])), Some(2.5));
        assert_eq!(median_rate(&[]), None);
        let samples = rates(&[5.0, 1.0, 9.0]);
        assert_eq!(median_sample(&samples).map(|s| s.rate), Some(5.0));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.0), "1,234,567");
    }
}
