//! The circuit breaker's part of the gate: a delivery passes the destination's circuit (or
//! is let through as a half-open probe, or waits), and its attempt's signal is counted.
//!
//! An ordinary attempt's signal is counted in memory ([`super::circuit_tally`]) and reaches
//! the stored window in a batch; a probe's result is written at once, as few are made.

use std::time::Duration;

use crate::deliver::circuit::{
    Admission, CircuitBreaker, CircuitPhase, CircuitState, Signal, VersionedCircuit,
};
use crate::deliver::destination::Destination;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::observe::{CircuitSeen, Observer as _};
use crate::relay::Relay;

/// A random wait of up to `max`, so that nodes and deliveries waiting on the same moment
/// do not all wake at once.
pub(super) fn jitter(max: Duration) -> Duration {
    let ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::random_range(0..=ms))
}

/// How often deliveries waiting on a half-open circuit look again (its probes may end early).
const HALF_OPEN_RECHECK: Duration = Duration::from_secs(1);
/// How much longer than the attempt timeout a half-open probe holds the circuit.
const PROBE_MARGIN: Duration = Duration::from_secs(5);
/// Compare-and-set rounds before giving up on a contended circuit.
const CAS_ROUNDS: usize = 4;

/// The circuit as seen when the delivery was admitted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CircuitTicket {
    breaker: CircuitBreaker,
    seen: Option<VersionedCircuit>,
    probe: bool,
}

impl Relay {
    /// Passes the circuit: `Ok(None)` without a usable store answer (a breaker is an
    /// optimisation, never a reason to hold deliveries back), `Err(until)` when the delivery
    /// must wait. The circuit is this process's view when it is fresh (see
    /// [`super::CircuitViews`]), else read from the store.
    pub(super) async fn enter_circuit(
        &self,
        tenant: &TenantId,
        destination: &Destination,
        breaker: CircuitBreaker,
    ) -> Result<Option<CircuitTicket>, Timestamp> {
        let hold = destination.attempt_timeout() + PROBE_MARGIN;
        let views = self.circuit_views();
        for round in 0..CAS_ROUNDS {
            let now = Timestamp::now();
            // A lost compare-and-set means the view was stale: read the store again.
            let fresh = (round == 0)
                .then(|| views.fresh(destination.name()))
                .flatten();
            let seen = match fresh {
                Some(seen) => seen,
                None => match self.store().circuit(tenant, destination.name()).await {
                    Ok(seen) => {
                        views.saw(destination.name(), seen);
                        seen
                    }
                    Err(error) => {
                        tracing::warn!(%error, destination = destination.name(), "circuit state unavailable; attempting");
                        return Ok(None);
                    }
                },
            };
            let phase = seen.map_or(CircuitPhase::Closed, |c| c.state.phase);
            self.observers().on_circuit(&CircuitSeen {
                tenant,
                destination: destination.name(),
                phase,
                changed_from: None,
            });
            match breaker.admit(seen.as_ref().map(|c| &c.state), now, hold) {
                Admission::Pass => {
                    return Ok(Some(CircuitTicket {
                        breaker,
                        seen,
                        probe: false,
                    }));
                }
                Admission::Wait(until) => {
                    let phase = seen.map(|c| c.state.phase);
                    let until = if phase == Some(CircuitPhase::HalfOpen) {
                        until.min(now.plus(HALF_OPEN_RECHECK))
                    } else {
                        until
                    };
                    return Err(until.plus(jitter(Duration::from_millis(250))));
                }
                Admission::Probe(state) => {
                    let expected = seen.map(|c| c.version);
                    match self
                        .store()
                        .swap_circuit(tenant, destination.name(), expected, state)
                        .await
                    {
                        Ok(true) => {
                            tracing::info!(
                                destination = destination.name(),
                                "circuit half-open; probing"
                            );
                            let seen = Some(VersionedCircuit {
                                state,
                                version: expected.map_or(1, |v| v + 1),
                            });
                            views.saw(destination.name(), seen);
                            return Ok(Some(CircuitTicket {
                                breaker,
                                seen,
                                probe: true,
                            }));
                        }
                        Ok(false) => continue,
                        Err(error) => {
                            tracing::warn!(%error, destination = destination.name(), "circuit state unavailable; attempting");
                            return Ok(None);
                        }
                    }
                }
            }
        }
        Err(Timestamp::now().plus(HALF_OPEN_RECHECK))
    }

