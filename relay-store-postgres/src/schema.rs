//! The embedded, versioned schema. Migration `n` is applied once, in one transaction with
//! the row `n` in `relay_schema_migrations`; concurrent migrators (several nodes starting at
//! once) serialise on a transaction-scoped advisory lock.

use deadpool_postgres::Client;

/// Migrations, in order; the schema version is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: events, dedup entries, deliveries (the queue) and attempts. Times are Unix
    // milliseconds, exactly as relay-core's `Timestamp`. `seq` orders an event's deliveries
    // and a delivery's attempts by creation; indexes are kept to what the queries use, as
    // each one costs every ingest.
    "
    CREATE TABLE events (
        id UUID PRIMARY KEY,
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        event_type TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        headers BYTEA NOT NULL,
        body BYTEA NOT NULL,
        received_at BIGINT NOT NULL,
        status TEXT NOT NULL
    );
    CREATE INDEX events_received ON events (received_at);

    CREATE TABLE dedup (
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        event_id UUID NOT NULL,
        received_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, source, idempotency_key)
    );
    CREATE INDEX dedup_expiry ON dedup (expires_at);

    CREATE TABLE deliveries (
        id UUID PRIMARY KEY,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        tenant TEXT NOT NULL,
        event_id UUID NOT NULL,
        destination TEXT NOT NULL,
        route TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        cycle_attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        lease_token BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX deliveries_event ON deliveries (event_id, seq);
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at, seq)
        WHERE status IN ('pending', 'in_flight');
    CREATE INDEX deliveries_dead ON deliveries (tenant, updated_at)
        WHERE status = 'dead_lettered';

    CREATE TABLE attempts (
        delivery_id UUID NOT NULL,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        tenant TEXT NOT NULL,
        number INTEGER NOT NULL,
        started_at BIGINT NOT NULL,
        latency_ms BIGINT NOT NULL,
        status_code INTEGER,
        error TEXT,
        response_excerpt TEXT,
        outcome TEXT NOT NULL,
        PRIMARY KEY (delivery_id, seq)
    );
    ",
    // 2: circuit-breaker state per (tenant, destination), changed by compare-and-set on
    // `version`; and saved HTTP destinations, their credentials sealed by relay-core before
    // they arrive (the database never holds them in plaintext).
    "
    CREATE TABLE circuits (
        tenant TEXT NOT NULL,
        destination TEXT NOT NULL,
        phase TEXT NOT NULL,
        failures BIGINT NOT NULL,
        window_started BIGINT NOT NULL,
        until BIGINT NOT NULL,
        version BIGINT NOT NULL,
        PRIMARY KEY (tenant, destination)
    );

    CREATE TABLE destinations (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        signing_secret BYTEA,
        auth_header BYTEA,
        settings TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, name)
    );
    ",
    // 3: the admin side: API keys, users, sessions, the append-only audit log, per-minute
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
        secret_hash BYTEA NOT NULL,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        revoked_at BIGINT
    );
    CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at, id);

    CREATE TABLE users (
        tenant TEXT NOT NULL,
        username TEXT NOT NULL,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until BIGINT,
        PRIMARY KEY (tenant, username)
    );

    CREATE TABLE sessions (
        token_hash BYTEA PRIMARY KEY,
        tenant TEXT NOT NULL,
        username TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (tenant, username);

    CREATE TABLE audit_log (
        id UUID PRIMARY KEY,
        tenant TEXT NOT NULL,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        object_kind TEXT NOT NULL,
        object_id TEXT NOT NULL,
        changes TEXT NOT NULL
    );
    CREATE INDEX audit_log_tenant ON audit_log (tenant, id);

    CREATE TABLE metric_points (
        tenant TEXT NOT NULL,
        minute BIGINT NOT NULL,
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        metric TEXT NOT NULL,
        value BIGINT NOT NULL,
        PRIMARY KEY (tenant, minute, scope, name, metric)
    );
    ",
    // 4: ordered delivery: a delivery's ordering key and whether its dead letter holds the
    // lane; the lane index finds the deliveries queued before one of the same key.
    "
    ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
    ALTER TABLE deliveries ADD COLUMN ordering_block BOOLEAN NOT NULL DEFAULT false;
    CREATE INDEX deliveries_lane ON deliveries (tenant, destination, ordering_key, seq)
        WHERE ordering_key IS NOT NULL;
    ",
    // 5: sources, destinations and routes created through the admin API (secrets sealed).
    "
    CREATE TABLE config_objects (
        tenant TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        enabled BOOLEAN NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, kind, name)
    );
    ",
    // 6: the tenant registry (limits as a JSON object) and the daily quota counters.
    "
    CREATE TABLE tenants (
        name TEXT PRIMARY KEY,
        limits TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE TABLE tenant_quota (
        tenant TEXT NOT NULL,
        day BIGINT NOT NULL,
        used BIGINT NOT NULL,
        PRIMARY KEY (tenant, day)
    );
    ",
    // 7: the holder of a delivery's lease (a node's stable identity, or NULL), so that the
    // node's next life reclaims its leases at once; the index finds a holder's leases.
    "
    ALTER TABLE deliveries ADD COLUMN lease_holder TEXT;
    CREATE INDEX deliveries_holder ON deliveries (lease_holder)
        WHERE status = 'in_flight' AND lease_holder IS NOT NULL;
    ",
    // 8: consumer-portal links (only their token's digest), consumed once.
    "
    CREATE TABLE portal_links (
        token_hash BYTEA PRIMARY KEY,
        id TEXT NOT NULL,
        tenant TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
    );
    CREATE INDEX portal_links_expiry ON portal_links (expires_at);
    ",
    // 9: the enabled/disabled state of every source, destination and route (configured or
    // created through the API), who changed it and why; API objects disabled before this
    // version carry their state over.
    "
    CREATE TABLE object_state (
        tenant TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        enabled BOOLEAN NOT NULL,
        changed_by TEXT NOT NULL,
        reason TEXT NOT NULL,
        changed_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, kind, name)
    );
    INSERT INTO object_state (tenant, kind, name, enabled, changed_by, reason, changed_at)
        SELECT tenant, kind, name, FALSE, 'operator', '', updated_at FROM config_objects
        WHERE NOT enabled AND kind IN ('source', 'destination');
    ",
    // 10: agents across nodes: the agent a delivery goes through (only a node holding its
    // connection leases it), and each agent connection's presence per node (refreshed while
    // it lasts, kept after it ends for the last-seen time).
    "
    ALTER TABLE deliveries ADD COLUMN agent TEXT;
    CREATE TABLE agent_presence (
        tenant TEXT NOT NULL,
        agent TEXT NOT NULL,
        node_id TEXT NOT NULL,
        session TEXT NOT NULL,
        connected_at BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        version TEXT NOT NULL,
        targets TEXT NOT NULL,
        PRIMARY KEY (tenant, agent, node_id)
    );
    ",
    // 11: the client address of an audit entry (NULL on older rows and for the system's own
    // entries), and one record per refused signature (never the secret or the signature).
    "
    ALTER TABLE audit_log ADD COLUMN client TEXT;
    CREATE TABLE signature_failures (
        id UUID PRIMARY KEY,
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        header TEXT,
        client TEXT,
        at BIGINT NOT NULL,
        request_id TEXT NOT NULL
    );
    CREATE INDEX signature_failures_tenant ON signature_failures (tenant, id);
    CREATE INDEX signature_failures_at ON signature_failures (at);
    ",
    // 12: the circuit breaker's window, when and why
    // it opened, and its half-open probes' tally, as relay-core's `CircuitDetail` text (rows
    // from before read as an empty window, `''`); and the indexes the retention pruner's
    // queries need (expired sessions, old audit entries, old metric points).
    "
    ALTER TABLE circuits ADD COLUMN detail TEXT NOT NULL DEFAULT '';
    CREATE INDEX sessions_expiry ON sessions (expires_at);
    CREATE INDEX audit_log_at ON audit_log (at);
    CREATE INDEX metric_points_minute ON metric_points (minute);
    ",
    // 13: what an attempt sent and got back, for the attempt view: `detail` is relay-core's
    // `AttemptDetail` as JSON (timing in µs, method, URL, redacted request headers, capped
    // response headers; NULL when none), `request_body` the body sent only when a
    // transformer changed it (NULL: the event's body was sent).
    "
    ALTER TABLE attempts ADD COLUMN detail TEXT;
    ALTER TABLE attempts ADD COLUMN request_body BYTEA;
    ", // 14: one word per action in the audit log: a dead-letter replay was audited as
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

