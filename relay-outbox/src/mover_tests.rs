//! The mover's rounds on an in-memory backend with transactional rounds.

#![allow(clippy::unwrap_used)]

use relay_core::{Destination, EventRoute, HandlerError, Message};
use serde_json::json;

use super::*;
use crate::event::OutboxEvent;

/// Rows in memory; a round's deletes and dead letters apply at `finish(true)` only.
#[derive(Default)]
struct Table {
    rows: Vec<OutboxRow>,
    dead: Vec<(String, String)>,
    pending_deletes: Vec<String>,
    pending_dead: Vec<(String, String)>,
    fail_delete_of: Option<String>,
    fail_claims: bool,
    finishes: Vec<bool>,
}

#[async_trait]
impl OutboxBackend for Table {
    async fn claim(&mut self, limit: usize) -> Result<Vec<OutboxRow>, OutboxError> {
        if self.fail_claims {
            return Err(OutboxError::Blocking("the database is down".into()));
        }
        Ok(self.rows.iter().take(limit).cloned().collect())
    }

    async fn delete(&mut self, id: &str) -> Result<(), OutboxError> {
        if self.fail_delete_of.as_deref() == Some(id) {
            return Err(OutboxError::Blocking("the database went away".into()));
        }
        self.pending_deletes.push(id.to_owned());
        Ok(())
    }

    async fn dead_letter(&mut self, id: &str, error: &str) -> Result<(), OutboxError> {
        self.pending_dead.push((id.to_owned(), error.to_owned()));
        Ok(())
    }

    async fn finish(&mut self, commit: bool) -> Result<(), OutboxError> {
        self.finishes.push(commit);
        let deletes = std::mem::take(&mut self.pending_deletes);
        let dead = std::mem::take(&mut self.pending_dead);
        if commit {
            let gone = |r: &OutboxRow| deletes.contains(&r.id) || dead.iter().any(|d| d.0 == r.id);
            self.rows.retain(|r| !gone(r));
            self.dead.extend(dead);
        }
        Ok(())
    }
}

fn row(event: &OutboxEvent) -> OutboxRow {
    let c = event.columns();
    OutboxRow {
        id: c.id,
        tenant: c.tenant,
        event_type: c.event_type,
        payload: c.payload,
        idempotency_key: c.idempotency_key,
        destinations: c.destinations,
        source: c.source,
    }
}

fn relay() -> Relay {
    Relay::builder()
        .destination(Destination::handler("billing", |_m: Message| async {
            Ok::<(), HandlerError>(())
        }))
        .route(
            EventRoute::new("all")
                .source("app")
                .event_types(["*"])
                .to(["billing"]),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn refused_rows_are_dead_lettered_and_do_not_hold_up_the_rest() {
    let good = OutboxEvent::new("invoice.paid", json!({"n": 1}));
    let unknown = OutboxEvent::new("invoice.paid", json!({})).destinations(["nowhere"]);
    let bad_id = OutboxRow {
        id: "not-an-id".into(),
        ..row(&good)
    };
    let empty_type = OutboxEvent::new("", json!({}));
    let last = OutboxEvent::new("invoice.sent", json!({"n": 2})).destinations(["billing"]);
    let table = Table {
        rows: vec![
            row(&unknown),
            bad_id,
            row(&good),
            row(&empty_type),
            row(&last),
        ],
        ..Table::default()
    };
    let mut mover = Mover::new(relay(), table, MoverConfig::default());
    let round = mover.run_round().await.unwrap();
    let expected = Round {
        claimed: 5,
        accepted: 2,
        dead_lettered: 3,
        ..Round::default()
    };
    assert_eq!(round, expected);
    assert!(mover.backend.rows.is_empty());
    let reasons: Vec<&str> = mover.backend.dead.iter().map(|d| d.1.as_str()).collect();
    assert!(reasons[0].contains("unknown destination"), "{reasons:?}");
    assert!(reasons[1].starts_with("invalid id"), "{reasons:?}");
    assert!(reasons[2].contains("event_type"), "{reasons:?}");
}

#[tokio::test]
async fn a_failed_delete_undoes_the_round_and_the_next_one_sends_nothing_twice() {
    let (first, second) = (
        OutboxEvent::new("invoice.paid", json!({"n": 1})),
        OutboxEvent::new("invoice.paid", json!({"n": 2})),
    );
    let table = Table {
        rows: vec![row(&first), row(&second)],
        fail_delete_of: Some(second.event_id().to_string()),
        ..Table::default()
    };
    let moved = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&moved);
    let config = MoverConfig::default().on_moved(move |id, published| {
        seen.lock().unwrap().push((id, published));
    });
    let mut mover = Mover::new(relay(), table, config);
    assert!(mover.run_round().await.is_err());
    assert_eq!(mover.backend.finishes, [false]);
    assert_eq!(mover.backend.rows.len(), 2, "the round's delete is undone");

    mover.backend.fail_delete_of = None;
    let round = mover.run_round().await.unwrap();
    assert_eq!((round.accepted, round.duplicates), (0, 2), "{round:?}");
    assert!(mover.backend.rows.is_empty());
    let moved = moved.lock().unwrap().clone();
    assert_eq!(
        moved,
        [
            (
                first.event_id(),
                Published::Accepted {
                    event_id: first.event_id()
                }
            ),
            (
                second.event_id(),
                Published::Accepted {
                    event_id: second.event_id()
                }
            ),
            (
                first.event_id(),
                Published::Duplicate {
                    event_id: first.event_id()
                }
            ),
            (
                second.event_id(),
                Published::Duplicate {
                    event_id: second.event_id()
                }
            ),
        ]
    );
}

#[tokio::test]
async fn a_failed_claim_ends_the_round_undone() {
    let event = OutboxEvent::new("invoice.paid", json!({}));
    let table = Table {
        rows: vec![row(&event)],
        fail_claims: true,
        ..Table::default()
    };
    let mut mover = Mover::new(relay(), table, MoverConfig::default());
    assert!(mover.run_round().await.is_err());
    assert_eq!(mover.backend.finishes, [false]);
    mover.backend.fail_claims = false;
    assert_eq!(mover.run_round().await.unwrap().accepted, 1);
    assert_eq!(mover.backend.finishes, [false, true]);
}
