//! Several store handles on one database behave as several gateway nodes: they share the
//! dedup keys and the delivery queue without ever handing one delivery to two of them.

#![allow(clippy::unwrap_used)]

mod common;

use relay_core::store::{CircuitStore, DeliveryQueue, EventIngest, EventLog};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use relay_core::model::event::{Attempt, AttemptOutcome, DeliveryStatus};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::conformance::{T0, new_event};
use relay_core::store::{AttemptCompletion, InsertOutcome, LeasedDelivery, NextStep, StoreError};
use relay_store_postgres::PgStore;

const MINUTE: Duration = Duration::from_secs(60);

fn at(offset_ms: i64) -> Timestamp {
    Timestamp::from_millis(T0.as_millis() + offset_ms)
}

fn delivered(leased: &LeasedDelivery, when: Timestamp) -> AttemptCompletion {
    AttemptCompletion {
        lease: leased.lease.clone(),
        attempt: Attempt {
            delivery_id: leased.delivery.id,
            number: leased.delivery.attempts + 1,
            started_at: when,
            latency_ms: 3,
            status_code: Some(200),
            error: None,
            response_excerpt: None,
            outcome: AttemptOutcome::Delivered,
            detail: Default::default(),
        },
        next: NextStep::Delivered,
    }
}

async fn nodes(schema: &common::TestSchema, n: usize) -> Vec<Arc<PgStore>> {
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        nodes.push(Arc::new(schema.store().await));
    }
    nodes
}

/// Two nodes, eight leasing workers each, drain one queue: every delivery is leased by
/// exactly one worker and completed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_never_lease_the_same_delivery() {
    let Some(schema) = common::TestSchema::new("two_nodes_never_lease_the_same_delivery") else {
        return;
    };
    let nodes = nodes(&schema, 2).await;
    let t = TenantId::default_tenant();
    let inserts: Vec<_> = (0..400)
        .map(|i| {
            let node = Arc::clone(&nodes[i % 2]);
            let new = new_event(&t, "s", &format!("k{i}"), i as i64, &["a", "b", "c"]);
            tokio::spawn(async move { node.insert_event(new).await })
        })
        .collect();
    for insert in inserts {
        assert_eq!(insert.await.unwrap().unwrap(), InsertOutcome::Inserted);
    }

    let workers: Vec<_> = (0..16)
        .map(|w| {
            let node = Arc::clone(&nodes[w % 2]);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let leased = node.lease_due(at(10_000), 5, MINUTE).await.unwrap();
                    if leased.is_empty() {
                        return mine;
                    }
                    for l in &leased {
                        node.complete_attempt(delivered(l, at(10_001)))
                            .await
                            .unwrap();
                    }
                    mine.extend(leased.into_iter().map(|l| l.delivery.id));
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut per_node = [0usize; 2];
    for (w, worker) in workers.into_iter().enumerate() {
        for id in worker.await.unwrap() {
            assert!(seen.insert(id), "{id} leased twice");
            per_node[w % 2] += 1;
        }
    }
    assert_eq!(seen.len(), 1200);
    assert!(
        per_node.iter().all(|n| *n > 0),
        "both nodes worked: {per_node:?}"
    );
    for id in seen.iter().take(50) {
        let d = nodes[0].delivery(&t, *id).await.unwrap().unwrap();
        assert_eq!(d.status, DeliveryStatus::Delivered);
        assert_eq!(nodes[1].attempts(&t, *id).await.unwrap().len(), 1);
    }
}

/// A node that dies holding leases: they come back to another node once expired, with a
/// larger fencing token, and the dead node's late write is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_nodes_leases_come_back_fenced() {
    let Some(schema) = common::TestSchema::new("a_dead_nodes_leases_come_back_fenced") else {
        return;
    };
    let t = TenantId::default_tenant();
    let survivor = schema.store().await;
    let doomed = schema.store().await;
    for i in 0..10 {
        let new = new_event(&t, "s", &format!("k{i}"), 0, &["a"]);
        doomed.insert_event(new).await.unwrap();
    }
    let lease_for = Duration::from_secs(30);
    let held = doomed.lease_due(at(0), 100, lease_for).await.unwrap();
    assert_eq!(held.len(), 10);
    drop(doomed);

    assert!(
        survivor
            .lease_due(at(29_999), 100, lease_for)
            .await
            .unwrap()
            .is_empty()
    );
    let back = survivor
        .lease_due(at(30_000), 100, lease_for)
        .await
        .unwrap();
    assert_eq!(back.len(), 10);
    for l in &back {
        let old = held
            .iter()
            .find(|h| h.delivery.id == l.delivery.id)
            .unwrap();
        assert!(l.lease.token > old.lease.token);
    }
    // The "dead" node's write arrives late (through any handle): fenced off.
    let late = survivor
        .complete_attempt(delivered(&held[0], at(30_001)))
        .await;
    assert!(matches!(late, Err(StoreError::LeaseLost(_))), "{late:?}");
    for l in &back {
        survivor
            .complete_attempt(delivered(l, at(30_002)))
            .await
            .unwrap();
    }
    let d = survivor
        .delivery(&t, held[0].delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 1));
}

