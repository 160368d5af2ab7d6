//! API keys, users (with atomic lockout counting) and sessions.

use deadpool_postgres::Pool;
use relay_core::control::admin::{ApiKeyRecord, Role, SessionRecord, UserRecord};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use tokio_postgres::Row;

use super::{execute, rows};
use crate::error::PgStoreError;
use crate::rows::{count, get};

const INSERT_KEY: &str = "INSERT INTO api_keys
         (id, tenant, name, role, secret_hash, created_at, created_by, revoked_at)
     VALUES ($1::text, $2::text, $3::text, $4::text, $5::bytea, $6::int8, $7::text, $8::int8)
     ON CONFLICT (id) DO NOTHING";

const KEY: &str = "SELECT id, tenant, name, role, secret_hash, created_at, created_by, revoked_at
     FROM api_keys WHERE id = $1::text";

const KEYS: &str = "SELECT id, tenant, name, role, secret_hash, created_at, created_by, revoked_at
     FROM api_keys WHERE tenant = $1::text ORDER BY created_at, id COLLATE \"C\"";

const REVOKE_KEY: &str = "UPDATE api_keys SET revoked_at = $3::int8
     WHERE id = $1::text AND tenant = $2::text AND revoked_at IS NULL";

const USER_COLUMNS: &str =
    "tenant, username, role, password_hash, created_at, failed_logins, locked_until";

const INSERT_USER: &str = "INSERT INTO users
         (tenant, username, role, password_hash, created_at, failed_logins, locked_until)
     VALUES ($1::text, $2::text, $3::text, $4::text, $5::int8, $6::int4, $7::int8)
     ON CONFLICT (tenant, username) DO NOTHING";

/// Counts one failure in one statement: the SET expressions see the row as it was, and
/// concurrent failures of one user wait for each other's row lock, so each one counts.
const LOGIN_FAILURE: &str = "UPDATE users SET
         failed_logins = CASE WHEN failed_logins + 1 >= $3::int4 THEN 0
                              ELSE failed_logins + 1 END,
         locked_until = CASE WHEN failed_logins + 1 >= $3::int4 THEN $4::int8
                             ELSE locked_until END
     WHERE tenant = $1::text AND username = $2::text
     RETURNING tenant, username, role, password_hash, created_at, failed_logins, locked_until";

const LOGIN_SUCCESS: &str = "UPDATE users SET failed_logins = 0, locked_until = NULL
     WHERE tenant = $1::text AND username = $2::text";

const DELETE_USER: &str = "WITH gone AS (
         DELETE FROM sessions WHERE tenant = $1::text AND username = $2::text
     )
     DELETE FROM users WHERE tenant = $1::text AND username = $2::text";

const INSERT_SESSION: &str = "INSERT INTO sessions
         (token_hash, tenant, username, created_at, expires_at)
     VALUES ($1::bytea, $2::text, $3::text, $4::int8, $5::int8)
     ON CONFLICT (token_hash) DO UPDATE SET tenant = excluded.tenant,
         username = excluded.username, created_at = excluded.created_at,
         expires_at = excluded.expires_at";

const SESSION: &str = "SELECT token_hash, tenant, username, created_at, expires_at
     FROM sessions WHERE token_hash = $1::bytea";

const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1::bytea";

fn role(row: &Row, index: usize) -> Result<Role, PgStoreError> {
    let text: String = get(row, index)?;
    text.parse()
        .map_err(|e: relay_core::control::admin::UnknownRole| PgStoreError::Corrupt(e.to_string()))
}

fn time(row: &Row, index: usize) -> Result<Timestamp, PgStoreError> {
    Ok(Timestamp::from_millis(get(row, index)?))
}

fn optional_time(row: &Row, index: usize) -> Result<Option<Timestamp>, PgStoreError> {
    Ok(get::<Option<i64>>(row, index)?.map(Timestamp::from_millis))
}

fn api_key(row: &Row) -> Result<ApiKeyRecord, PgStoreError> {
    Ok(ApiKeyRecord {
        id: get(row, 0)?,
        tenant: TenantId::new(get::<String>(row, 1)?),
        name: get(row, 2)?,
        role: role(row, 3)?,
        secret_hash: get(row, 4)?,
        created_at: time(row, 5)?,
        created_by: get(row, 6)?,
        revoked_at: optional_time(row, 7)?,
    })
}

fn user(row: &Row) -> Result<UserRecord, PgStoreError> {
    Ok(UserRecord {
        tenant: TenantId::new(get::<String>(row, 0)?),
        username: get(row, 1)?,
        role: role(row, 2)?,
        password_hash: get(row, 3)?,
        created_at: time(row, 4)?,
        failed_logins: count(row, 5)?,
        locked_until: optional_time(row, 6)?,
    })
}

