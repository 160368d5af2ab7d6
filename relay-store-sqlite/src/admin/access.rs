//! API keys, users (with atomic lockout counting) and sessions.

use relay_core::control::admin::{ApiKeyRecord, Role, SessionRecord, UserRecord};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::rows::{corrupt, time};
use crate::writes::Db;

const KEY_COLUMNS: &str = "id, tenant, name, role, secret_hash, created_at, created_by, revoked_at";

const USER_COLUMNS: &str =
    "tenant, username, role, password_hash, created_at, failed_logins, locked_until";

const SESSION_COLUMNS: &str = "token_hash, tenant, username, created_at, expires_at";

fn role(row: &Row<'_>, index: usize) -> rusqlite::Result<Role> {
    let text: String = row.get(index)?;
    text.parse()
        .map_err(|e: relay_core::control::admin::UnknownRole| corrupt(index, e.to_string()))
}

fn optional_time(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Timestamp>> {
    Ok(row
        .get::<_, Option<i64>>(index)?
        .map(Timestamp::from_millis))
}

fn api_key(row: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        tenant: TenantId::new(row.get::<_, String>(1)?),
        name: row.get(2)?,
        role: role(row, 3)?,
        secret_hash: row.get(4)?,
        created_at: time(row, 5)?,
        created_by: row.get(6)?,
        revoked_at: optional_time(row, 7)?,
    })
}

fn user(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        tenant: TenantId::new(row.get::<_, String>(0)?),
        username: row.get(1)?,
        role: role(row, 2)?,
        password_hash: row.get(3)?,
        created_at: time(row, 4)?,
        failed_logins: row.get(5)?,
        locked_until: optional_time(row, 6)?,
    })
}

fn session(row: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        token_hash: row.get(0)?,
        tenant: TenantId::new(row.get::<_, String>(1)?),
        username: row.get(2)?,
        created_at: time(row, 3)?,
        expires_at: time(row, 4)?,
    })
}

/// [`AccessStore::insert_api_key`](relay_core::store::AccessStore::insert_api_key).
pub(crate) fn insert_api_key(conn: &Connection, key: &ApiKeyRecord) -> Result<bool, StoreError> {
    let inserted = conn
        .prepare_cached(&format!(
            "INSERT INTO api_keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO NOTHING"
        ))
        .db()?
        .execute(params![
            key.id,
            key.tenant.as_str(),
            key.name,
            key.role.as_str(),
            key.secret_hash,
            key.created_at.as_millis(),
            key.created_by,
            key.revoked_at.map(Timestamp::as_millis),
        ])
        .db()?;
    Ok(inserted == 1)
}

/// [`AccessStore::api_key`](relay_core::store::AccessStore::api_key).
pub(crate) fn find_api_key(
    conn: &Connection,
    id: &str,
) -> Result<Option<ApiKeyRecord>, StoreError> {
    conn.prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"))
        .db()?
        .query_row([id], api_key)
        .optional()
        .db()
}

/// [`AccessStore::api_keys`](relay_core::store::AccessStore::api_keys).
pub(crate) fn api_keys(
    conn: &Connection,
    tenant: &TenantId,
) -> Result<Vec<ApiKeyRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant = ?1 ORDER BY created_at, id"
    ))
    .db()?
    .query_map([tenant.as_str()], api_key)
    .db()?
    .collect::<rusqlite::Result<_>>()
    .db()
}

/// [`AccessStore::revoke_api_key`](relay_core::store::AccessStore::revoke_api_key).
pub(crate) fn revoke_api_key(
    conn: &Connection,
    tenant: &TenantId,
    id: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE api_keys SET revoked_at = ?3
             WHERE id = ?1 AND tenant = ?2 AND revoked_at IS NULL",
        )
        .db()?
        .execute(params![id, tenant.as_str(), at.as_millis()])
        .db()?;
    Ok(changed == 1)
}