/// The same key ingested 64 times at once through three nodes is one event.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_ingests_through_three_nodes_insert_once() {
    let Some(schema) = common::TestSchema::new("identical_ingests_through_three_nodes") else {
        return;
    };
    let nodes = nodes(&schema, 3).await;
    let t = TenantId::default_tenant();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let node = Arc::clone(&nodes[i % 3]);
            let new = new_event(&t, "github", "same", 0, &["a"]);
            tokio::spawn(async move {
                let id = new.event.id;
                (id, node.insert_event(new).await.unwrap())
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut originals = HashSet::new();
    for task in tasks {
        match task.await.unwrap() {
            (id, InsertOutcome::Inserted) => winners.push(id),
            (_, InsertOutcome::Duplicate { original }) => {
                originals.insert(original);
            }
        }
    }
    assert_eq!(winners.len(), 1);
    assert!(originals.iter().all(|o| *o == winners[0]));
    assert_eq!(
        nodes[2].lease_due(at(0), 100, MINUTE).await.unwrap().len(),
        1
    );
}

/// A destination's circuit is one for all nodes: in every round, 24 workers on three nodes
/// read the circuit and race to take the half-open probe from the version they read; exactly
/// one wins, and every node then reads the winner's state.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_circuit_one_probe_across_nodes() {
    use relay_core::deliver::circuit::{CircuitPhase, CircuitState};

    let Some(schema) = common::TestSchema::new("one_circuit_one_probe_across_nodes") else {
        return;
    };
    let nodes = nodes(&schema, 3).await;
    let t = TenantId::default_tenant();
    let open = |round: i64| CircuitState {
        phase: CircuitPhase::Open,
        failures: 5,
        window_started: at(round * 1_000),
        until: at(round * 1_000 + 500),
        ..CircuitState::CLOSED
    };
    assert!(
        nodes[0]
            .swap_circuit(&t, "flaky", None, open(0))
            .await
            .unwrap()
    );
    for round in 0..10_i64 {
        let workers: Vec<_> = (0..24_i64)
            .map(|w| {
                let (node, t) = (Arc::clone(&nodes[w as usize % 3]), t.clone());
                tokio::spawn(async move {
                    let read = node.circuit(&t, "flaky").await.unwrap().unwrap();
                    if read.state.phase != CircuitPhase::Open {
                        // Read after the winner's write: the probe is taken.
                        return None;
                    }
                    let probing = CircuitState {
                        phase: CircuitPhase::HalfOpen,
                        failures: u32::try_from(w).unwrap(),
                        ..read.state
                    };
                    let won = node
                        .swap_circuit(&t, "flaky", Some(read.version), probing)
                        .await
                        .unwrap();
                    won.then_some((w, read.version))
                })
            })
            .collect();
        let mut winners = Vec::new();
        for worker in workers {
            winners.extend(worker.await.unwrap());
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let (winner, from) = winners[0];
        for node in &nodes {
            let seen = node.circuit(&t, "flaky").await.unwrap().unwrap();
            assert_eq!(seen.version, from + 1);
            assert_eq!(seen.state.phase, CircuitPhase::HalfOpen);
            assert_eq!(i64::from(seen.state.failures), winner);
        }
        // The probe failed: the circuit opens again, for the next round.
        let node = &nodes[usize::try_from(round).unwrap() % 3];
        assert!(
            node.swap_circuit(&t, "flaky", Some(from + 1), open(round + 1))
                .await
                .unwrap()
        );
    }
}

/// Two nodes, eight leasing workers each, one queue of ordered deliveries whose attempts fail
/// (and are retried) about a third of the time: no lane ever has two deliveries leased at
/// once, and every lane is delivered in ingest order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_keep_each_lane_in_order() {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    use relay_core::deliver::ordering::OnDeadLetter;
    use relay_core::store::conformance::ordered_event;

    const KEYS: usize = 8;
    const PER_KEY: usize = 25;
    let Some(schema) = common::TestSchema::new("two_nodes_keep_each_lane_in_order") else {
        return;
    };
    let nodes = nodes(&schema, 2).await;
    let t = TenantId::default_tenant();
    let mut position = HashMap::new();
    for n in 0..PER_KEY {
        for k in 0..KEYS {
            let key = format!("k{k}");
            let new = ordered_event(
                &t,
                &format!("{key}-{n}"),
                (n * KEYS + k) as i64,
                "d",
                Some(&key),
                OnDeadLetter::Skip,
            );
            position.insert(new.deliveries[0].id, (key, n));
            let node = &nodes[(n + k) % 2];
            assert_eq!(
                node.insert_event(new).await.unwrap(),
                InsertOutcome::Inserted
            );
        }
    }
    let position = Arc::new(position);
    let busy = Arc::new(Mutex::new(HashSet::<String>::new()));
    let order = Arc::new(Mutex::new(HashMap::<String, Vec<usize>>::new()));
    let dice = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..16)
        .map(|w| {
            let node = Arc::clone(&nodes[w % 2]);
            let (position, busy) = (Arc::clone(&position), Arc::clone(&busy));
            let (order, dice) = (Arc::clone(&order), Arc::clone(&dice));
            tokio::spawn(async move {
                let mut idle = 0;
                while idle < 40 {
                    let leased = node.lease_due(at(10_000), 2, MINUTE).await.unwrap();
                    if leased.is_empty() {
                        idle += 1;
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        continue;
                    }
                    idle = 0;
                    for l in &leased {
                        let (key, n) = position[&l.delivery.id].clone();
                        assert!(
                            busy.lock().unwrap().insert(key.clone()),
                            "two deliveries of lane {key} leased at once"
                        );
                        // A pseudo-random third of the attempts fail and are retried.
                        let roll = dice
                            .fetch_add(1, Ordering::Relaxed)
                            .wrapping_mul(2_654_435_761);
                        let fails = roll % 3 == 0;
                        if !fails {
                            order
                                .lock()
                                .unwrap()
                                .entry(key.clone())
                                .or_default()
                                .push(n);
                        }
                        busy.lock().unwrap().remove(&key);
                        let mut completion = delivered(l, at(10_000));
                        if fails {
                            completion.next = NextStep::RetryAt(at(10_000));
                            completion.attempt.outcome = AttemptOutcome::Retrying;
                            completion.attempt.status_code = Some(503);
                        }
                        node.complete_attempt(completion).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let order = order.lock().unwrap();
    assert_eq!(order.len(), KEYS);
    for (key, lane) in order.iter() {
        assert_eq!(*lane, (0..PER_KEY).collect::<Vec<_>>(), "lane {key}");
    }
}
