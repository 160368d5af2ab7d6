//! The transactional outbox (`relay-outbox`) end to end, with each driver it has helpers for
//! (tokio-postgres, sqlx on PostgreSQL and on SQLite, rusqlite), delivering to a real HTTP
//! receiver on loopback:
//! - an app transaction that rolls back publishes nothing; one that commits is delivered
//!   once; a row the relay refuses goes to the dead-letter table without blocking the rest;
//! - SIGKILL between the app's commit and the move, and between a publish and its row's
//!   delete (the crash child `outbox_crash`), then a restart: every row delivered once;
//! - a relay that cannot commit leaves the row; a row moved twice is sent once.
//!
//! PostgreSQL is the server `RELAY_TEST_POSTGRES_URL` names (a fresh database per test,
//! dropped after a passing run); without it the PostgreSQL tests skip loudly, or fail with
//! `RELAY_REQUIRE_BACKENDS=1`.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use relay_core::model::ids::EventId;
use relay_core::store::memory::MemoryStore;
use relay_outbox::sqlite::SqliteOutbox;
use relay_outbox::{Mover, MoverConfig, OutboxEvent, Round};
use relay_tests::outbox::{AppDb, DESTINATION, Driver, create_database, drop_database, relay};
use relay_tests::pipeline::{Pipeline, WAIT};
use relay_tests::{Receiver, UNAVAILABLE_STORE, eventually};
use serde_json::json;
use tempfile::TempDir;

/// An app database for one test, and what to clean up after it.
struct Setup {
    db: AppDb,
    dir: TempDir,
    postgres: Option<(String, String)>,
}

impl Setup {
    /// A fresh database for `driver`, or `None` (skipped) without a PostgreSQL server.
    async fn new(driver: Driver, test: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        if !driver.is_postgres() {
            let url = dir.path().join("app.db").to_string_lossy().into_owned();
            let db = AppDb { driver, url };
            db.migrate().await;
            return Some(Self {
                db,
                dir,
                postgres: None,
            });
        }
        let server = relay_core::testing::backend_from_env(
            "RELAY_TEST_POSTGRES_URL",
            test,
            "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
        )?;
        let (url, name) = create_database(&server, "relay_t_outbox").await;
        let db = AppDb { driver, url };
        db.migrate().await;
        Some(Self {
            db,
            dir,
            postgres: Some((server, name)),
        })
    }

    async fn cleanup(self) {
        if let Some((server, name)) = self.postgres {
            drop_database(&server, &name).await;
        }
    }
}

/// The `x-relay-event-id` of every request `receiver` got.
fn received_ids(receiver: &Receiver) -> Vec<String> {
    let header = |r: &relay_tests::Received| {
        let value = r.headers.get("x-relay-event-id").expect("x-relay-event-id");
        value.to_str().expect("text").to_owned()
    };
    receiver.received().iter().map(header).collect()
}

