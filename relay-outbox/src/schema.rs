//! The outbox table, its dead-letter table and the statements on them, for PostgreSQL and
//! SQLite. Any driver (or `psql`/`sqlite3`) can run the DDL and the `INSERT`: nothing but
//! the table ties an app to this crate.
//!
//! | column | PostgreSQL | SQLite | meaning |
//! |---|---|---|---|
//! | `id` | `TEXT` primary key | `TEXT` primary key | the event id (`evt_` + 32 hex), fixed at write time (a random one by default) |
//! | `tenant` | `TEXT`, default `default` | same | the tenant the event is published in |
//! | `event_type` | `TEXT` | `TEXT` | e.g. `invoice.paid` |
//! | `payload` | `JSONB` | `TEXT` (valid JSON) | the body sent |
//! | `idempotency_key` | `TEXT` null | same | dedup key (same tenant and source, within its window) |
//! | `destinations` | `JSONB` null (array) | `TEXT` null (JSON array) | send to exactly these; null: routes decide |
//! | `source` | `TEXT` null | same | the publishing source; null: `app` |
//! | `created_at` | `TIMESTAMPTZ`, default `now()` | `TEXT`, default now (UTC, ms) | rows move oldest first |
//!
//! A row the relay refuses for good is moved to `relay_outbox_dead_letters` (the same
//! columns plus `error` and `failed_at`); re-insert it into `relay_outbox` once fixed.

/// The outbox table's name.
pub const TABLE: &str = "relay_outbox";

/// The dead-letter table's name.
pub const DEAD_LETTER_TABLE: &str = "relay_outbox_dead_letters";

/// The PostgreSQL DDL's text (a macro so the migration can `concat!` it).
macro_rules! postgres_ddl {
    () => {
        r#"
CREATE TABLE IF NOT EXISTS relay_outbox (
    id              TEXT PRIMARY KEY DEFAULT ('evt_' || replace(gen_random_uuid()::text, '-', '')),
    tenant          TEXT NOT NULL DEFAULT 'default',
    event_type      TEXT NOT NULL,
    payload         JSONB NOT NULL,
    idempotency_key TEXT,
    destinations    JSONB CHECK (destinations IS NULL OR jsonb_typeof(destinations) = 'array'),
    source          TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS relay_outbox_oldest ON relay_outbox (created_at, id);
CREATE TABLE IF NOT EXISTS relay_outbox_dead_letters (
    id              TEXT NOT NULL,
    tenant          TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         JSONB NOT NULL,
    idempotency_key TEXT,
    destinations    JSONB,
    source          TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    error           TEXT NOT NULL,
    failed_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS relay_outbox_dead_letters_id ON relay_outbox_dead_letters (id);
"#
    };
}

/// PostgreSQL DDL (idempotent). `gen_random_uuid()` needs PostgreSQL 13 or later.
pub const POSTGRES_DDL: &str = postgres_ddl!();

/// SQLite DDL (idempotent; SQLite 3.38 or later for the built-in JSON functions).
pub const SQLITE_DDL: &str = r#"
CREATE TABLE IF NOT EXISTS relay_outbox (
    id              TEXT PRIMARY KEY NOT NULL DEFAULT ('evt_' || lower(hex(randomblob(16)))),
    tenant          TEXT NOT NULL DEFAULT 'default',
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL CHECK (json_valid(payload)),
    idempotency_key TEXT,
    destinations    TEXT CHECK (destinations IS NULL OR json_type(destinations) = 'array'),
    source          TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS relay_outbox_oldest ON relay_outbox (created_at);
CREATE TABLE IF NOT EXISTS relay_outbox_dead_letters (
    id              TEXT NOT NULL,
    tenant          TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    idempotency_key TEXT,
    destinations    TEXT,
    source          TEXT,
    created_at      TEXT NOT NULL,
    error           TEXT NOT NULL,
    failed_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS relay_outbox_dead_letters_id ON relay_outbox_dead_letters (id);
"#;

/// The PostgreSQL `INSERT` an app runs in its own transaction: `$1` id, `$2` tenant,
/// `$3` event type, `$4` payload (JSON text), `$5` idempotency key, `$6` destinations (JSON
/// array text), `$7` source; `$5`–`$7` may be null. Every parameter is text.
pub const POSTGRES_INSERT: &str = "INSERT INTO relay_outbox \
    (id, tenant, event_type, payload, idempotency_key, destinations, source) \
    VALUES ($1, $2, $3, $4::text::jsonb, $5, $6::text::jsonb, $7)";

/// The SQLite `INSERT` an app runs in its own transaction; the parameters as in
/// [`POSTGRES_INSERT`], numbered `?1`–`?7`.
pub const SQLITE_INSERT: &str = "INSERT INTO relay_outbox \
    (id, tenant, event_type, payload, idempotency_key, destinations, source) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

// The statements a mover runs, for an [`OutboxBackend`](crate::OutboxBackend) of another driver.

/// Takes the oldest rows on PostgreSQL, skipping those another mover holds.
pub const POSTGRES_CLAIM: &str = "SELECT id, tenant, event_type, payload::text, \
    idempotency_key, destinations::text, source FROM relay_outbox \
    ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED";

/// Takes the oldest rows on SQLite.
pub const SQLITE_CLAIM: &str = "SELECT id, tenant, event_type, payload, \
    idempotency_key, destinations, source FROM relay_outbox \
    ORDER BY created_at, rowid LIMIT ?1";

/// Deletes a moved row (PostgreSQL).
pub const POSTGRES_DELETE: &str = "DELETE FROM relay_outbox WHERE id = $1";

/// Deletes a moved row (SQLite).
pub const SQLITE_DELETE: &str = "DELETE FROM relay_outbox WHERE id = ?1";

/// Copies a refused row into the dead-letter table with its error (PostgreSQL); the row is
/// then deleted with [`POSTGRES_DELETE`] in the same transaction.
pub const POSTGRES_DEAD_LETTER: &str = "INSERT INTO relay_outbox_dead_letters \
    (id, tenant, event_type, payload, idempotency_key, destinations, source, created_at, error) \
    SELECT id, tenant, event_type, payload, idempotency_key, destinations, source, created_at, $2 \
    FROM relay_outbox WHERE id = $1";

/// Copies a refused row into the dead-letter table with its error (SQLite).
pub const SQLITE_DEAD_LETTER: &str = "INSERT INTO relay_outbox_dead_letters \
    (id, tenant, event_type, payload, idempotency_key, destinations, source, created_at, error) \
    SELECT id, tenant, event_type, payload, idempotency_key, destinations, source, created_at, ?2 \
    FROM relay_outbox WHERE id = ?1";

/// The PostgreSQL migration: [`POSTGRES_DDL`] in one transaction under an advisory lock, so
/// several nodes may migrate at once.
pub const POSTGRES_MIGRATION: &str = concat!(
    "BEGIN; SELECT pg_advisory_xact_lock(7240581942);",
    postgres_ddl!(),
    "COMMIT;"
);
