//! Metrics, recorded through the [`metrics`] facade by the relay's built-in metrics
//! [observer](crate::observe).
//!
//! relay-core only records; whichever recorder the application installs collects (without
//! one, recording costs next to nothing). `relay_axum::metrics` installs a Prometheus
//! recorder and serves `GET /metrics`.
//!
//! Label values are bounded by the configuration: source and destination names come from the
//! catalog (a request to a source that does not exist is counted under [`UNKNOWN_SOURCE`]),
//! outcomes from fixed lists. Event ids, request ids and URLs are never labels.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | [`INGEST_TOTAL`] | counter | `source`, `outcome` ([`IngestOutcome::code`]) |
//! | [`INGEST_DURATION`] | histogram (seconds) | `source` |
//! | [`ATTEMPTS_TOTAL`] | counter | `destination`, `result` ([`AttemptOutcome::as_str`]) |
//! | [`ATTEMPT_DURATION`] | histogram (seconds) | `destination` |
//! | [`DELIVERY_LATENCY`] | histogram (seconds) | `destination` |
//! | [`DEAD_LETTERS_TOTAL`] | counter | `destination` |
//! | [`QUEUE_DEPTH`] | gauge | none |
//! | [`CIRCUIT_OPEN`] | gauge (1 or 0) | `destination` |
//! | [`DESTINATIONS_PAUSED_TOTAL`] | counter | `destination`, `by` |
//! | [`STORE_WRITES_FAILING`] | gauge (1 or 0) | none |
//! | [`CONFIG_RELOADS_TOTAL`] | counter | `outcome` (`applied`, `refused`) |
//! | [`SIGNATURE_FAILURES_TOTAL`] | counter | `source`, `reason` ([`SignatureFailureReason::as_str`](crate::ingest::sig_failure::SignatureFailureReason::as_str)), `recorded` (`true`, or `false` when not stored) |

use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};

use crate::deliver::circuit::CircuitPhase;
use crate::ingest::outcome::IngestOutcome;
use crate::model::event::AttemptOutcome;
use crate::observe::{
    AttemptRecorded, AttemptSeen, CircuitSeen, IngestSeen, Observer, RefusedSeen,
    SignatureFailureSeen,
};

/// Ingest requests answered, by source and outcome.
pub const INGEST_TOTAL: &str = "relay_ingest_total";
/// Time spent in the ingest pipeline (verify, route, commit), by source.
pub const INGEST_DURATION: &str = "relay_ingest_duration_seconds";
/// Delivery attempts made, by destination and result (`delivered`, `retrying`,
/// `dead_lettered`).
pub const ATTEMPTS_TOTAL: &str = "relay_attempts_total";
/// How long one attempt took (transform, send, answer), by destination.
pub const ATTEMPT_DURATION: &str = "relay_attempt_duration_seconds";
/// From the event's receipt to its delivery (retries and waits included), by destination.
pub const DELIVERY_LATENCY: &str = "relay_delivery_latency_seconds";
/// Deliveries moved to the dead-letter queue, by destination.
pub const DEAD_LETTERS_TOTAL: &str = "relay_dead_letters_total";
/// Deliveries pending or in flight in the store (every tenant), refreshed by the worker.
pub const QUEUE_DEPTH: &str = "relay_queue_depth";
/// 1 while a destination's circuit is open or half-open, 0 while it is closed.
pub const CIRCUIT_OPEN: &str = "relay_circuit_open";

/// Destinations the pipeline paused by itself, by destination and `by` (`410`: it answered
/// 410 Gone; `circuit breaker`: its circuit opened `[alerts] breaker_opens` times). An
/// operator's disable is not counted: it is in the audit log.
pub const DESTINATIONS_PAUSED_TOTAL: &str = "relay_destinations_paused_total";
/// 1 while the store's writes are failing (the last one failed and none succeeded since: the
/// state `GET /readyz` answers 503 `writes_failing` for), 0 once one succeeds again.
pub const STORE_WRITES_FAILING: &str = "relay_store_writes_failing";
/// Refused signatures, by source, reason and whether a record of it was stored (`false`:
/// over the per-minute cap of records).
pub const SIGNATURE_FAILURES_TOTAL: &str = "relay_signature_failures_total";

/// Configuration reloads, by outcome (`applied`, `refused`).
pub const CONFIG_RELOADS_TOTAL: &str = "relay_config_reloads_total";

/// The `source` label of a request to a source that does not exist (the name in the URL is
/// not used: it would let anyone create label values).
pub const UNKNOWN_SOURCE: &str = "(unknown)";