/// Waits until `receiver` got `n` requests and the outbox is empty, then a while more, and
/// asserts it got exactly one request for each of `ids` and nothing else.
async fn assert_delivered_once(db: &AppDb, receiver: &Receiver, ids: &[EventId]) {
    let all_there = eventually(WAIT, || async {
        (receiver.count() >= ids.len() && db.count("relay_outbox").await == 0).then_some(())
    })
    .await;
    assert!(
        all_there.is_some(),
        "{}: {} of {} delivered, {} rows left",
        db.driver,
        receiver.count(),
        ids.len(),
        db.count("relay_outbox").await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut got = received_ids(receiver);
    got.sort();
    let mut want: Vec<String> = ids.iter().map(ToString::to_string).collect();
    want.sort();
    assert_eq!(
        got, want,
        "{}: each committed row delivered once",
        db.driver
    );
}

async fn rollback_publishes_nothing_commit_delivers_once(driver: Driver) {
    let test = format!("outbox rollback/commit with {driver}");
    let Some(setup) = Setup::new(driver, &test).await else {
        return;
    };
    let db = &setup.db;
    let receiver = Receiver::ok().await;
    let rolled_back = db
        .write(
            &[
                OutboxEvent::new("invoice.paid", json!({"id": "inv_0"})),
                OutboxEvent::new("invoice.paid", json!({"id": "inv_1"}))
                    .destinations([DESTINATION]),
            ],
            false,
        )
        .await;
    assert_eq!(
        (db.count("relay_outbox").await, db.count("invoices").await),
        (0, 0)
    );
    // Refused for good (written first: it must not hold up the rows behind it).
    let refused = OutboxEvent::new("invoice.paid", json!({})).destinations(["nowhere"]);
    db.write(&[refused], true).await;
    let committed = db
        .write(
            &[
                OutboxEvent::new("invoice.paid", json!({"id": "inv_2"})),
                OutboxEvent::new("invoice.sent", json!({"id": "inv_3"}))
                    .destinations([DESTINATION]),
                OutboxEvent::new("invoice.void", json!({"id": "inv_4"})).idempotency_key("inv_4"),
            ],
            true,
        )
        .await;
    assert_eq!(db.count("invoices").await, 4);
    let pipeline = Pipeline::run(relay(Arc::new(MemoryStore::new()), &receiver.url));
    let config = MoverConfig::default().poll_interval(Duration::from_millis(20));
    let mover = db.mover(pipeline.relay.clone(), config).await;
    assert_delivered_once(db, &receiver, &committed).await;
    for id in &rolled_back {
        assert!(!received_ids(&receiver).contains(&id.to_string()));
    }
    let errors = db.dead_letter_errors().await;
    assert_eq!(errors.len(), 1, "{driver}: {errors:?}");
    assert!(errors[0].contains("unknown destination"), "{errors:?}");
    mover.shutdown().await;
    pipeline.stop().await;
    setup.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_publishes_nothing_commit_delivers_once_tokio_postgres() {
    rollback_publishes_nothing_commit_delivers_once(Driver::TokioPostgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_publishes_nothing_commit_delivers_once_sqlx_postgres() {
    rollback_publishes_nothing_commit_delivers_once(Driver::SqlxPostgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_publishes_nothing_commit_delivers_once_sqlx_sqlite() {
    rollback_publishes_nothing_commit_delivers_once(Driver::SqlxSqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_publishes_nothing_commit_delivers_once_rusqlite() {
    rollback_publishes_nothing_commit_delivers_once(Driver::Rusqlite).await;
}

/// Starts the crash child for one life and reads its stdout until it says `marker`;
/// returns it (still running) and the lines before the marker.
async fn life(
    db: &AppDb,
    relay_db: &str,
    receiver: &Receiver,
    args: &[&str],
    marker: &str,
) -> (Life, Vec<String>) {
    let driver = db.driver.to_string();
    let mut child = Life(
        Command::new(env!("CARGO_BIN_EXE_outbox_crash"))
            .args([driver.as_str(), &db.url, relay_db, &receiver.url])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the crash child"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let wanted = marker.to_owned();
    let read = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("child stdout");
            if line == wanted {
                return Some(lines);
            }
            lines.push(line);
        }
        None
    });
    match tokio::time::timeout(Duration::from_secs(60), read).await {
        Ok(Ok(Some(lines))) => (child, lines),
        other => {
            drop(child);
            panic!("the child ({args:?}) never said {marker}: {other:?}");
        }
    }
}

/// A running crash child, SIGKILLed (what `Child::kill` sends on Unix) and reaped when
/// dropped, also when the test fails before it kills the child itself.
struct Life(Child);

impl Drop for Life {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIGKILLs the child and reaps it.
fn kill(life: Life) {
    drop(life);
}

async fn killed_between_commit_move_and_delete_delivers_once(driver: Driver) {
    let test = format!("outbox SIGKILL with {driver}");
    let Some(setup) = Setup::new(driver, &test).await else {
        return;
    };
    let db = &setup.db;
    let receiver = Receiver::ok().await;
    let relay_db = setup.dir.path().join("relay.db");
    let relay_db = relay_db.to_string_lossy().into_owned();
    // Life 1: commits ten rows, killed before any move.
    let (child, lines) = life(db, &relay_db, &receiver, &["write", "10"], "COMMITTED").await;
    kill(child);
    let ids: Vec<EventId> = (lines.iter())
        .filter_map(|l| l.strip_prefix("ID ")?.parse().ok())
        .collect();
    assert_eq!(ids.len(), 10, "{lines:?}");
    assert_eq!(db.count("relay_outbox").await, 10);
    // Life 2: moves four rows a round; killed after the sixth publish, before its delete.
    let (child, lines) = life(db, &relay_db, &receiver, &["move", "6"], "PAUSED").await;
    kill(child);
    assert_eq!(lines.iter().filter(|l| l.starts_with("MOVED")).count(), 6);
    // PostgreSQL rolls back the killed round (rows 5–10 stay); SQLite deleted rows 1–5.
    let left = if driver.is_postgres() { 6 } else { 5 };
    assert_eq!(db.count("relay_outbox").await, left, "{driver}: {lines:?}");
    assert_eq!(receiver.count(), 0, "nothing is delivered without a worker");
    // Life 3: moves the rest (the sixth again: a duplicate) and delivers everything.
    let (child, _) = life(db, &relay_db, &receiver, &["deliver"], "MOVING").await;
    assert_delivered_once(db, &receiver, &ids).await;
    kill(child);
    assert!(db.dead_letter_errors().await.is_empty());
    setup.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_commit_move_and_delete_delivers_once_tokio_postgres() {
    killed_between_commit_move_and_delete_delivers_once(Driver::TokioPostgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_commit_move_and_delete_delivers_once_sqlx_postgres() {
    killed_between_commit_move_and_delete_delivers_once(Driver::SqlxPostgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_commit_move_and_delete_delivers_once_sqlx_sqlite() {
    killed_between_commit_move_and_delete_delivers_once(Driver::SqlxSqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_commit_move_and_delete_delivers_once_rusqlite() {
    killed_between_commit_move_and_delete_delivers_once(Driver::Rusqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_relay_leaves_the_row_and_a_second_move_sends_nothing() {
    let setup = Setup::new(Driver::Rusqlite, "outbox unavailable")
        .await
        .expect("SQLite needs no server");
    let db = &setup.db;
    let receiver = Receiver::ok().await;
    let event = OutboxEvent::new("invoice.paid", json!({"id": "inv_9"}));
    db.write(std::slice::from_ref(&event), true).await;
    let outbox = || SqliteOutbox::open(&db.url).expect("open");
    let down = relay(Arc::new(UNAVAILABLE_STORE), &receiver.url);
    let round = Mover::new(down, outbox(), MoverConfig::default())
        .run_round()
        .await
        .expect("round");
    assert!(round.relay_unavailable && round.accepted == 0, "{round:?}");
    assert_eq!(db.count("relay_outbox").await, 1, "the row stays");
    assert!(db.dead_letter_errors().await.is_empty());

    let pipeline = Pipeline::run(relay(Arc::new(MemoryStore::new()), &receiver.url));
    let mut mover = Mover::new(pipeline.relay.clone(), outbox(), MoverConfig::default());
    let moved = mover.run_round().await.expect("round");
    assert_eq!((moved.claimed, moved.accepted), (1, 1), "{moved:?}");
    // The same row again (as after a kill before its delete), with the documented plain
    // INSERT: a duplicate, nothing sent.
    let conn = rusqlite::Connection::open(&db.url).expect("open");
    let row = (
        event.event_id().to_string(),
        "default",
        "invoice.paid",
        r#"{"id":"inv_9"}"#,
    );
    let no: Option<String> = None;
    let params = rusqlite::params![row.0, row.1, row.2, row.3, no, no, no];
    conn.execute(relay_outbox::SQLITE_INSERT, params)
        .expect("plain INSERT");
    let again = mover.run_round().await.expect("round");
    let expected = Round {
        claimed: 1,
        duplicates: 1,
        ..Round::default()
    };
    assert_eq!(again, expected);
    assert_delivered_once(db, &receiver, &[event.event_id()]).await;
    pipeline.stop().await;
    setup.cleanup().await;
}