/// [`AccessStore::insert_user`](relay_core::store::AccessStore::insert_user).
pub(crate) fn insert_user(conn: &Connection, user: &UserRecord) -> Result<bool, StoreError> {
    let inserted = conn
        .prepare_cached(&format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (tenant, username) DO NOTHING"
        ))
        .db()?
        .execute(params![
            user.tenant.as_str(),
            user.username,
            user.role.as_str(),
            user.password_hash,
            user.created_at.as_millis(),
            user.failed_logins,
            user.locked_until.map(Timestamp::as_millis),
        ])
        .db()?;
    Ok(inserted == 1)
}

/// [`AccessStore::user`](relay_core::store::AccessStore::user).
pub(crate) fn find_user(
    conn: &Connection,
    tenant: &TenantId,
    username: &str,
) -> Result<Option<UserRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE tenant = ?1 AND username = ?2"
    ))
    .db()?
    .query_row(params![tenant.as_str(), username], user)
    .optional()
    .db()
}

/// [`AccessStore::users`](relay_core::store::AccessStore::users).
pub(crate) fn users(conn: &Connection, tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE tenant = ?1 ORDER BY username"
    ))
    .db()?
    .query_map([tenant.as_str()], user)
    .db()?
    .collect::<rusqlite::Result<_>>()
    .db()
}

/// [`AccessStore::delete_user`](relay_core::store::AccessStore::delete_user): the user and
/// their sessions.
pub(crate) fn delete_user(
    conn: &Connection,
    tenant: &TenantId,
    username: &str,
) -> Result<bool, StoreError> {
    conn.prepare_cached("DELETE FROM sessions WHERE tenant = ?1 AND username = ?2")
        .db()?
        .execute(params![tenant.as_str(), username])
        .db()?;
    let deleted = conn
        .prepare_cached("DELETE FROM users WHERE tenant = ?1 AND username = ?2")
        .db()?
        .execute(params![tenant.as_str(), username])
        .db()?;
    Ok(deleted == 1)
}

/// [`AccessStore::record_login_failure`](relay_core::store::AccessStore::record_login_failure):
/// one UPDATE (its SET expressions all see the row before it), so concurrent failures each
/// count.
pub(crate) fn record_login_failure(
    conn: &Connection,
    tenant: &TenantId,
    username: &str,
    lock_after: u32,
    lock_until: Timestamp,
) -> Result<Option<UserRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "UPDATE users SET
             failed_logins = CASE WHEN failed_logins + 1 >= ?3 THEN 0
                                  ELSE failed_logins + 1 END,
             locked_until = CASE WHEN failed_logins + 1 >= ?3 THEN ?4 ELSE locked_until END
         WHERE tenant = ?1 AND username = ?2
         RETURNING {USER_COLUMNS}"
    ))
    .db()?
    .query_row(
        params![
            tenant.as_str(),
            username,
            lock_after,
            lock_until.as_millis()
        ],
        user,
    )
    .optional()
    .db()
}

/// [`AccessStore::record_login_success`](relay_core::store::AccessStore::record_login_success).
pub(crate) fn record_login_success(
    conn: &Connection,
    tenant: &TenantId,
    username: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE users SET failed_logins = 0, locked_until = NULL
         WHERE tenant = ?1 AND username = ?2",
    )
    .db()?
    .execute(params![tenant.as_str(), username])
    .db()?;
    Ok(())
}

/// [`AccessStore::insert_session`](relay_core::store::AccessStore::insert_session).
pub(crate) fn insert_session(conn: &Connection, session: &SessionRecord) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
    ))
    .db()?
    .execute(params![
        session.token_hash,
        session.tenant.as_str(),
        session.username,
        session.created_at.as_millis(),
        session.expires_at.as_millis(),
    ])
    .db()?;
    Ok(())
}

/// [`AccessStore::session`](relay_core::store::AccessStore::session).
pub(crate) fn find_session(
    conn: &Connection,
    token_hash: &[u8],
) -> Result<Option<SessionRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1"
    ))
    .db()?
    .query_row([token_hash], session)
    .optional()
    .db()
}

/// [`AccessStore::delete_session`](relay_core::store::AccessStore::delete_session).
pub(crate) fn delete_session(conn: &Connection, token_hash: &[u8]) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")
        .db()?
        .execute([token_hash])
        .db()?;
    Ok(())
}
