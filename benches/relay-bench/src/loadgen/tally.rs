//! What `relay-bench load` saw: answers by status, transport errors by kind, latencies; and
//! the report it prints (text, or JSON with `--json`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::load::quantile;

/// Counts of one run (or one task of it, merged at the end).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Requests sent (or, open loop, due).
    pub sent: u64,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests without an answer, by kind (`connect`, `timeout`, `no answer`, …).
    pub errors: BTreeMap<String, u64>,
    /// Latency of every 2xx answer, in microseconds.
    pub latencies_us: Vec<u32>,
}

impl Tally {
    /// Counts an answer with `status` after `latency`.
    pub fn answer(&mut self, status: u16, latency: Duration) {
        *self.statuses.entry(status).or_insert(0) += 1;
        if (200..300).contains(&status) {
            let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
            self.latencies_us.push(micros);
        }
    }

    /// Counts a request that got no answer.
    pub fn error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_owned()).or_insert(0) += 1;
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: Self) {
        self.sent += other.sent;
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_insert(0) += n;
        }
        for (kind, n) in other.errors {
            *self.errors.entry(kind).or_insert(0) += n;
        }
        self.latencies_us.extend(other.latencies_us);
    }

    /// Answers with a 2xx status.
    pub fn accepted(&self) -> u64 {
        (self.statuses.iter())
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests sent that neither got an answer nor an error (must be 0).
    pub fn unaccounted(&self) -> u64 {
        let answered: u64 = self.statuses.values().sum();
        let errors: u64 = self.errors.values().sum();
        self.sent.saturating_sub(answered + errors)
    }
}

/// A finished run: its tally, how long it sent, and how it was set up (for the report).
#[derive(Debug, Clone)]
pub struct Summary {
    /// The counts.
    pub tally: Tally,
    /// From the first request to the last answer.
    pub elapsed: Duration,
    /// Where the events went.
    pub url: String,
    /// The signing scheme's name.
    pub scheme: &'static str,
    /// `closed loop, C connections` or `open loop, R/s over up to C connections`.
    pub mode: String,
}

impl Summary {
    fn percentile_ms(&self, q: f64) -> Option<f64> {
        let mut values = self.tally.latencies_us.clone();
        quantile(&mut values, q).map(|us| f64::from(us) / 1000.0)
    }

    fn per_second(&self, n: u64) -> f64 {
        n as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The report as JSON (for scripts).
    pub fn to_json(&self) -> serde_json::Value {
        let t = &self.tally;
        let statuses: BTreeMap<String, u64> = (t.statuses.iter())
            .map(|(s, n)| (s.to_string(), *n))
            .collect();
        let non_2xx: BTreeMap<String, u64> = (t.statuses.iter())
            .filter(|(s, _)| !(200..300).contains(*s))
            .map(|(s, n)| (s.to_string(), *n))
            .collect();
        json!({
            "url": self.url,
            "scheme": self.scheme,
            "mode": self.mode,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "sent": t.sent,
            "accepted": t.accepted(),
            "accepted_per_s": self.per_second(t.accepted()),
            "statuses": statuses,
            "non_2xx": non_2xx,
            "errors": t.errors,
            "unaccounted": t.unaccounted(),
            "latency_ms": {
                "p50": self.percentile_ms(0.50),
                "p99": self.percentile_ms(0.99),
                "p999": self.percentile_ms(0.999),
            },
        })
    }

    /// The report as text.
    pub fn to_text(&self) -> String {
        let t = &self.tally;
        let ms = |q| {
            self.percentile_ms(q)
                .map_or("-".into(), |v| format!("{v:.2} ms"))
        };
        let mut out = format!(
            "relay-bench load: {} ({}), {}, {:.1} s\n\
             sent {}, 2xx {}, non-2xx {}, no answer {}\n\
             throughput: {:.1} accepted/s ({:.1} sent/s)\n\
             latency of 2xx answers: p50 {}, p99 {}, p999 {}\n",
            self.url,
            self.scheme,
            self.mode,
            self.elapsed.as_secs_f64(),
            t.sent,
            t.accepted(),
            t.statuses.values().sum::<u64>() - t.accepted(),
            t.errors.values().sum::<u64>(),
            self.per_second(t.accepted()),
            self.per_second(t.sent),
            ms(0.50),
            ms(0.99),
            ms(0.999),
        );
        let non_2xx: Vec<_> = (t.statuses.iter())
            .filter(|(s, _)| !(200..300).contains(*s))
            .collect();
        if !non_2xx.is_empty() {
            out.push_str("non-2xx answers by status:\n");
            for (status, n) in non_2xx {
                out.push_str(&format!("  {status}: {n}\n"));
            }
        }
        if !t.errors.is_empty() {
            out.push_str("requests without an answer:\n");
            for (kind, n) in &t.errors {
                out.push_str(&format!("  {kind}: {n}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_non_2xx_are_listed_by_status() {
        let mut a = Tally {
            sent: 2,
            ..Tally::default()
        };
        a.answer(200, Duration::from_millis(2));
        a.answer(401, Duration::from_millis(1));
        let mut b = Tally {
            sent: 3,
            ..Tally::default()
        };
        b.answer(202, Duration::from_millis(4));
        b.answer(401, Duration::from_millis(1));
        b.error("timeout");
        a.merge(b);
        assert_eq!((a.sent, a.accepted(), a.unaccounted()), (5, 2, 0));
        assert_eq!(a.latencies_us.len(), 2, "only 2xx latencies");
        let summary = Summary {
            tally: a,
            elapsed: Duration::from_secs(2),
            url: "http://127.0.0.1:1/webhooks/x".into(),
            scheme: "github",
            mode: "closed loop, 2 connections".into(),
        };
        let json = summary.to_json();
        assert_eq!(json["non_2xx"], json!({"401": 2}));
        assert_eq!(json["accepted_per_s"], 1.0);
        assert_eq!(json["errors"], json!({"timeout": 1}));
        let text = summary.to_text();
        assert!(text.contains("  401: 2\n"), "{text}");
        assert!(text.contains("  timeout: 1\n"), "{text}");
        assert!(
            text.contains("sent 5, 2xx 2, non-2xx 2, no answer 1"),
            "{text}"
        );
    }
}
