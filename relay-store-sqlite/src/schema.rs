//! The embedded, versioned schema: migration `n` moves `PRAGMA user_version` from `n - 1`
//! to `n`, in one transaction.

use rusqlite::Connection;

/// Migrations, in order; the schema version is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: events, dedup entries, deliveries (the queue) and attempts.
    "
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id BLOB NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        event_type TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        headers BLOB NOT NULL,
        body BLOB NOT NULL,
        received_at INTEGER NOT NULL,
        status TEXT NOT NULL
    );
    CREATE INDEX events_received ON events (received_at);

    CREATE TABLE dedup (
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        event_id BLOB NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, source, idempotency_key)
    ) WITHOUT ROWID;
    CREATE INDEX dedup_expiry ON dedup (expires_at);

    CREATE TABLE deliveries (
        seq INTEGER PRIMARY KEY,
        id BLOB NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        event_id BLOB NOT NULL,
        destination TEXT NOT NULL,
        route TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        cycle_attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        lease_token INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX deliveries_event ON deliveries (event_id);
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at)
        WHERE status IN ('pending', 'in_flight');
    CREATE INDEX deliveries_dead ON deliveries (tenant, updated_at)
        WHERE status = 'dead_lettered';

    CREATE TABLE attempts (
        seq INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        delivery_id BLOB NOT NULL,
        number INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        latency_ms INTEGER NOT NULL,
        status_code INTEGER,
        error TEXT,
        response_excerpt TEXT,
        outcome TEXT NOT NULL
    );
    CREATE INDEX attempts_delivery ON attempts (delivery_id, seq);
    ",
    // 2: circuit-breaker state per destination.
    "
    CREATE TABLE circuits (
        tenant TEXT NOT NULL,
        destination TEXT NOT NULL,
        phase TEXT NOT NULL,
        failures INTEGER NOT NULL,
        window_started INTEGER NOT NULL,
        until INTEGER NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (tenant, destination)
    ) WITHOUT ROWID;
    ",
    // 3: saved HTTP destinations (credentials sealed by relay-core before they arrive).
    "
    CREATE TABLE destinations (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        signing_secret BLOB,
        auth_header BLOB,
        settings TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, name)
    ) WITHOUT ROWID;
    ",
    // 4: the admin side: API keys, users, sessions, the append-only audit log, per-minute
    // metric points; indexes for the event listing (newest first by id per tenant) and for
    // dead-letter pages (by id per tenant).
    "
    CREATE INDEX events_tenant_id ON events (tenant, id);
    CREATE INDEX deliveries_dead_id ON deliveries (tenant, id)
        WHERE status = 'dead_lettered';

    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        secret_hash BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        revoked_at INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at, id);

    CREATE TABLE users (
        tenant TEXT NOT NULL,
        username TEXT NOT NULL,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER,
        PRIMARY KEY (tenant, username)
    ) WITHOUT ROWID;

    CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,
        tenant TEXT NOT NULL,
        username TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sessions_user ON sessions (tenant, username);

    CREATE TABLE audit_log (
        id BLOB PRIMARY KEY,
        tenant TEXT NOT NULL,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        object_kind TEXT NOT NULL,
        object_id TEXT NOT NULL,
        changes TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX audit_log_tenant ON audit_log (tenant, id);

    CREATE TABLE metric_points (
        tenant TEXT NOT NULL,
        minute INTEGER NOT NULL,
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        metric TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (tenant, minute, scope, name, metric)
    ) WITHOUT ROWID;
    ",
    // 5: ordered delivery: a delivery's ordering key and whether its dead letter holds the
    // lane; the lane index finds the deliveries queued before one of the same key.
    "
    ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
    ALTER TABLE deliveries ADD COLUMN ordering_block INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX deliveries_lane ON deliveries (tenant, destination, ordering_key, seq)
        WHERE ordering_key IS NOT NULL;
    ",
    // 6: sources, destinations and routes created through the admin API (secrets sealed).
    "
    CREATE TABLE config_objects (
        tenant TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, kind, name)
    ) WITHOUT ROWID;
    ",
    // 7: the tenant registry (limits as a JSON object) and the daily quota counters.
    "
    CREATE TABLE tenants (
        name TEXT PRIMARY KEY,
        limits TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE tenant_quota (
        tenant TEXT NOT NULL,
        day INTEGER NOT NULL,
        used INTEGER NOT NULL,
        PRIMARY KEY (tenant, day)
    ) WITHOUT ROWID;
    ",
    // 8: the holder of a delivery's lease (a node's stable identity, or NULL), so that the
    // node's next life reclaims its leases at once; the index finds a holder's leases.
    "
    ALTER TABLE deliveries ADD COLUMN lease_holder TEXT;
    CREATE INDEX deliveries_holder ON deliveries (lease_holder)
        WHERE status = 'in_flight' AND lease_holder IS NOT NULL;
    ",
    // 9: consumer-portal links (only their token's digest), consumed once.
    "
    CREATE TABLE portal_links (
        token_hash BLOB PRIMARY KEY,
        id TEXT NOT NULL,
        tenant TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX portal_links_expiry ON portal_links (expires_at);
    ",
    // 10: the enabled/disabled state of every source, destination and route (configured or
    // created through the API), who changed it and why; API objects disabled before this
    // version carry their state over.
    "
    CREATE TABLE object_state (
        tenant TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        changed_by TEXT NOT NULL,
        reason TEXT NOT NULL,
        changed_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, kind, name)
    ) WITHOUT ROWID;
    INSERT INTO object_state (tenant, kind, name, enabled, changed_by, reason, changed_at)
        SELECT tenant, kind, name, 0, 'operator', '', updated_at FROM config_objects
        WHERE enabled = 0 AND kind IN ('source', 'destination');
    ",
    // 11: agents across nodes: the agent a delivery goes through (only a node holding its
    // connection leases it), and each agent connection's presence per node (refreshed while
    // it lasts, kept after it ends for the last-seen time).
    "
    ALTER TABLE deliveries ADD COLUMN agent TEXT;
    CREATE TABLE agent_presence (
        tenant TEXT NOT NULL,
        agent TEXT NOT NULL,
        node_id TEXT NOT NULL,
        session TEXT NOT NULL,
        connected_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        version TEXT NOT NULL,
        targets TEXT NOT NULL,
        PRIMARY KEY (tenant, agent, node_id)
    ) WITHOUT ROWID;
    ",
    // 12: the client address of an audit entry (NULL on older rows and for the system's own
    // entries), and one record per refused signature (never the secret or the signature).
    "
    ALTER TABLE audit_log ADD COLUMN client TEXT;
    CREATE TABLE signature_failures (
        id BLOB PRIMARY KEY,
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        header TEXT,
        client TEXT,
        at INTEGER NOT NULL,
        request_id TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX signature_failures_tenant ON signature_failures (tenant, id);
    CREATE INDEX signature_failures_at ON signature_failures (at);
    ",
    // 13: the circuit breaker's window, when and why
    // it opened, and its half-open probes' tally, as relay-core's `CircuitDetail` text (rows
    // from before read as an empty window, `''`); and the indexes the retention pruner's
    // queries need (expired sessions, old audit entries, old metric points).
    "
    ALTER TABLE circuits ADD COLUMN detail TEXT NOT NULL DEFAULT '';
    CREATE INDEX sessions_expiry ON sessions (expires_at);
    CREATE INDEX audit_log_at ON audit_log (at);
    CREATE INDEX metric_points_minute ON metric_points (minute);
    ",
    // 14: what an attempt sent and got back, for the attempt view: `detail` is relay-core's
    // `AttemptDetail` as JSON (timing in µs, method, URL, redacted request headers, capped
    // response headers; NULL when none), `request_body` the body sent only when a
    // transformer changed it (NULL: the event's body was sent).
    "
    ALTER TABLE attempts ADD COLUMN detail TEXT;
    ALTER TABLE attempts ADD COLUMN request_body BLOB;
    ", // 15: one word per action in the audit log: a dead-letter replay was audited as
    // `redrive` before it became `replay` (the dashboard's button and the CLI's word); older
    // entries are rewritten so a filter by action finds them all under `replay`. The index
    // serves that filter.
    "
    UPDATE audit_log SET action = 'replay' WHERE action = 'redrive';
    CREATE INDEX audit_log_action ON audit_log (tenant, action, id);
    ",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// A migration could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// Applying migration `version` failed; the database stays at the version before it.
    #[error("migration to schema version {version} failed")]
    Failed {
        /// The version the migration would have produced.
        version: u32,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer build.
    #[error("database schema version {found} is newer than this build's {supported}")]
    TooNew {
        /// The database's `user_version`.
        found: u32,
        /// [`SCHEMA_VERSION`].
        supported: u32,
    },
}

/// The database's schema version (`PRAGMA user_version`).
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Applies the migrations after version `found` on `conn`, which must be inside a
/// transaction.
pub(crate) fn apply_from(conn: &Connection, found: u32) -> Result<(), MigrationError> {
    apply_between(conn, found, SCHEMA_VERSION)
}

/// Applies the migrations after version `found` up to version `target` on `conn`, which
/// must be inside a transaction.
pub(crate) fn apply_between(
    conn: &Connection,
    found: u32,
    target: u32,
) -> Result<(), MigrationError> {
    let steps = target.saturating_sub(found) as usize;
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(found as usize)
        .take(steps)
    {
        let version = index as u32 + 1;
        let failed = |source| MigrationError::Failed { version, source };
        conn.execute_batch(sql).map_err(failed)?;
        conn.pragma_update(None, "user_version", version)
            .map_err(failed)?;
    }
    Ok(())
}

/// Checks the version and applies what is missing, inside the caller's transaction.
pub(crate) fn migrate_in_tx(conn: &Connection) -> Result<u32, MigrationError> {
    let found = version(conn).map_err(|source| MigrationError::Failed { version: 0, source })?;
    if found > SCHEMA_VERSION {
        return Err(MigrationError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    apply_from(conn, found)?;
    Ok(SCHEMA_VERSION)
}

/// Applies the missing migrations in one transaction; returns the version reached.
/// Idempotent.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32, MigrationError> {
    let failed = |source| MigrationError::Failed {
        version: SCHEMA_VERSION,
        source,
    };
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(failed)?;
    let reached = migrate_in_tx(&tx)?;
    tx.commit().map_err(failed)?;
    Ok(reached)
}
