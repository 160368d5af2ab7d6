//! [`Access`] (`relay.access()`), who is asking: API keys, users with lockout, sessions; the
//! audit log is appended through it too (see `audit.rs`).

use std::net::IpAddr;
use std::time::Duration;

use super::lockout::LOCK_FOR;
use super::password::{MIN_PASSWORD_LEN, decoy_hash, hash_password, verify_password};
use super::token::{NewApiKey, generate_api_key, generate_session_token, parse_api_key};
use super::{AdminError, ApiKeyRecord, Area, FieldChange, Role, SessionRecord, UserRecord};
use crate::model::ids::TenantId;
use crate::model::secret::{Secret, constant_time_eq};
use crate::model::time::Timestamp;
use crate::relay::Relay;

/// Who may act and what they did: API keys, users and their lockout, sessions, and the audit
/// log.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    pub(crate) relay: &'a Relay,
}

impl Relay {
    /// API keys, users, sessions and the audit log (see [`Access`]).
    pub fn access(&self) -> Access<'_> {
        Access { relay: self }
    }
}

/// Failed logins in a row that lock a username.
pub const LOCK_AFTER_FAILURES: u32 = 5;
/// How long a dashboard session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant it acts in.
    pub tenant: TenantId,
    /// Who it is, for the audit log: `key:<id>`, `user:<name>` or `system`.
    pub actor: String,
    /// What it may do.
    pub role: Role,
    /// The address its request came from (behind a trusted proxy, the address it reports),
    /// when the adapter knows it: recorded on the audit entries it makes. `None` for the
    /// system and for callers that are not requests.
    pub client: Option<std::net::IpAddr>,
}

impl Principal {
    /// The same principal, acting from `client` (what an adapter sets from the request).
    pub fn from_client(mut self, client: Option<std::net::IpAddr>) -> Self {
        self.client = client;
        self
    }
    /// The gateway itself (bootstrap, configuration), with every right.
    pub fn system(tenant: TenantId) -> Self {
        Self {
            tenant,
            actor: "system".into(),
            role: Role::Admin,
            client: None,
        }
    }

    /// `Ok` when the principal's role is at least `needed`. [`Role::Portal`] is ranked
    /// against no role, so it passes no such check (see [`Principal::require_in`]).
    pub fn require(&self, needed: Role) -> Result<(), AdminError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(AdminError::Forbidden { needed })
        }
    }

    /// `Ok` when the principal may do in `area` what `needed` may: a ranked role as
    /// [`Principal::require`], [`Role::Portal`] as [`Area::portal_may`] says.
    ///
    /// ```
    /// use relay_core::control::admin::{Area, Principal, Role};
    /// use relay_core::model::ids::TenantId;
    /// let mut portal = Principal::system(TenantId::new("acme"));
    /// portal.role = Role::Portal;
    /// assert!(portal.require_in(Area::Routes, Role::Admin).is_ok());
    /// assert!(portal.require_in(Area::Sources, Role::Admin).is_err());
    /// assert!(portal.require(Role::Viewer).is_err());
    /// ```
    pub fn require_in(&self, area: Area, needed: Role) -> Result<(), AdminError> {
        if self.role == Role::Portal && area.portal_may(needed) {
            Ok(())
        } else {
            self.require(needed)
        }
    }
}

/// A new API key: the stored record and the token, shown once.
#[derive(Debug)]
pub struct CreatedApiKey {
    /// What is stored (without the secret).
    pub record: ApiKeyRecord,
    /// The bearer token to hand to the client. It is not stored and cannot be shown again.
    pub token: Secret,
}

/// A started session: the cookie value and when it ends.
#[derive(Debug)]
pub struct StartedSession {
    /// The session token for the cookie.
    pub token: Secret,
    /// The logged-in user.
    pub user: UserRecord,
    /// When the session ends.
    pub expires_at: Timestamp,
}

fn check_name(field: &str, name: &str) -> Result<(), AdminError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AdminError::invalid(
            field,
            "1 to 64 characters: letters, digits, '-', '_', '.', '@'",
        ))
    }
}

/// `Ok` for a ranked role: [`Role::Portal`] belongs to portal-link sessions only, never to a
/// key or a user.
fn ranked(field: &str, role: Role) -> Result<(), AdminError> {
    if role == Role::Portal {
        return Err(AdminError::invalid(
            field,
            "the portal role is for consumer-portal links only",
        ));
    }
    Ok(())
}

