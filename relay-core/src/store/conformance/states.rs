//! The objects' enabled/disabled state, and the deliveries it holds: a disabled
//! destination's deliveries (and those of a destination whose circuit is open) are not
//! leased, and are due as soon as they are released.

use super::*;
use crate::control::manage::ObjectKind;
use crate::deliver::circuit::{CircuitPhase, CircuitState};
use crate::store::StateRecord;

fn state(kind: ObjectKind, name: &str, enabled: bool, by: &str, offset_ms: i64) -> StateRecord {
    StateRecord {
        kind,
        name: name.to_owned(),
        enabled,
        changed_by: by.to_owned(),
        reason: format!("{by} at {offset_ms}"),
        changed_at: at(offset_ms),
    }
}

/// A state is written per (tenant, kind, name), replaced by the next write, read back by
/// kind then name, and deleted.
pub async fn object_states_round_trip_per_tenant(store: Arc<dyn Store>) {
    let (acme, other) = (tenant("acme"), tenant("other"));
    assert!(store.object_states(&acme).await.unwrap().is_empty());
    let route = state(ObjectKind::Route, "r", false, "ada", 1);
    let source = state(ObjectKind::Source, "s", false, "ada", 2);
    let gone = state(ObjectKind::Destination, "d", false, CHANGED_BY_GONE, 3);
    for record in [&route, &source, &gone] {
        store.put_object_state(&acme, record.clone()).await.unwrap();
    }
    let same_name = state(ObjectKind::Destination, "d", true, "bob", 4);
    store
        .put_object_state(&other, same_name.clone())
        .await
        .unwrap();
    assert_eq!(
        store.object_states(&acme).await.unwrap(),
        vec![source.clone(), gone, route.clone()],
        "by kind (source, destination, route) then name; tenants apart"
    );
    let enabled = state(ObjectKind::Destination, "d", true, "ada", 5);
    store
        .put_object_state(&acme, enabled.clone())
        .await
        .unwrap();
    assert_eq!(
        store.object_states(&acme).await.unwrap(),
        vec![source.clone(), enabled, route.clone()],
        "the latest write replaces the state, who and why"
    );
    assert!(
        (store.delete_object_state(&acme, ObjectKind::Destination, "d"))
            .await
            .unwrap()
    );
    assert!(
        !(store.delete_object_state(&acme, ObjectKind::Destination, "d"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.object_states(&acme).await.unwrap(),
        vec![source, route]
    );
    assert_eq!(store.object_states(&other).await.unwrap(), vec![same_name]);
}

/// A disabled destination's deliveries are not leased (nothing about them is written), the
/// same destination in another tenant is not held, and once enabled they are due at once.
pub async fn disabled_destination_deliveries_are_not_leased(store: Arc<dyn Store>) {
    let (acme, other) = (tenant("acme"), tenant("other"));
    let disabled = state(
        ObjectKind::Destination,
        "held",
        false,
        CHANGED_BY_BREAKER,
        0,
    );
    store.put_object_state(&acme, disabled).await.unwrap();
    let held = insert(
        store.as_ref(),
        new_event(&acme, "s", "k1", 0, &["held", "free"]),
    )
    .await;
    insert(store.as_ref(), new_event(&other, "s", "k1", 0, &["held"])).await;
    let now = at(1_000);
    let leased = store.lease_due(now, 100, MINUTE).await.unwrap();
    let mut got: Vec<_> = (leased.iter())
        .map(|l| {
            (
                l.delivery.tenant.as_str().to_owned(),
                l.delivery.destination.clone(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("acme".into(), "free".into()),
            ("other".into(), "held".into())
        ]
    );
    let before = store.deliveries(&acme, held).await.unwrap();
    let waiting = (before.iter()).find(|d| d.destination == "held").unwrap();
    assert_eq!(
        (waiting.status, waiting.attempts, waiting.next_attempt_at),
        (DeliveryStatus::Pending, 0, at(0)),
        "untouched while held"
    );
    assert!(store.lease_due(now, 100, MINUTE).await.unwrap().is_empty());
    let enabled = state(ObjectKind::Destination, "held", true, "ada", 2_000);
    store.put_object_state(&acme, enabled).await.unwrap();
    let leased = store.lease_due(at(2_000), 100, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 1, "due at once when enabled");
    assert_eq!(leased[0].delivery.destination, "held");
    assert_eq!(leased[0].delivery.event_id, held);
}

/// While a destination's circuit is open its deliveries are not leased; when it may let a
/// probe through (its `until` passed) or closes, they are due again.
pub async fn open_circuit_holds_its_deliveries(store: Arc<dyn Store>) {
    let t = tenant("acme");
    insert(store.as_ref(), new_event(&t, "s", "k1", 0, &["flaky"])).await;
    let open = CircuitState {
        phase: CircuitPhase::Open,
        failures: 5,
        window_started: at(0),
        until: at(30_000),
        ..CircuitState::CLOSED
    };
    assert!(store.swap_circuit(&t, "flaky", None, open).await.unwrap());
    assert!(
        (store.lease_due(at(1_000), 100, MINUTE).await.unwrap()).is_empty(),
        "held while open"
    );
    let leased = store.lease_due(at(30_001), 100, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 1, "due once the circuit may probe");
    let lease = leased[0].lease.clone();
    store.release(&lease, at(30_001)).await.unwrap();
    assert!(
        (store.swap_circuit(&t, "flaky", Some(1), CircuitState::CLOSED))
            .await
            .unwrap()
    );
    assert_eq!(
        (store.lease_due(at(30_001), 100, MINUTE).await.unwrap()).len(),
        1,
        "due at once when closed"
    );
}
