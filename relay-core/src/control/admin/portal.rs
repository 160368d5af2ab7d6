//! Consumer-portal links ([`Access::create_portal_link`], [`Access::redeem_portal_link`]): a
//! platform admin hands a customer a short-lived, one-time link that logs them into the
//! dashboard scoped to their tenant with [`Role::Portal`].
//!
//! Only the SHA-256 digest of a link's token is stored. Redeeming consumes the link in the
//! store atomically ([`AccessStore::consume_portal_link`](crate::store::AccessStore::consume_portal_link)),
//! so of two gateways sharing a database at most one accepts it. A redeemed link starts a
//! dashboard session whose username is `portal:<link id>` (no user can be called that:
//! usernames cannot contain `:`). Creating and redeeming a link are audited in its tenant.
//!
//! ```
//! use std::time::Duration;
//! use relay_core::control::admin::{AdminError, Principal, Role, TenantLimits};
//! use relay_core::model::ids::TenantId;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let relay = relay_core::Relay::builder().build().unwrap();
//! let platform = Principal::system(TenantId::default());
//! relay.tenants().create(&platform, "acme", TenantLimits::default()).await.unwrap();
//! let link = relay.access().create_portal_link(&platform, "acme", None).await.unwrap();
//! let session = relay.access().redeem_portal_link(link.token.expose()).await.unwrap();
//! let who = relay.access().authenticate_session(session.token.expose()).await.unwrap();
//! assert_eq!((who.tenant.as_str(), who.role), ("acme", Role::Portal));
//! // A link works once.
//! assert!(matches!(
//!     relay.access().redeem_portal_link(link.token.expose()).await,
//!     Err(AdminError::Unauthorized)
//! ));
//! # }
//! ```

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::token::{digest, generate_session_token, random_bytes};
use super::{Access, AdminError, FieldChange, Principal, SessionRecord};
use crate::model::ids::TenantId;
use crate::model::secret::Secret;
use crate::model::time::Timestamp;

/// How long a portal link stays valid unless asked otherwise: 15 minutes.
pub const PORTAL_LINK_TTL: Duration = Duration::from_secs(15 * 60);
/// The longest a portal link may stay valid: 24 hours.
pub const MAX_PORTAL_LINK_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long the dashboard session a portal link starts lasts: 1 hour.
pub const PORTAL_SESSION_TTL: Duration = Duration::from_secs(3600);
/// The prefix of a portal session's username and of its actor in the audit log.
pub const PORTAL_ACTOR_PREFIX: &str = "portal:";

const TOKEN_PREFIX: &str = "rpl_";

/// A portal link as stored: never its token, only the token's SHA-256 digest.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalLinkRecord {
    /// The public id (`pl_…`), named in the audit log.
    pub id: String,
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// The tenant it logs into.
    pub tenant: TenantId,
    /// Who created it (`key:<id>`, `user:<name>`, `system`).
    pub created_by: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When it was redeemed (it works once).
    pub used_at: Option<Timestamp>,
}

impl std::fmt::Debug for PortalLinkRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalLinkRecord")
            .field("id", &self.id)
            .field("token_hash", &"[redacted]")
            .field("tenant", &self.tenant)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish()
    }
}

/// A new portal link: the stored record and its token (shown once, put in the URL).
#[derive(Debug)]
pub struct CreatedPortalLink {
    /// What is stored (without the token).
    pub record: PortalLinkRecord,
    /// The one-time token (`rpl_…`, URL-safe). It is not stored and cannot be shown again.
    pub token: Secret,
}