impl Access<'_> {
    /// The principal a bearer API key authenticates; [`AdminError::Unauthorized`] for a
    /// malformed, unknown or revoked key.
    pub async fn authenticate_api_key(&self, token: &str) -> Result<Principal, AdminError> {
        let (id, presented) = parse_api_key(token).ok_or(AdminError::Unauthorized)?;
        let record = self.relay.store().api_key(&id).await?;
        let Some(record) = record else {
            return Err(AdminError::Unauthorized);
        };
        if record.revoked_at.is_some() || !constant_time_eq(&record.secret_hash, &presented) {
            return Err(AdminError::Unauthorized);
        }
        Ok(Principal {
            tenant: record.tenant,
            actor: format!("key:{}", record.id),
            role: record.role,
            client: None,
        })
    }

    /// Creates an API key with `role` in the principal's tenant (admins only); audited.
    pub async fn create_api_key(
        &self,
        by: &Principal,
        name: &str,
        role: Role,
    ) -> Result<CreatedApiKey, AdminError> {
        by.require(Role::Admin)?;
        ranked("role", role)?;
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AdminError::invalid("name", "1 to 100 characters"));
        }
        let NewApiKey {
            id,
            token,
            secret_hash,
        } = generate_api_key();
        let record = ApiKeyRecord {
            id,
            tenant: by.tenant.clone(),
            name: name.to_owned(),
            role,
            secret_hash,
            created_at: Timestamp::now(),
            created_by: by.actor.clone(),
            revoked_at: None,
        };
        if !self.relay.store().insert_api_key(record.clone()).await? {
            return Err(AdminError::Internal("API key id collision".into()));
        }
        let changes = vec![
            FieldChange::added("name", name),
            FieldChange::added("role", role.as_str()),
        ];
        self.audit(by, "create", "api_key", &record.id, changes)
            .await?;
        Ok(CreatedApiKey { record, token })
    }

    /// Revokes one of the tenant's API keys (admins only); audited.
    pub async fn revoke_api_key(&self, by: &Principal, id: &str) -> Result<(), AdminError> {
        by.require(Role::Admin)?;
        let now = Timestamp::now();
        if !self
            .relay
            .store()
            .revoke_api_key(&by.tenant, id, now)
            .await?
        {
            return Err(AdminError::NotFound);
        }
        self.audit(by, "revoke", "api_key", id, Vec::new()).await
    }

    /// Creates a dashboard user (admins only, or the gateway itself at bootstrap); audited.
    /// The password is hashed with argon2id and never stored or logged in clear.
    pub async fn create_user(
        &self,
        by: &Principal,
        username: &str,
        password: &Secret,
        role: Role,
    ) -> Result<UserRecord, AdminError> {
        by.require(Role::Admin)?;
        ranked("role", role)?;
        check_name("username", username)?;
        if password.expose().chars().count() < MIN_PASSWORD_LEN {
            return Err(AdminError::invalid(
                "password",
                format!("at least {MIN_PASSWORD_LEN} characters"),
            ));
        }
        let password_hash =
            hash_password(password.expose()).map_err(|e| AdminError::Internal(e.to_string()))?;
        let record = UserRecord {
            tenant: by.tenant.clone(),
            username: username.to_owned(),
            role,
            password_hash,
            created_at: Timestamp::now(),
            failed_logins: 0,
            locked_until: None,
        };
        if !self.relay.store().insert_user(record.clone()).await? {
            return Err(AdminError::Conflict(format!(
                "user {username:?} already exists"
            )));
        }
        let changes = vec![
            FieldChange::added("role", role.as_str()),
            FieldChange::secret("password"),
        ];
        self.audit(by, "create", "user", username, changes).await?;
        Ok(record)
    }

    /// Deletes a user and ends their sessions (admins only); audited.
    pub async fn delete_user(&self, by: &Principal, username: &str) -> Result<(), AdminError> {
        by.require(Role::Admin)?;
        if !self.relay.store().delete_user(&by.tenant, username).await? {
            return Err(AdminError::NotFound);
        }
        self.audit(by, "delete", "user", username, Vec::new()).await
    }

    /// Checks a username and password and starts a session. After
    /// [`LOCK_AFTER_FAILURES`] failures in a row the username is locked for [`LOCK_FOR`],
    /// whatever the client's address; a success resets the count. An unknown username and a
    /// wrong password get the same answer and take as long. [`Access::login_from`] also
    /// locks out a client address.
    pub async fn login(
        &self,
        tenant: &TenantId,
        username: &str,
        password: &Secret,
    ) -> Result<StartedSession, AdminError> {
        self.login_from(tenant, username, password, None).await
    }

    /// [`Access::login`] from a client address (what an adapter knows of the request): on
    /// top of each username's lockout, [`LOCK_CLIENT_AFTER_FAILURES`] failed logins from one
    /// address (whatever the usernames) within [`LOCK_FOR`] lock that address out for
    /// [`LOCK_FOR`] on this node (answered [`AdminError::Locked`], for every username, even
    /// with the right password). The `lock` audit entries record the address.
    ///
    /// [`LOCK_CLIENT_AFTER_FAILURES`]: super::LOCK_CLIENT_AFTER_FAILURES
    pub async fn login_from(
        &self,
        tenant: &TenantId,
        username: &str,
        password: &Secret,
        client: Option<IpAddr>,
    ) -> Result<StartedSession, AdminError> {
        let now = Timestamp::now();
        let lockouts = self.relay.client_lockouts();
        if let Some(until) = client.and_then(|ip| lockouts.locked_until(ip, now)) {
            return Err(AdminError::Locked { until });
        }
        let user = self.relay.store().user(tenant, username).await?;
        if let Some(until) = user.as_ref().and_then(|u| u.locked_until)
            && until > now
        {
            return Err(AdminError::Locked { until });
        }
        let hash = user
            .as_ref()
            .map_or(decoy_hash(), |u| u.password_hash.as_str());
        let matches = verify_password(password.expose(), hash);
        let Some(user) = user.filter(|_| matches) else {
            let system = Principal::system(tenant.clone()).from_client(client);
            if let Some(ip) = client
                && let Some(until) = lockouts.failed(ip, now)
            {
                let changes = vec![FieldChange::added("username", username)];
                (self.audit(&system, "lock", "client", &ip.to_string(), changes)).await?;
                return Err(AdminError::Locked { until });
            }
            let locked = self
                .relay
                .store()
                .record_login_failure(tenant, username, LOCK_AFTER_FAILURES, now.plus(LOCK_FOR))
                .await?;
            if let Some(until) = locked.and_then(|u| u.locked_until).filter(|t| *t > now) {
                self.audit(&system, "lock", "user", username, Vec::new())
                    .await?;
                return Err(AdminError::Locked { until });
            }
            return Err(AdminError::Unauthorized);
        };
        self.relay
            .store()
            .record_login_success(tenant, username)
            .await?;
        let (token, token_hash) = generate_session_token();
        let expires_at = now.plus(SESSION_TTL);
        self.relay
            .store()
            .insert_session(SessionRecord {
                token_hash,
                tenant: tenant.clone(),
                username: user.username.clone(),
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(StartedSession {
            token,
            user,
            expires_at,
        })
    }

    /// The principal of a session cookie; [`AdminError::Unauthorized`] for an unknown or
    /// expired session or a deleted user. The role is the user's current one; a portal
    /// session's is [`Role::Portal`].
    pub async fn authenticate_session(&self, token: &str) -> Result<Principal, AdminError> {
        let hash = super::token::digest(token.as_bytes());
        let session = self.relay.store().session(&hash).await?;
        let Some(session) = session.filter(|s| s.expires_at > Timestamp::now()) else {
            return Err(AdminError::Unauthorized);
        };
        if super::portal::is_portal_session(&session) {
            return Ok(Principal {
                tenant: session.tenant,
                actor: session.username,
                role: Role::Portal,
                client: None,
            });
        }
        let user = self
            .relay
            .store()
            .user(&session.tenant, &session.username)
            .await?;
        let user = user.ok_or(AdminError::Unauthorized)?;
        Ok(Principal {
            tenant: user.tenant,
            actor: format!("user:{}", user.username),
            role: user.role,
            client: None,
        })
    }

    /// Ends a session (logging out); unknown tokens are ignored.
    pub async fn logout(&self, token: &str) -> Result<(), AdminError> {
        let hash = super::token::digest(token.as_bytes());
        Ok(self.relay.store().delete_session(&hash).await?)
    }
}
