//! Logging in, who is asking, API keys and users: requests and items.

use relay_core::control::admin::{ApiKeyRecord, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::{RoleParam, time};

/// `POST /auth/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
    /// The user's tenant (default: `default`).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub tenant: Option<String>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Who is logged in.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// `key:<id>` or `user:<name>`.
    pub actor: String,
    /// `viewer`, `operator` or `admin`.
    pub role: String,
    /// The tenant.
    pub tenant: String,
}

/// `POST /api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// A label.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// What the key may do.
    pub role: RoleParam,
}

/// An API key (the token only in the answer to its creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyItem {
    /// `key_…`.
    pub id: String,
    /// The label.
    pub name: String,
    /// The role.
    pub role: String,
    /// When made (RFC 3339).
    pub created_at: String,
    /// Who made it.
    pub created_by: String,
    /// When revoked (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// The bearer token: shown once, at creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<ApiKeyRecord> for KeyItem {
    fn from(k: ApiKeyRecord) -> Self {
        Self {
            id: k.id,
            name: k.name,
            role: k.role.as_str().to_owned(),
            created_at: time(k.created_at),
            created_by: k.created_by,
            revoked_at: k.revoked_at.map(time),
            token: None,
        }
    }
}

/// `POST /users`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// Login name.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub username: String,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub password: String,
    /// What the user may do.
    pub role: RoleParam,
}

/// A dashboard user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserItem {
    /// Login name.
    pub username: String,
    /// The role.
    pub role: String,
    /// When made (RFC 3339).
    pub created_at: String,
    /// Until when logins are refused (RFC 3339), after repeated failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
}

impl From<UserRecord> for UserItem {
    fn from(u: UserRecord) -> Self {
        Self {
            username: u.username,
            role: u.role.as_str().to_owned(),
            created_at: time(u.created_at),
            locked_until: u.locked_until.map(time),
        }
    }
}