    /// Feeds an attempt's signal into the destination's circuit: a probe's result is
    /// written at once; another attempt's is counted, and the counts are added to the stored
    /// window when a flush is due (see [`super::circuit_tally`]). Attempts admitted before
    /// the circuit opened are not counted.
    pub(crate) async fn record_circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
        ticket: CircuitTicket,
        signal: Signal,
    ) {
        let breaker = ticket.breaker;
        if ticket.probe {
            self.change_circuit(tenant, destination, ticket.seen, |state, now| {
                breaker.record_probe(state, signal, now)
            })
            .await;
            return;
        }
        if signal == Signal::Neutral {
            return;
        }
        let views = self.circuit_views();
        let seen = views.fresh(destination).unwrap_or(ticket.seen);
        let stored = seen.map(|c| c.state);
        if stored.is_some_and(|s| s.phase != CircuitPhase::Closed) {
            return;
        }
        let now = Timestamp::now();
        let opens = |pending: &_| {
            breaker
                .flush(stored.as_ref(), pending, now)
                .is_some_and(|s| s.phase == CircuitPhase::Open)
        };
        let Some(counts) =
            views
                .pending()
                .count(destination, breaker.empty_window(), now, signal, opens)
        else {
            return;
        };
        let written = self
            .change_circuit(tenant, destination, seen, |state, now| {
                breaker.flush(state, &counts, now)
            })
            .await;
        if !written {
            views.pending().give_back(destination, &counts);
        }
    }

    /// Flushes the counts this process made more than a second ago and has not flushed yet
    /// (its attempts to that destination stopped since), so that other nodes judge them too;
    /// with `all`, every count not flushed yet.
    pub(crate) async fn flush_circuit_counts(&self, all: bool) {
        let due = self.circuit_views().pending().due(all);
        if due.is_empty() {
            return;
        }
        let catalog = self.catalog();
        let tenant = self.tenant_id();
        for (destination, counts) in due {
            let Some(breaker) = catalog
                .destination(&destination)
                .and_then(|d| d.breaker().copied())
            else {
                continue;
            };
            let seen = match self.circuit_views().fresh(&destination) {
                Some(seen) => seen,
                None => match self.store().circuit(tenant, &destination).await {
                    Ok(seen) => seen,
                    Err(error) => {
                        tracing::debug!(%error, destination, "circuit counts not flushed");
                        self.circuit_views()
                            .pending()
                            .give_back(&destination, &counts);
                        continue;
                    }
                },
            };
            let written = self
                .change_circuit(tenant, &destination, seen, |state, now| {
                    breaker.flush(state, &counts, now)
                })
                .await;
            if !written {
                self.circuit_views()
                    .pending()
                    .give_back(&destination, &counts);
            }
        }
    }

    /// Writes `change` of the destination's circuit by compare-and-set, from `seen`, reading
    /// the store again when another writer was first. `true` when written, or when `change`
    /// has nothing to write; `false` when the store could not be written.
    async fn change_circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
        seen: Option<VersionedCircuit>,
        change: impl Fn(Option<&CircuitState>, Timestamp) -> Option<CircuitState>,
    ) -> bool {
        let mut seen = seen;
        for _ in 0..CAS_ROUNDS {
            let before = seen.map(|c| c.state);
            let Some(next) = change(before.as_ref(), Timestamp::now()) else {
                return true;
            };
            let expected = seen.map(|c| c.version);
            match self
                .store()
                .swap_circuit(tenant, destination, expected, next)
                .await
            {
                Ok(true) => {
                    let version = expected.map_or(1, |v| v + 1);
                    let written = VersionedCircuit {
                        state: next,
                        version,
                    };
                    self.circuit_views().saw(destination, Some(written));
                    let from = before.map_or(CircuitPhase::Closed, |s| s.phase);
                    if from != next.phase {
                        match next.phase {
                            CircuitPhase::Open => tracing::warn!(
                                destination,
                                failures = next.failures,
                                attempts = next.detail.attempts,
                                why = next.why().unwrap_or_default(),
                                "circuit opened"
                            ),
                            _ => {
                                tracing::info!(destination, phase = %next.phase, "circuit changed")
                            }
                        }
                    }
                    self.observers().on_circuit(&CircuitSeen {
                        tenant,
                        destination,
                        phase: next.phase,
                        changed_from: (from != next.phase).then_some(from),
                    });
                    return true;
                }
                Ok(false) => match self.store().circuit(tenant, destination).await {
                    Ok(current) => {
                        self.circuit_views().saw(destination, current);
                        seen = current;
                    }
                    Err(error) => {
                        tracing::warn!(%error, destination, "could not update the circuit");
                        return false;
                    }
                },
                Err(error) => {
                    tracing::warn!(%error, destination, "could not update the circuit");
                    return false;
                }
            }
        }
        tracing::warn!(
            destination,
            "circuit too contended to update; these counts wait for the next flush"
        );
        false
    }
}