/// Describes every metric (help text and unit) to the installed recorder. Call it once after
/// installing a recorder; recording works without it.
pub fn describe() {
    describe_counter!(
        SIGNATURE_FAILURES_TOTAL,
        Unit::Count,
        "Refused signatures, by source, reason and whether a record of it was stored."
    );
    describe_counter!(
        INGEST_TOTAL,
        Unit::Count,
        "Ingest requests answered, by source and outcome."
    );
    describe_histogram!(
        INGEST_DURATION,
        Unit::Seconds,
        "Time spent in the ingest pipeline, by source."
    );
    describe_counter!(
        ATTEMPTS_TOTAL,
        Unit::Count,
        "Delivery attempts, by destination and result."
    );
    describe_histogram!(
        ATTEMPT_DURATION,
        Unit::Seconds,
        "Duration of one delivery attempt, by destination."
    );
    describe_histogram!(
        DELIVERY_LATENCY,
        Unit::Seconds,
        "From the event's receipt to its delivery, by destination."
    );
    describe_counter!(
        DEAD_LETTERS_TOTAL,
        Unit::Count,
        "Deliveries dead-lettered, by destination."
    );
    describe_gauge!(
        QUEUE_DEPTH,
        Unit::Count,
        "Deliveries pending or in flight in the store."
    );
    describe_gauge!(
        CIRCUIT_OPEN,
        "1 while the destination's circuit is open or half-open, else 0."
    );
    describe_counter!(
        DESTINATIONS_PAUSED_TOTAL,
        Unit::Count,
        "Destinations paused by the pipeline (410 Gone, circuit breaker), by destination and cause."
    );
    describe_gauge!(
        STORE_WRITES_FAILING,
        "1 while writes to the store are failing, else 0."
    );
    describe_counter!(
        CONFIG_RELOADS_TOTAL,
        Unit::Count,
        "Configuration reloads, by outcome (applied, refused)."
    );
}

/// Counts a destination the pipeline paused by itself; `by` is one of the fixed causes
/// (`410`, `circuit breaker`).
pub fn record_destination_paused(destination: &str, by: &'static str) {
    counter!(DESTINATIONS_PAUSED_TOTAL, "destination" => destination.to_owned(), "by" => by)
        .increment(1);
}

/// Sets whether the store's writes are failing (called when that changes).
pub fn set_store_writes_failing(failing: bool) {
    gauge!(STORE_WRITES_FAILING).set(if failing { 1.0 } else { 0.0 });
}

/// Counts a configuration reload: `applied`, or `refused` (the old configuration stays).
pub fn record_config_reload(applied: bool) {
    let outcome = if applied { "applied" } else { "refused" };
    counter!(CONFIG_RELOADS_TOTAL, "outcome" => outcome).increment(1);
}

/// Counts an ingest answer and, when the pipeline ran (`elapsed` is `Some`), its duration.
/// `source` must be a configured source's name or [`UNKNOWN_SOURCE`].
pub fn record_ingest(source: &str, outcome: &IngestOutcome, elapsed: Option<Duration>) {
    counter!(INGEST_TOTAL, "source" => source.to_owned(), "outcome" => outcome.code()).increment(1);
    if let Some(elapsed) = elapsed {
        histogram!(INGEST_DURATION, "source" => source.to_owned()).record(elapsed.as_secs_f64());
    }
}

/// Counts a finished attempt and its duration.
pub fn record_attempt(destination: &str, outcome: AttemptOutcome, elapsed: Duration) {
    counter!(ATTEMPTS_TOTAL, "destination" => destination.to_owned(), "result" => outcome.as_str())
        .increment(1);
    histogram!(ATTEMPT_DURATION, "destination" => destination.to_owned())
        .record(elapsed.as_secs_f64());
}

/// Counts a delivery recorded as dead-lettered.
pub fn record_dead_letter(destination: &str) {
    counter!(DEAD_LETTERS_TOTAL, "destination" => destination.to_owned()).increment(1);
}

/// Records how long an event took from receipt to its delivery to `destination`.
pub fn record_delivery_latency(destination: &str, latency: Duration) {
    histogram!(DELIVERY_LATENCY, "destination" => destination.to_owned())
        .record(latency.as_secs_f64());
}

/// Sets the queue depth gauge.
pub fn set_queue_depth(depth: u64) {
    // A gauge is an f64: exact up to 2^53, far past any queue.
    #[allow(clippy::cast_precision_loss)]
    gauge!(QUEUE_DEPTH).set(depth as f64);
}

/// Sets a destination's circuit gauge from the phase last seen.
pub fn set_circuit(destination: &str, phase: CircuitPhase) {
    let open = if phase == CircuitPhase::Closed {
        0.0
    } else {
        1.0
    };
    gauge!(CIRCUIT_OPEN, "destination" => destination.to_owned()).set(open);
}

/// The observer that records the metrics above (every relay has it).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Metrics;

/// The `source` label of a request: its source's name, or [`UNKNOWN_SOURCE`].
fn source_label(source: &str, known: bool) -> &str {
    if known { source } else { UNKNOWN_SOURCE }
}

