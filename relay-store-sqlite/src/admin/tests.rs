//! SQLite-specific admin tests: the listings read their indexes, and a database left at the
//! schema version before the admin tables, with data in it, is brought up to date on open.

#![allow(clippy::unwrap_used)]

use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::conformance::{
    T0, new_event, old_audit_words_read_as_today, serves_an_upgraded_database,
};
use rusqlite::Connection;

use super::{browse, retention};
use crate::schema::{self, SCHEMA_VERSION};
use crate::{SqliteOptions, SqliteStore};

/// The schema version before migration 4 added the admin tables.
const BEFORE_ADMIN: u32 = 3;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(T0.as_millis() + ms)
}

fn plan(conn: &Connection, sql: &str) -> String {
    let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let mut rows = statement.raw_query();
    let mut steps = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        steps.push(row.get::<_, String>(3).unwrap());
    }
    steps.join("\n")
}

#[test]
fn listings_read_their_indexes_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("plan.db")).unwrap();
    schema::migrate(&mut conn).unwrap();
    let events = plan(&conn, browse::LIST_EVENTS);
    assert!(events.contains("events_tenant_id"), "{events}");
    assert!(!events.contains("TEMP B-TREE"), "{events}");
    // An exact id in the search text is a key lookup, not a walk of the tenant's events.
    let one = plan(&conn, &browse::LIST_ONE_EVENT);
    assert!(
        one.contains("SEARCH e USING") && one.contains("id=?)"),
        "{one}"
    );
    assert!(!one.contains("SCAN e"), "{one}");
    for lookup in [browse::EVENT_BY_ID, browse::EVENT_BY_DELIVERY] {
        let plan = plan(&conn, lookup);
        assert!(
            plan.starts_with("SEARCH") && plan.contains("(id=?)"),
            "{plan}"
        );
    }
    let dead = plan(&conn, &browse::dead_letter_page_sql());
    assert!(dead.contains("deliveries_dead_id"), "{dead}");
    assert!(!dead.contains("TEMP B-TREE"), "{dead}");
}

#[test]
fn the_retention_queries_read_their_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("plan.db")).unwrap();
    schema::migrate(&mut conn).unwrap();
    for (sql, index) in [
        (retention::EXPIRED_SESSIONS, "sessions_expiry"),
        (retention::OLD_AUDIT, "audit_log_at"),
        (retention::OLD_POINTS, "metric_points_minute"),
        (
            "SELECT token_hash FROM portal_links WHERE expires_at < ?1 LIMIT ?2",
            "portal_links_expiry",
        ),
    ] {
        let plan = plan(&conn, sql);
        assert!(
            plan.contains(&format!("USING INDEX {index}"))
                || plan.contains(&format!("USING COVERING INDEX {index}")),
            "{sql}: {plan}"
        );
        assert!(!plan.starts_with("SCAN"), "{sql}: {plan}");
    }
}

fn table_exists(path: &std::path::Path, name: &str) -> bool {
    let conn = Connection::open(path).unwrap();
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |row| row.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_at_the_previous_version_is_upgraded_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let tenant = TenantId::new("acme");
    let old_event = new_event(&tenant, "github", "k1", 0, &["x"]).event;
    let event = old_event.id;
    {
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        schema::apply_between(&tx, 0, BEFORE_ADMIN).unwrap();
        // Data written with that version's SQL (the current code writes columns added since):
        // an event whose delivery is dead-lettered.
        tx.execute(
            "INSERT INTO events (id, tenant, source, event_type, idempotency_key, headers, body,
                received_at, status)
             VALUES (?1, ?2, 'github', 'push', 'k1', ?3, ?4, ?5, 'routed')",
            rusqlite::params![
                event.as_bytes().as_slice(),
                tenant.as_str(),
                relay_core::store::codec::encode_headers(&old_event.headers),
                old_event.body.as_ref(),
                at(0).as_millis(),
            ],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO deliveries (id, tenant, event_id, destination, route, status, attempts,
                cycle_attempts, next_attempt_at, last_error, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'x', 'route-x', 'dead_lettered', 1, 1, ?4, 'http 500', ?4, ?4)",
            rusqlite::params![
                relay_core::model::ids::DeliveryId::new()
                    .as_bytes()
                    .as_slice(),
                tenant.as_str(),
                event.as_bytes().as_slice(),
                at(10).as_millis(),
            ],
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(schema::version(&conn).unwrap(), BEFORE_ADMIN);
    }
    assert!(!table_exists(&path, "api_keys"), "not there before");

    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(
        schema::version(&Connection::open(&path).unwrap()).unwrap(),
        SCHEMA_VERSION
    );
    serves_an_upgraded_database(&store, &tenant, event).await;
}

