//! A database left at the schema version before the admin tables, with data in it, is brought
//! up to date by the current code: the data stays, the admin tables work. Needs
//! `RELAY_TEST_POSTGRES_URL` (skipped loudly without it).

#![allow(clippy::unwrap_used)]

use relay_core::model::ids::{AuditId, DeliveryId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::conformance::{
    T0, new_event, old_audit_words_read_as_today, serves_an_upgraded_database,
};

use crate::schema::{self, SCHEMA_VERSION};
use crate::scratch::Scratch;
use crate::{PgOptions, PgStore};

/// The schema version before migration 3 added the admin tables.
const BEFORE_ADMIN: u32 = 2;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(T0.as_millis() + ms)
}

async fn tables(store: &PgStore, name: &str) -> i64 {
    let client = store.pool().get().await.unwrap();
    let row = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&name],
        )
        .await
        .unwrap();
    row.get(0)
}

/// A store on `scratch`'s schema migrated up to `version` only, not opened by the current code.
async fn at_version(scratch: &Scratch, version: u32) -> PgStore {
    let store = PgStore::connect(
        &scratch.url,
        PgOptions::default()
            .schema(&scratch.name)
            .migrate_on_open(false),
    )
    .await
    .unwrap();
    let mut client = store.pool().get().await.unwrap();
    let reached = schema::migrate_to(&mut client, Some(&scratch.name), version)
        .await
        .unwrap();
    assert_eq!(reached, version);
    drop(client);
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_at_the_previous_version_is_upgraded() {
    let Some(scratch) = Scratch::from_env("relay-store-postgres schema upgrade") else {
        return;
    };
    let options = || PgOptions::default().schema(&scratch.name);
    let tenant = TenantId::new("acme");

    // The version before the admin tables, with an event whose delivery is dead-lettered,
    // written with that version's SQL (the current code writes columns added since).
    let old = at_version(&scratch, BEFORE_ADMIN).await;
    let client = old.pool().get().await.unwrap();
    assert_eq!(tables(&old, "api_keys").await, 0, "not there before");
    let old_event = new_event(&tenant, "github", "k1", 0, &["x"]).event;
    let event = old_event.id;
    let headers = relay_core::store::codec::encode_headers(&old_event.headers);
    let body = old_event.body.to_vec();
    client
        .execute(
            "INSERT INTO events (id, tenant, source, event_type, idempotency_key, headers, body,
                received_at, status)
             VALUES ($1, $2, 'github', 'push', 'k1', $3, $4, $5, 'routed')",
            &[
                &event.as_uuid(),
                &tenant.as_str(),
                &headers,
                &body,
                &at(0).as_millis(),
            ],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO deliveries (id, tenant, event_id, destination, route, status, attempts,
                cycle_attempts, next_attempt_at, last_error, created_at, updated_at)
             VALUES ($1, $2, $3, 'x', 'route-x', 'dead_lettered', 1, 1, $4, 'http 500', $4, $4)",
            &[
                &DeliveryId::new().as_uuid(),
                &tenant.as_str(),
                &event.as_uuid(),
                &at(10).as_millis(),
            ],
        )
        .await
        .unwrap();
    drop(client);
    drop(old);

    // The current code upgrades it on connect.
    let store = PgStore::connect(&scratch.url, options()).await.unwrap();
    assert_eq!(store.migrate().await.unwrap(), SCHEMA_VERSION);
    serves_an_upgraded_database(&store, &tenant, event).await;
}

/// The schema version before migration 14 rewrote the audit action `redrive` as `replay`.
const BEFORE_ONE_WORD: u32 = 13;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_written_as_redrive_read_as_replay() {
    let Some(scratch) = Scratch::from_env("relay-store-postgres audit upgrade") else {
        return;
    };
    let options = || PgOptions::default().schema(&scratch.name);
    let tenant = TenantId::new("acme");
    let old = at_version(&scratch, BEFORE_ONE_WORD).await;
    let client = old.pool().get().await.unwrap();
    // Written with that version's SQL: a dead-letter replay audited as `redrive`, then a
    // discard.
    for (ms, action) in [(0, "redrive"), (1, "discard")] {
        client
            .execute(
                "INSERT INTO audit_log (id, tenant, at, actor, action, object_kind, object_id,
                    changes, client)
                 VALUES ($1, $2, $3, 'user:admin', $4, 'dead_letters', '*', '[]', NULL)",
                &[
                    &AuditId::new().as_uuid(),
                    &tenant.as_str(),
                    &at(ms).as_millis(),
                    &action,
                ],
            )
            .await
            .unwrap();
    }
    drop(client);
    drop(old);
    let store = PgStore::connect(&scratch.url, options()).await.unwrap();
    old_audit_words_read_as_today(&store, &tenant).await;
}
