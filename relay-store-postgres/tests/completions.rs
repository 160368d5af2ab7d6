//! Group-committed attempt completions: concurrent completions share commits, each is still
//! fenced by its own lease, a refused row fails only its own completion, and retried ordered
//! heads completed together all hold their lanes.

#![allow(clippy::unwrap_used)]

mod common;

use relay_core::store::{DeliveryQueue, EventIngest, EventLog};
use std::sync::Arc;
use std::time::Duration;

use relay_core::deliver::ordering::OnDeadLetter;
use relay_core::model::event::{Attempt, AttemptOutcome, DeliveryStatus};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::conformance::{T0, new_event, ordered_event};
use relay_core::store::{AttemptCompletion, Lease, LeasedDelivery, NextStep, StoreError};
use relay_store_postgres::PgStore;

const MINUTE: Duration = Duration::from_secs(60);

fn completion(lease: &Lease, next: NextStep, error: Option<&str>) -> AttemptCompletion {
    let outcome = match next {
        NextStep::Delivered => AttemptOutcome::Delivered,
        NextStep::RetryAt(_) => AttemptOutcome::Retrying,
        NextStep::DeadLettered => AttemptOutcome::DeadLettered,
    };
    AttemptCompletion {
        lease: lease.clone(),
        attempt: Attempt {
            delivery_id: lease.delivery_id,
            number: 1,
            started_at: T0,
            latency_ms: 3,
            status_code: Some(200),
            error: error.map(str::to_owned),
            response_excerpt: Some("ok".to_owned()),
            outcome,
            detail: Default::default(),
        },
        next,
    }
}

/// Completes every one of `completions` at once (so they meet in the writers' queue).
async fn complete_all(
    store: &Arc<PgStore>,
    completions: Vec<AttemptCompletion>,
) -> Vec<Result<(), StoreError>> {
    let tasks: Vec<_> = completions
        .into_iter()
        .map(|c| {
            let store = Arc::clone(store);
            tokio::spawn(async move { store.complete_attempt(c).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

async fn insert_and_lease(store: &PgStore, events: usize) -> Vec<LeasedDelivery> {
    let t = TenantId::default_tenant();
    for i in 0..events {
        let new = new_event(&t, "s", &format!("k{i}"), i as i64, &["a"]);
        store.insert_event(new).await.unwrap();
    }
    let leased = store
        .lease_due(T0.plus(MINUTE), events, MINUTE)
        .await
        .unwrap();
    assert_eq!(leased.len(), events);
    leased
}

async fn status_of(store: &PgStore, leased: &LeasedDelivery) -> DeliveryStatus {
    let t = TenantId::default_tenant();
    let delivery = store.delivery(&t, leased.lease.delivery_id).await.unwrap();
    delivery.unwrap().status
}

/// Concurrent completions are committed in groups (far fewer commits than completions); of
/// those sharing a commit, the ones under a stale token answer `LeaseLost` and write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_completions_share_commits_and_fence_each() {
    let Some(schema) = common::TestSchema::new("concurrent_completions_share_commits") else {
        return;
    };
    let store = Arc::new(schema.store().await);
    let leased = insert_and_lease(&store, 256).await;
    let completions = leased
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut lease = l.lease.clone();
            if i % 4 == 1 {
                lease.token += 1;
            }
            completion(&lease, NextStep::Delivered, None)
        })
        .collect();
    let results = complete_all(&store, completions).await;
    let t = TenantId::default_tenant();
    for (i, (result, l)) in results.into_iter().zip(&leased).enumerate() {
        let attempts = store.attempts(&t, l.lease.delivery_id).await.unwrap();
        if i % 4 == 1 {
            assert!(
                matches!(result, Err(StoreError::LeaseLost(id)) if id == l.lease.delivery_id),
                "{i}: {result:?}"
            );
            assert_eq!(status_of(&store, l).await, DeliveryStatus::InFlight);
            assert!(attempts.is_empty(), "{i}: {attempts:?}");
        } else {
            result.unwrap();
            assert_eq!(status_of(&store, l).await, DeliveryStatus::Delivered);
            assert_eq!(attempts.len(), 1, "{i}");
        }
    }
    let commits = store.completion_commit_count();
    assert!(commits < 128, "{commits} commits for 256 completions");
    // A second completion under the same lease finds the delivery moved on.
    let again = completion(&leased[0].lease, NextStep::Delivered, None);
    assert!(matches!(
        store.complete_attempt(again).await,
        Err(StoreError::LeaseLost(_))
    ));
}

/// One completion the database refuses fails alone (as unavailable, writing nothing); the
/// others of its group commit are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_row_fails_only_its_own_completion() {
    let Some(schema) = common::TestSchema::new("a_refused_row_fails_only_its_own_completion")
    else {
        return;
    };
    let store = Arc::new(schema.store().await);
    let leased = insert_and_lease(&store, 64).await;
    let client = schema.admin().await;
    client
        .batch_execute("ALTER TABLE attempts ADD CONSTRAINT no_poison CHECK (error <> 'poison')")
        .await
        .unwrap();
    let poisoned = |i: usize| i % 8 == 3;
    let completions = leased
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let error = poisoned(i).then_some("poison");
            completion(&l.lease, NextStep::DeadLettered, error)
        })
        .collect();
    let results = complete_all(&store, completions).await;
    for (i, (result, l)) in results.into_iter().zip(&leased).enumerate() {
        if poisoned(i) {
            assert!(
                matches!(result, Err(StoreError::Unavailable(_))),
                "{i}: {result:?}"
            );
            assert_eq!(status_of(&store, l).await, DeliveryStatus::InFlight);
        } else {
            result.unwrap();
            assert_eq!(status_of(&store, l).await, DeliveryStatus::DeadLettered);
        }
    }
    client
        .batch_execute("ALTER TABLE attempts DROP CONSTRAINT no_poison")
        .await
        .unwrap();
    let retried = completion(&leased[3].lease, NextStep::DeadLettered, Some("poison"));
    store.complete_attempt(retried).await.unwrap();
    assert_eq!(
        status_of(&store, &leased[3]).await,
        DeliveryStatus::DeadLettered
    );
}

