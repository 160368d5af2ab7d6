//! Circuit-breaker state: compare-and-set per (tenant, destination).

use super::*;
use crate::deliver::circuit::{CircuitPhase, CircuitState};

fn open_until(offset_ms: i64) -> CircuitState {
    CircuitState {
        phase: CircuitPhase::Open,
        failures: 5,
        window_started: at(0),
        until: at(offset_ms),
        ..CircuitState::CLOSED
    }
}

/// A circuit is absent until written; each write needs the version it read, and bumps it.
pub async fn circuit_compare_and_set(store: Arc<dyn Store>) {
    let t = tenant("acme");
    assert_eq!(store.circuit(&t, "slack").await.unwrap(), None);
    assert!(
        store
            .swap_circuit(&t, "slack", None, open_until(30_000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .swap_circuit(&t, "slack", None, CircuitState::CLOSED)
            .await
            .unwrap(),
        "a second first write loses"
    );
    let stored = store.circuit(&t, "slack").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.version), (open_until(30_000), 1));

    let half_open = CircuitState {
        phase: CircuitPhase::HalfOpen,
        ..open_until(45_000)
    };
    assert!(
        store
            .swap_circuit(&t, "slack", Some(1), half_open)
            .await
            .unwrap()
    );
    assert!(
        !store
            .swap_circuit(&t, "slack", Some(1), CircuitState::CLOSED)
            .await
            .unwrap(),
        "a stale version loses"
    );
    assert!(
        !store
            .swap_circuit(&t, "slack", Some(7), CircuitState::CLOSED)
            .await
            .unwrap()
    );
    let stored = store.circuit(&t, "slack").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.version), (half_open, 2));
    assert!(
        store
            .swap_circuit(&t, "slack", Some(2), CircuitState::CLOSED)
            .await
            .unwrap()
    );
    let stored = store.circuit(&t, "slack").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.version), (CircuitState::CLOSED, 3));

    // Other destinations and other tenants have their own circuits.
    assert_eq!(store.circuit(&t, "discord").await.unwrap(), None);
    let other = tenant("globex");
    assert_eq!(store.circuit(&other, "slack").await.unwrap(), None);
    assert!(
        store
            .swap_circuit(&other, "slack", None, open_until(1))
            .await
            .unwrap()
    );
    assert_eq!(
        store.circuit(&t, "slack").await.unwrap().unwrap().version,
        3
    );
}

/// Workers racing to change the same circuit from the same version: exactly one wins.
pub async fn concurrent_circuit_swaps_have_one_winner(store: Arc<dyn Store>) {
    let t = tenant("acme");
    for expected in [None, Some(1)] {
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (store, t) = (Arc::clone(&store), t.clone());
                tokio::spawn(async move {
                    store
                        .swap_circuit(&t, "flaky", expected, open_until(i))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.unwrap());
        }
        assert_eq!(winners, 1, "from {expected:?}");
    }
    let stored = store.circuit(&t, "flaky").await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
}