fn session(row: &Row) -> Result<SessionRecord, PgStoreError> {
    Ok(SessionRecord {
        token_hash: get(row, 0)?,
        tenant: TenantId::new(get::<String>(row, 1)?),
        username: get(row, 2)?,
        created_at: time(row, 3)?,
        expires_at: time(row, 4)?,
    })
}

fn first<T>(
    found: Vec<Row>,
    decode: impl Fn(&Row) -> Result<T, PgStoreError>,
) -> Result<Option<T>, StoreError> {
    Ok(found.first().map(decode).transpose()?)
}

fn all<T>(
    found: Vec<Row>,
    decode: impl Fn(&Row) -> Result<T, PgStoreError>,
) -> Result<Vec<T>, StoreError> {
    Ok(found.iter().map(decode).collect::<Result<_, _>>()?)
}

fn signed(count: u32) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

pub(crate) async fn insert_api_key(pool: &Pool, key: &ApiKeyRecord) -> Result<bool, StoreError> {
    let inserted = execute(
        pool,
        INSERT_KEY,
        &[
            &key.id,
            &key.tenant.as_str(),
            &key.name,
            &key.role.as_str(),
            &key.secret_hash,
            &key.created_at.as_millis(),
            &key.created_by,
            &key.revoked_at.map(Timestamp::as_millis),
        ],
    )
    .await?;
    Ok(inserted == 1)
}

pub(crate) async fn find_api_key(
    pool: &Pool,
    id: &str,
) -> Result<Option<ApiKeyRecord>, StoreError> {
    first(rows(pool, KEY, &[&id]).await?, api_key)
}

pub(crate) async fn api_keys(
    pool: &Pool,
    tenant: &TenantId,
) -> Result<Vec<ApiKeyRecord>, StoreError> {
    all(rows(pool, KEYS, &[&tenant.as_str()]).await?, api_key)
}

pub(crate) async fn revoke_api_key(
    pool: &Pool,
    tenant: &TenantId,
    id: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = execute(pool, REVOKE_KEY, &[&id, &tenant.as_str(), &at.as_millis()]).await?;
    Ok(changed == 1)
}

pub(crate) async fn insert_user(pool: &Pool, user: &UserRecord) -> Result<bool, StoreError> {
    let inserted = execute(
        pool,
        INSERT_USER,
        &[
            &user.tenant.as_str(),
            &user.username,
            &user.role.as_str(),
            &user.password_hash,
            &user.created_at.as_millis(),
            &signed(user.failed_logins),
            &user.locked_until.map(Timestamp::as_millis),
        ],
    )
    .await?;
    Ok(inserted == 1)
}

pub(crate) async fn find_user(
    pool: &Pool,
    tenant: &TenantId,
    username: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let sql =
        format!("SELECT {USER_COLUMNS} FROM users WHERE tenant = $1::text AND username = $2::text");
    first(
        rows(pool, &sql, &[&tenant.as_str(), &username]).await?,
        user,
    )
}

pub(crate) async fn users(pool: &Pool, tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE tenant = $1::text ORDER BY username COLLATE \"C\""
    );
    all(rows(pool, &sql, &[&tenant.as_str()]).await?, user)
}

pub(crate) async fn delete_user(
    pool: &Pool,
    tenant: &TenantId,
    username: &str,
) -> Result<bool, StoreError> {
    let deleted = execute(pool, DELETE_USER, &[&tenant.as_str(), &username]).await?;
    Ok(deleted == 1)
}

pub(crate) async fn record_login_failure(
    pool: &Pool,
    tenant: &TenantId,
    username: &str,
    lock_after: u32,
    lock_until: Timestamp,
) -> Result<Option<UserRecord>, StoreError> {
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] = [
        &tenant.as_str(),
        &username,
        &signed(lock_after),
        &lock_until.as_millis(),
    ];
    first(rows(pool, LOGIN_FAILURE, &params).await?, user)
}

pub(crate) async fn record_login_success(
    pool: &Pool,
    tenant: &TenantId,
    username: &str,
) -> Result<(), StoreError> {
    execute(pool, LOGIN_SUCCESS, &[&tenant.as_str(), &username]).await?;
    Ok(())
}

pub(crate) async fn insert_session(pool: &Pool, session: &SessionRecord) -> Result<(), StoreError> {
    execute(
        pool,
        INSERT_SESSION,
        &[
            &session.token_hash,
            &session.tenant.as_str(),
            &session.username,
            &session.created_at.as_millis(),
            &session.expires_at.as_millis(),
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn find_session(
    pool: &Pool,
    token_hash: &[u8],
) -> Result<Option<SessionRecord>, StoreError> {
    first(rows(pool, SESSION, &[&token_hash]).await?, session)
}

pub(crate) async fn delete_session(pool: &Pool, token_hash: &[u8]) -> Result<(), StoreError> {
    execute(pool, DELETE_SESSION, &[&token_hash]).await?;
    Ok(())
}