/// The heads of many lanes retried together (one group commit) each hold their own lane:
/// nothing behind them is leased before they are due again, and then only the heads are.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retried_heads_completed_together_hold_their_lanes() {
    let Some(schema) = common::TestSchema::new("retried_heads_completed_together") else {
        return;
    };
    let store = Arc::new(schema.store().await);
    let t = TenantId::default_tenant();
    let lanes = 32;
    let mut behind_heads = Vec::new();
    for behind in 0..3 {
        for lane in 0..lanes {
            let offset = i64::from(behind * lanes + lane);
            let key = format!("lane{lane}");
            let new = ordered_event(
                &t,
                &format!("k{offset}"),
                offset,
                "d",
                Some(&key),
                OnDeadLetter::Skip,
            );
            if behind > 0 {
                behind_heads.push(new.deliveries[0].id);
            }
            store.insert_event(new).await.unwrap();
        }
    }
    let now = T0.plus(MINUTE);
    let heads = store.lease_due(now, 1000, MINUTE).await.unwrap();
    assert_eq!(heads.len(), lanes as usize);
    let retry_at = Timestamp::from_millis(now.as_millis() + 10 * 60_000);
    let completions = heads
        .iter()
        .map(|l| completion(&l.lease, NextStep::RetryAt(retry_at), Some("http 500")))
        .collect();
    for result in complete_all(&store, completions).await {
        result.unwrap();
    }
    for id in behind_heads {
        let delivery = store.delivery(&t, id).await.unwrap().unwrap();
        assert_eq!(delivery.status, DeliveryStatus::Pending);
        assert_eq!(delivery.next_attempt_at, retry_at, "{id}");
    }
    let meanwhile = Timestamp::from_millis(retry_at.as_millis() - 1);
    let early = store.lease_due(meanwhile, 1000, MINUTE).await.unwrap();
    assert!(early.is_empty(), "{} leased early", early.len());
    let again = store.lease_due(retry_at, 1000, MINUTE).await.unwrap();
    let mut ids: Vec<_> = again.iter().map(|l| l.lease.delivery_id).collect();
    let mut expected: Vec<_> = heads.iter().map(|l| l.lease.delivery_id).collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
}