impl Observer for Metrics {
    fn on_ingest(&self, ingest: &IngestSeen<'_>) {
        let source = source_label(ingest.source, ingest.source_known);
        record_ingest(source, ingest.outcome, Some(ingest.elapsed));
    }

    fn on_refused(&self, refused: &RefusedSeen<'_>) {
        let source = source_label(refused.source, refused.source_known);
        record_ingest(source, refused.outcome, None);
    }

    fn on_signature_failure(&self, failure: &SignatureFailureSeen<'_>) {
        counter!(
            SIGNATURE_FAILURES_TOTAL,
            "source" => failure.source.to_owned(),
            "reason" => failure.reason.as_str(),
            "recorded" => if failure.recorded { "true" } else { "false" }
        )
        .increment(1);
    }

    fn on_attempt(&self, attempt: &AttemptSeen<'_>) {
        record_attempt(attempt.destination, attempt.outcome, attempt.elapsed);
    }

    fn on_attempt_recorded(&self, recorded: &AttemptRecorded<'_>) {
        match recorded.outcome {
            AttemptOutcome::Delivered => {
                record_delivery_latency(recorded.destination, recorded.since_received);
            }
            AttemptOutcome::DeadLettered => record_dead_letter(recorded.destination),
            AttemptOutcome::Retrying => {}
        }
    }

    fn on_circuit(&self, circuit: &CircuitSeen<'_>) {
        set_circuit(circuit.destination, circuit.phase);
    }

    fn on_queue_depth(&self, depth: u64) {
        set_queue_depth(depth);
    }
}

#[cfg(test)]
mod tests {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use super::*;

    /// Runs `record` against a fresh recorder; returns every series as
    /// `name{k=v,…} kind value`, sorted.
    fn recorded(record: impl FnOnce()) -> Vec<String> {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, record);
        let mut seen: Vec<String> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let key = key.key();
                let labels: Vec<String> = key
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                let value = match value {
                    DebugValue::Counter(n) => format!("counter {n}"),
                    DebugValue::Gauge(g) => format!("gauge {}", g.into_inner()),
                    DebugValue::Histogram(h) => format!("histogram {}", h.len()),
                };
                format!("{}{{{}}} {value}", key.name(), labels.join(","))
            })
            .collect();
        seen.sort();
        seen
    }

    #[test]
    fn every_record_lands_under_its_name_and_labels() {
        let seen = recorded(|| {
            let ms = Duration::from_millis;
            record_ingest("github", &IngestOutcome::InvalidSignature, Some(ms(3)));
            record_ingest(UNKNOWN_SOURCE, &IngestOutcome::UnknownSource, None);
            record_attempt("ci", AttemptOutcome::DeadLettered, ms(20));
            record_dead_letter("ci");
            record_attempt("ci", AttemptOutcome::Delivered, ms(10));
            record_delivery_latency("ci", Duration::from_secs(2));
            set_queue_depth(7);
            set_circuit("ci", CircuitPhase::HalfOpen);
            record_destination_paused("ci", crate::store::CHANGED_BY_GONE);
            set_store_writes_failing(true);
        });
        let mut want = vec![
            "relay_attempts_total{destination=ci,result=dead_lettered} counter 1",
            "relay_attempts_total{destination=ci,result=delivered} counter 1",
            "relay_attempt_duration_seconds{destination=ci} histogram 2",
            "relay_circuit_open{destination=ci} gauge 1",
            "relay_dead_letters_total{destination=ci} counter 1",
            "relay_destinations_paused_total{destination=ci,by=410} counter 1",
            "relay_store_writes_failing{} gauge 1",
            "relay_delivery_latency_seconds{destination=ci} histogram 1",
            "relay_ingest_duration_seconds{source=github} histogram 1",
            "relay_ingest_total{source=(unknown),outcome=unknown_source} counter 1",
            "relay_ingest_total{source=github,outcome=invalid_signature} counter 1",
            "relay_queue_depth{} gauge 7",
        ];
        want.sort_unstable();
        assert_eq!(seen, want);
    }

    #[test]
    fn a_closed_circuit_reads_zero() {
        let seen = recorded(|| {
            set_circuit("ci", CircuitPhase::Open);
            set_circuit("ci", CircuitPhase::Closed);
        });
        assert_eq!(seen, ["relay_circuit_open{destination=ci} gauge 0"]);
    }

    #[test]
    fn failing_writes_are_flagged_until_one_succeeds() {
        let health = crate::control::readiness::WriteHealth::default();
        let failed = recorded(|| health.record(Err(&"disk full" as &dyn std::fmt::Display)));
        assert_eq!(failed, ["relay_store_writes_failing{} gauge 1"]);
        let recovered = recorded(|| health.record(Ok(())));
        assert_eq!(recovered, ["relay_store_writes_failing{} gauge 0"]);
        let quiet = recorded(|| health.record(Ok(())));
        assert!(
            quiet.is_empty(),
            "a success while healthy records nothing: {quiet:?}"
        );
    }
}