/// The advisory lock key migrators hold (the bytes of "relaymig").
const LOCK_KEY: i64 = 0x7265_6c61_796d_6967;

/// A migration could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// Applying migration `version` failed; the database stays at the version before it.
    #[error("migration to schema version {version} failed")]
    Failed {
        /// The version the migration would have produced (0: reading the version).
        version: u32,
        /// What PostgreSQL said.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The database was written by a newer build.
    #[error("database schema version {found} is newer than this build's {supported}")]
    TooNew {
        /// The highest version recorded in the database.
        found: u32,
        /// [`SCHEMA_VERSION`].
        supported: u32,
    },
}

/// Applies the missing migrations in one transaction on `client`; returns the version
/// reached. `schema`, already checked to be a plain identifier, is created first when given.
pub(crate) async fn migrate(
    client: &mut Client,
    schema: Option<&str>,
) -> Result<u32, MigrationError> {
    migrate_to(client, schema, SCHEMA_VERSION).await
}

/// [`migrate`], stopping at version `target` (tests build databases of earlier versions).
pub(crate) async fn migrate_to(
    client: &mut Client,
    schema: Option<&str>,
    target: u32,
) -> Result<u32, MigrationError> {
    let at = |version: u32| move |source| MigrationError::Failed { version, source };
    let tx = client.transaction().await.map_err(at(0))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(at(0))?;
    if let Some(schema) = schema {
        // An identifier cannot be bound; `schema` is restricted to [A-Za-z0-9_] and quoted.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await
            .map_err(at(0))?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS relay_schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(at(0))?;
    let found: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::INTEGER FROM relay_schema_migrations",
            &[],
        )
        .await
        .and_then(|row| row.try_get(0))
        .map_err(at(0))?;
    let found = u32::try_from(found).unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(MigrationError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let steps = target.saturating_sub(found) as usize;
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(found as usize)
        .take(steps)
    {
        let version = index as u32 + 1;
        tx.batch_execute(sql).await.map_err(at(version))?;
        tx.execute(
            "INSERT INTO relay_schema_migrations (version) VALUES ($1)",
            &[&(version as i32)],
        )
        .await
        .map_err(at(version))?;
    }
    tx.commit().await.map_err(at(target))?;
    Ok(found.max(target))
}
