//! A lease commits without waiting for its WAL flush, so a server crash can lose it after
//! its holder has started the attempt: the delivery is leased again, and the first holder's
//! late completion must match nothing (its token is never issued again). Also each pool's
//! session settings. Needs `RELAY_TEST_POSTGRES_URL` (skipped loudly without it).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use relay_core::model::time::Timestamp;
use relay_core::store::conformance::{T0, completion};
use relay_core::store::{DeliveryQueue, NextStep, StoreError};

use crate::scratch::{SEED, Scratch};

/// The delivery's queue columns, as text, to put back as a crash would.
const QUEUE_STATE: &str = "SELECT status, next_attempt_at, lease_token, lease_holder
    FROM deliveries WHERE id = $1::uuid";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_lost_in_a_crash_never_has_its_token_issued_again() {
    let Some(scratch) = Scratch::from_env("relay-store-postgres lease loss") else {
        return;
    };
    let store = scratch.store().await;
    let client = store.pool().get().await.unwrap();
    client
        .execute(SEED, &[&0_i64, &T0.as_millis(), &1_i64])
        .await
        .unwrap();
    let now = Timestamp::from_millis(T0.as_millis() + 10);
    let lease_for = Duration::from_secs(60);

    // Leased once and completed (due again at once, still the oldest due): the row's last
    // durable state has this token.
    let first = store
        .lease_due_as(None, &[], now, 1, lease_for)
        .await
        .unwrap();
    let retry = NextStep::RetryAt(T0);
    store
        .complete_attempt(completion(&first[0].lease, 1, now, retry))
        .await
        .unwrap();
    let id = first[0].lease.delivery_id.as_uuid();
    let durable = client.query_one(QUEUE_STATE, &[&id]).await.unwrap();
    let (status, due, token, holder): (String, i64, i64, Option<String>) = (
        durable.get(0),
        durable.get(1),
        durable.get(2),
        durable.get(3),
    );

    // Leased again; then the server "crashes" before that lease reaches the disk: the row is
    // back as it was.
    let lost = store
        .lease_due_as(None, &[], now, 1, lease_for)
        .await
        .unwrap();
    assert_eq!(lost[0].lease.delivery_id, first[0].lease.delivery_id);
    client
        .execute(
            "UPDATE deliveries SET status = $2, next_attempt_at = $3, lease_token = $4,
                 lease_holder = $5
             WHERE id = $1::uuid",
            &[&id, &status, &due, &token, &holder],
        )
        .await
        .unwrap();

    // The next lease of it has a token of its own: the lost holder's completion is fenced
    // off, the new holder's is recorded.
    let again = store
        .lease_due_as(None, &[], now, 1, lease_for)
        .await
        .unwrap();
    assert_eq!(again[0].lease.delivery_id, first[0].lease.delivery_id);
    assert!(again[0].lease.token > lost[0].lease.token);
    let late = store
        .complete_attempt(completion(&lost[0].lease, 2, now, NextStep::Delivered))
        .await;
    assert!(matches!(late, Err(StoreError::LeaseLost(_))), "{late:?}");
    store
        .complete_attempt(completion(&again[0].lease, 2, now, NextStep::Delivered))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_pool_has_its_settings() {
    let Some(scratch) = Scratch::from_env("relay-store-postgres lease commits") else {
        return;
    };
    let store = scratch.store().await;
    let inner = &store.inner;
    let (lease, write, main) = (&inner.lease_pool, &inner.write_pool, &inner.pool);
    for (pool, commits, plans) in [
        (lease, "off", "force_generic_plan"),
        (write, "on", "force_generic_plan"),
        (main, "on", "auto"),
    ] {
        let client = pool.get().await.unwrap();
        let setting = |rows: Vec<tokio_postgres::Row>| rows[0].get::<_, String>(0);
        let show = |name: &str| format!("SHOW {name}");
        let synchronous = client
            .query(&show("synchronous_commit"), &[])
            .await
            .unwrap();
        assert_eq!(setting(synchronous), commits);
        let cache = client.query(&show("plan_cache_mode"), &[]).await.unwrap();
        assert_eq!(setting(cache), plans);
    }
}