/// A redeemed portal link: the session it started.
#[derive(Debug)]
pub struct PortalSession {
    /// The session token for the cookie.
    pub token: Secret,
    /// The tenant the session is scoped to.
    pub tenant: TenantId,
    /// The session's actor (`portal:<link id>`).
    pub actor: String,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// Whether the session was started by a portal link (see the module documentation).
pub(super) fn is_portal_session(session: &SessionRecord) -> bool {
    session.username.starts_with(PORTAL_ACTOR_PREFIX)
}

/// `ttl` checked against `1 s ..= 24 h` (`None`: [`PORTAL_LINK_TTL`]).
fn link_ttl(ttl: Option<Duration>) -> Result<Duration, AdminError> {
    match ttl {
        None => Ok(PORTAL_LINK_TTL),
        Some(ttl) if ttl >= Duration::from_secs(1) && ttl <= MAX_PORTAL_LINK_TTL => Ok(ttl),
        Some(_) => Err(AdminError::invalid(
            "ttl_secs",
            format!("must be 1 to {}", MAX_PORTAL_LINK_TTL.as_secs()),
        )),
    }
}

impl Access<'_> {
    /// Creates a one-time portal link into tenant `tenant` (platform admins only: 404 for a
    /// principal of another tenant, 403 below admin; 404 for an unknown tenant), valid for
    /// `ttl` (default [`PORTAL_LINK_TTL`], 1 s to [`MAX_PORTAL_LINK_TTL`], else 422).
    /// Audited in that tenant, with the platform admin as the actor.
    pub async fn create_portal_link(
        &self,
        by: &Principal,
        tenant: &str,
        ttl: Option<Duration>,
    ) -> Result<CreatedPortalLink, AdminError> {
        let tenant = self.relay.tenants().get(by, tenant).await?.tenant;
        let ttl = link_ttl(ttl)?;
        let now = Timestamp::now();
        let token = format!(
            "{TOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(random_bytes::<32>())
        );
        let record = PortalLinkRecord {
            id: format!("pl_{}", hex::encode(random_bytes::<8>())),
            token_hash: digest(token.as_bytes()),
            tenant: tenant.clone(),
            created_by: by.actor.clone(),
            created_at: now,
            expires_at: now.plus(ttl),
            used_at: None,
        };
        self.relay
            .store()
            .insert_portal_link(record.clone())
            .await?;
        let acting = Principal {
            tenant,
            actor: by.actor.clone(),
            role: by.role,
            client: by.client,
        };
        let changes = vec![
            FieldChange::added("ttl_secs", ttl.as_secs()),
            FieldChange::added("expires_at_ms", record.expires_at.as_millis()),
        ];
        self.audit(&acting, "create", "portal_link", &record.id, changes)
            .await?;
        Ok(CreatedPortalLink {
            record,
            token: Secret::new(token),
        })
    }

