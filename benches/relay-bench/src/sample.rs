//! One measurement's result, and the line a child process hands it back on.

use std::time::Duration;

use crate::load::{LoadReport, quantile};

/// What one run of one measurement produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// Completed events (or requests) per second.
    pub rate: f64,
    /// Completed events (or requests).
    pub completed: u64,
    /// Failed requests.
    pub failed: u64,
    /// How long it took.
    pub elapsed: Duration,
    /// Median request latency in µs (HTTP measurements only).
    pub p50_us: Option<u32>,
    /// 99th percentile request latency in µs (HTTP measurements only).
    pub p99_us: Option<u32>,
    /// 99.9th percentile latency in µs (open-loop measurements).
    pub p999_us: Option<u32>,
    /// CPU cores the measuring process kept busy during the measurement (client included).
    pub cpu: Option<f64>,
    /// How many events (or requests) the measurement set out to complete.
    pub expected: Option<u64>,
    /// RSS at the start and at the end of the measurement, in KiB (backlog).
    pub rss_start_kib: Option<u64>,
    /// See [`Sample::rss_start_kib`].
    pub rss_end_kib: Option<u64>,
    /// Peak RSS of the measuring process (client included), in KiB.
    pub peak_rss_kib: Option<u64>,
    /// SQLite transactions committed (gateway and raw loop).
    pub commits: Option<u64>,
    /// Size of the `-wal` file when the load ended (gateway and raw loop).
    pub wal_bytes: Option<u64>,
    /// Deliveries the receiver got while the load ran (gateway only).
    pub delivered: Option<u64>,
    /// The share of the machine's CPU that other processes used during the measurement.
    pub others: Option<f64>,
    /// The first failure seen.
    pub first_failure: Option<String>,
}

/// The prefix of the line a child prints its sample on.
const LINE_PREFIX: &str = "relay-bench-sample";

impl Sample {
    /// A sample from what the load generator saw.
    pub fn from_load(mut load: LoadReport) -> Self {
        Self {
            rate: load.rate(),
            completed: load.accepted,
            failed: load.failed,
            first_failure: load.first_failure.take(),
            elapsed: load.elapsed,
            p50_us: quantile(&mut load.latencies_us, 0.50),
            p99_us: quantile(&mut load.latencies_us, 0.99),
            p999_us: quantile(&mut load.latencies_us, 0.999),
            ..Self::default()
        }
    }

    /// One line: `relay-bench-sample key=value …`, the failure (if any) last and to the end.
    pub fn to_line(&self) -> String {
        fn opt<T: ToString>(value: Option<T>) -> String {
            value.map_or_else(|| "-".into(), |v| v.to_string())
        }
        let mut line = format!(
            "{LINE_PREFIX} rate={} completed={} failed={} elapsed_ns={} p50_us={} p99_us={} \
             rss_kib={} commits={} wal_bytes={} delivered={} others={} p999_us={} cpu={} \
             expected={} rss_start_kib={} rss_end_kib={}",
            self.rate,
            self.completed,
            self.failed,
            self.elapsed.as_nanos(),
            opt(self.p50_us),
            opt(self.p99_us),
            opt(self.peak_rss_kib),
            opt(self.commits),
            opt(self.wal_bytes),
            opt(self.delivered),
            opt(self.others),
            opt(self.p999_us),
            opt(self.cpu),
            opt(self.expected),
            opt(self.rss_start_kib),
            opt(self.rss_end_kib),
        );
        if let Some(failure) = &self.first_failure {
            line.push_str(" failure=");
            line.push_str(&failure.replace(['\n', '\r'], " "));
        }
        line
    }

    /// Parses [`Sample::to_line`]'s line out of a child's output.
    pub fn from_output(output: &str) -> Option<Self> {
        let line = output.lines().find_map(|l| l.strip_prefix(LINE_PREFIX))?;
        let (fields, failure) = match line.split_once(" failure=") {
            Some((fields, failure)) => (fields, Some(failure.to_owned())),
            None => (line, None),
        };
        let mut sample = Self {
            first_failure: failure,
            ..Self::default()
        };
        for field in fields.split_whitespace() {
            let (key, value) = field.split_once('=')?;
            let some = |v: &str| (v != "-").then(|| v.to_owned());
            match key {
                "rate" => sample.rate = value.parse().ok()?,
                "completed" => sample.completed = value.parse().ok()?,
                "failed" => sample.failed = value.parse().ok()?,
                "elapsed_ns" => sample.elapsed = Duration::from_nanos(value.parse().ok()?),
                "p50_us" => sample.p50_us = some(value).and_then(|v| v.parse().ok()),
                "p99_us" => sample.p99_us = some(value).and_then(|v| v.parse().ok()),
                "rss_kib" => sample.peak_rss_kib = some(value).and_then(|v| v.parse().ok()),
                "commits" => sample.commits = some(value).and_then(|v| v.parse().ok()),
                "wal_bytes" => sample.wal_bytes = some(value).and_then(|v| v.parse().ok()),
                "delivered" => sample.delivered = some(value).and_then(|v| v.parse().ok()),
                "others" => sample.others = some(value).and_then(|v| v.parse().ok()),
                "p999_us" => sample.p999_us = some(value).and_then(|v| v.parse().ok()),
                "cpu" => sample.cpu = some(value).and_then(|v| v.parse().ok()),
                "expected" => sample.expected = some(value).and_then(|v| v.parse().ok()),
                "rss_start_kib" => {
                    sample.rss_start_kib = some(value).and_then(|v| v.parse().ok());
                }
                "rss_end_kib" => sample.rss_end_kib = some(value).and_then(|v| v.parse().ok()),
                _ => {}
            }
        }
        Some(sample)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_survives_its_line() {
        let sample = Sample {
            rate: 12345.5,
            completed: 50_000,
            failed: 2,
            elapsed: Duration::from_millis(4050),
            p50_us: Some(1500),
            p99_us: None,
            peak_rss_kib: Some(100_000),
            commits: Some(900),
            wal_bytes: None,
            delivered: Some(7),
            others: Some(0.03),
            p999_us: Some(9000),
            cpu: Some(1.5),
            expected: Some(50_000),
            rss_start_kib: None,
            rss_end_kib: Some(3),
            first_failure: Some("503: {\"error\":\"unavailable\"}\nmore".into()),
        };
        let output = format!("noise\n{}\n", sample.to_line());
        let parsed = Sample::from_output(&output).unwrap();
        assert_eq!(
            parsed.first_failure.as_deref(),
            Some("503: {\"error\":\"unavailable\"} more")
        );
        assert_eq!(
            parsed,
            Sample {
                first_failure: parsed.first_failure.clone(),
                ..sample
            }
        );
        assert_eq!(Sample::from_output("nothing here"), None);
    }
}