/// The schema version before migration 12 added the client address of audit entries and the
/// records of refused signatures.
const BEFORE_CLIENT: u32 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_written_before_client_addresses_still_read() {
    use relay_core::control::admin::AuditQuery;
    use relay_core::ingest::sig_failure::SignatureFailureQuery;
    use relay_core::store::AuditLog as _;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let id = relay_core::model::ids::AuditId::new();
    {
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        schema::apply_between(&tx, 0, BEFORE_CLIENT).unwrap();
        tx.execute(
            "INSERT INTO audit_log (id, tenant, at, actor, action, object_kind, object_id, changes)
             VALUES (?1, 'default', ?2, 'key:k1', 'disable', 'source', 'github', '[]')",
            rusqlite::params![id.as_bytes().as_slice(), at(0).as_millis()],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    assert!(
        !table_exists(&path, "signature_failures"),
        "not there before"
    );
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let tenant = TenantId::default();
    let entries = (store.audit_entries(&tenant, &AuditQuery::default(), 10))
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].id, entries[0].client), (id, None));
    let query = SignatureFailureQuery::default();
    let none = store.signature_failures(&tenant, &query, 10).await.unwrap();
    assert!(none.is_empty());
}

/// The schema version before migration 15 rewrote the audit action `redrive` as `replay`.
const BEFORE_ONE_WORD: u32 = 14;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_written_as_redrive_read_as_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let tenant = TenantId::new("acme");
    {
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        schema::apply_between(&tx, 0, BEFORE_ONE_WORD).unwrap();
        // Written with that version's SQL: a dead-letter replay audited as `redrive`, then a
        // discard.
        for (ms, action) in [(0, "redrive"), (1, "discard")] {
            tx.execute(
                "INSERT INTO audit_log (id, tenant, at, actor, action, object_kind, object_id,
                    changes, client)
                 VALUES (?1, ?2, ?3, 'user:admin', ?4, 'dead_letters', '*', '[]', NULL)",
                rusqlite::params![
                    relay_core::model::ids::AuditId::new().as_bytes().as_slice(),
                    tenant.as_str(),
                    at(ms).as_millis(),
                    action,
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    old_audit_words_read_as_today(&store, &tenant).await;
}

#[test]
fn type_globs_match_as_routes_do() {
    let conn = Connection::open_in_memory().unwrap();
    let matches = |glob: &str, text: &str| -> bool {
        conn.query_row(
            "SELECT ?1 GLOB ?2",
            rusqlite::params![text, browse::type_glob(glob)],
            |row| row.get(0),
        )
        .unwrap()
    };
    for (glob, text, expected) in [
        ("order.*", "order.created", true),
        ("order.*", "order.", true),
        ("order.*", "orders.created", false),
        ("*", "anything", true),
        ("*.created", "order.created", true),
        ("push", "push", true),
        ("push", "Push", false),
        ("push", "pushed", false),
        ("p?sh", "push", false),
        ("p?sh", "p?sh", true),
        ("[ab]", "a", false),
        ("[ab]", "[ab]", true),
        ("a%b_c", "a%b_c", true),
        ("a%b_c", "axbyc", false),
    ] {
        assert_eq!(
            matches(glob, text),
            relay_core::route::Glob::new(glob).matches(text),
            "{glob} {text}"
        );
        assert_eq!(matches(glob, text), expected, "{glob} {text}");
    }
}