    /// Redeems a portal link: consumes it (atomically, in the store) and starts a
    /// [`PORTAL_SESSION_TTL`] dashboard session with [`Role::Portal`](super::Role::Portal)
    /// in its tenant; audited there as `login` of the `portal_link`. An unknown, expired or
    /// already used link, or one whose tenant is gone, is [`AdminError::Unauthorized`].
    pub async fn redeem_portal_link(&self, token: &str) -> Result<PortalSession, AdminError> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
            return Err(AdminError::Unauthorized);
        }
        let now = Timestamp::now();
        let store = self.relay.store();
        let hash = digest(token.as_bytes());
        let link = store.consume_portal_link(&hash, now).await?;
        let link = link.ok_or(AdminError::Unauthorized)?;
        let tenants = self.relay.tenant_records().await?;
        if !tenants.iter().any(|t| t.tenant == link.tenant) {
            return Err(AdminError::Unauthorized);
        }
        let (session_token, token_hash) = generate_session_token();
        let actor = format!("{PORTAL_ACTOR_PREFIX}{}", link.id);
        let expires_at = now.plus(PORTAL_SESSION_TTL);
        store
            .insert_session(SessionRecord {
                token_hash,
                tenant: link.tenant.clone(),
                username: actor.clone(),
                created_at: now,
                expires_at,
            })
            .await?;
        let portal = Principal {
            tenant: link.tenant.clone(),
            actor: actor.clone(),
            role: super::Role::Portal,
            client: None,
        };
        self.audit(&portal, "login", "portal_link", &link.id, Vec::new())
            .await?;
        Ok(PortalSession {
            token: session_token,
            tenant: link.tenant,
            actor,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Relay;
    use crate::control::admin::{Role, TenantLimits};

    async fn acme() -> (Relay, Principal) {
        let relay = Relay::builder().build().expect("relay");
        let platform = Principal::system(TenantId::default());
        (relay.tenants())
            .create(&platform, "acme", TenantLimits::default())
            .await
            .expect("tenant");
        (relay, platform)
    }

    #[tokio::test]
    async fn a_link_works_once_and_is_audited() {
        let (relay, platform) = acme().await;
        let link = (relay.access())
            .create_portal_link(&platform, "acme", None)
            .await
            .expect("link");
        assert!(link.token.expose().starts_with(TOKEN_PREFIX));
        assert_ne!(link.record.token_hash, link.token.expose().as_bytes());
        let ttl = link.record.expires_at.as_millis() - link.record.created_at.as_millis();
        assert_eq!(ttl, 15 * 60 * 1000);
        let session = (relay.access())
            .redeem_portal_link(link.token.expose())
            .await
            .expect("first use");
        assert_eq!(session.tenant.as_str(), "acme");
        let again = relay.access().redeem_portal_link(link.token.expose()).await;
        assert!(matches!(again, Err(AdminError::Unauthorized)), "{again:?}");
        let who = (relay.access())
            .authenticate_session(session.token.expose())
            .await
            .expect("session");
        assert_eq!(who.role, Role::Portal);
        assert_eq!(who.actor, format!("portal:{}", link.record.id));
        let audit = (relay.store())
            .audit_entries(&TenantId::new("acme"), &Default::default(), 10)
            .await
            .expect("audit");
        let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
        assert!(
            actions.contains(&"create") && actions.contains(&"login"),
            "{actions:?}"
        );
        assert!(audit.iter().all(|e| e.object_id == link.record.id));
    }

    #[tokio::test]
    async fn bad_ttls_unknown_tenants_and_non_platform_admins_are_refused() {
        let (relay, platform) = acme().await;
        let access = relay.access();
        for secs in [0, 86_401] {
            let ttl = Some(Duration::from_secs(secs));
            let refused = access.create_portal_link(&platform, "acme", ttl).await;
            assert!(matches!(refused, Err(AdminError::Invalid(_))), "{secs}");
        }
        let longest = access.create_portal_link(&platform, "acme", Some(MAX_PORTAL_LINK_TTL));
        assert!(longest.await.is_ok());
        let unknown = access.create_portal_link(&platform, "nope", None).await;
        assert!(matches!(unknown, Err(AdminError::NotFound)));
        let mut viewer = platform.clone();
        viewer.role = Role::Viewer;
        let low = access.create_portal_link(&viewer, "acme", None).await;
        assert!(matches!(low, Err(AdminError::Forbidden { .. })));
        let tenant_admin = Principal::system(TenantId::new("acme"));
        let other = access.create_portal_link(&tenant_admin, "acme", None).await;
        assert!(matches!(other, Err(AdminError::NotFound)));
        let key = access.create_api_key(&platform, "k", Role::Portal).await;
        assert!(matches!(key, Err(AdminError::Invalid(_))), "no portal keys");
        let password = Secret::new("a long enough password".to_owned());
        let user = access.create_user(&platform, "u", &password, Role::Portal);
        assert!(
            matches!(user.await, Err(AdminError::Invalid(_))),
            "no portal users"
        );
        for token in ["", "rpl_", "rpl_unknown", "relay_session"] {
            let redeemed = access.redeem_portal_link(token).await;
            assert!(
                matches!(redeemed, Err(AdminError::Unauthorized)),
                "{token:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_expired_link_is_refused() {
        let (relay, _) = acme().await;
        let token = "rpl_expired";
        let now = Timestamp::now();
        let record = PortalLinkRecord {
            id: "pl_expired".into(),
            token_hash: digest(token.as_bytes()),
            tenant: TenantId::new("acme"),
            created_by: "system".into(),
            created_at: Timestamp::from_millis(now.as_millis() - 2_000),
            expires_at: Timestamp::from_millis(now.as_millis() - 1_000),
            used_at: None,
        };
        relay
            .store()
            .insert_portal_link(record)
            .await
            .expect("insert");
        let redeemed = relay.access().redeem_portal_link(token).await;
        assert!(matches!(redeemed, Err(AdminError::Unauthorized)));
    }
}
