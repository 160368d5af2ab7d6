//! [`Agents`] (`relay.agents()`): agent identities and their credentials: `rag_<name>_<secret>` tokens of which only a
//! SHA-256 digest of the secret part is stored (in the objects table, kind `agent`), shown
//! once, revocable and rotatable by admins.

use rand::RngCore as _;
use serde::{Deserialize, Serialize};

use sha2::{Digest as _, Sha256};

use super::AgentHub;
use crate::control::admin::{AdminError, Principal, Role};
use crate::control::manage::{ObjectKind, ObjectRecord};
use crate::model::ids::TenantId;
use crate::model::secret::{Secret, constant_time_eq};
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::store::{HeldAgent, PresenceRecord};

fn digest(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

const TOKEN_PREFIX: &str = "rag_";
const SECRET_HEX_LEN: usize = 64;

/// What is stored for an agent: the digest of its token's secret part.
#[derive(Serialize, Deserialize)]
struct StoredAgent {
    /// SHA-256 of the secret part, hex.
    secret_sha256: String,
}

/// An agent as listed: never its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentView {
    /// Its name (destinations of kind `agent` name it).
    pub name: String,
    /// Whether its credential was revoked (it cannot connect until rotated).
    pub revoked: bool,
    /// Whether it is connected to a node (any node: read from the stored presence).
    pub online: bool,
    /// The node it is connected to (or was last, when offline).
    pub node: Option<String>,
    /// When that connection was made.
    pub connected_at: Option<Timestamp>,
    /// When a node last heard from it.
    pub last_seen: Option<Timestamp>,
    /// The version it reported.
    pub version: Option<String>,
    /// Where it forwards each destination (`URL` and `DESTINATION=URL`), as it connected.
    pub targets: Vec<String>,
    /// Its default target, while it is connected (kept from earlier versions of the view).
    pub connected_target: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its credential last changed.
    pub updated_at: Timestamp,
}

/// A new credential: the agent and its token, shown this once.
#[derive(Debug)]
pub struct AgentCredential {
    /// The agent.
    pub agent: AgentView,
    /// The bearer token for `relay agent --token`. Not stored; cannot be shown again.
    pub token: Secret,
}

/// Between a tenant and an agent's name in the tokens of agents outside the default tenant
/// (never in a name).
const TENANT_SEPARATOR: char = '~';

fn new_token(tenant: &TenantId, name: &str) -> (Secret, String) {
    let mut bytes = [0u8; SECRET_HEX_LEN / 2];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let hash = hex::encode(digest(secret.as_bytes()));
    let who = if *tenant == TenantId::default() {
        name.to_owned()
    } else {
        format!("{tenant}{TENANT_SEPARATOR}{name}")
    };
    (Secret::new(format!("{TOKEN_PREFIX}{who}_{secret}")), hash)
}

/// The agent a token's name part (see [`parse_agent_token`]) names: `name` in the default
/// tenant, `tenant~name` in another.
///
/// ```
/// use relay_core::control::agent::token_agent;
/// use relay_core::model::ids::TenantId;
/// assert_eq!(token_agent("dc1").tenant, TenantId::default());
/// let other = token_agent("acme~dc1");
/// assert_eq!((other.tenant.as_str(), other.agent.as_str()), ("acme", "dc1"));
/// ```
pub fn token_agent(name: &str) -> HeldAgent {
    match name.split_once(TENANT_SEPARATOR) {
        Some((tenant, agent)) => HeldAgent::new(TenantId::new(tenant), agent),
        None => HeldAgent::new(TenantId::default(), name),
    }
}

/// Splits a presented agent token into the agent's name and the digest of its secret part;
/// `None` when it is not shaped like one.
///
/// ```
/// use relay_core::control::agent::parse_agent_token;
/// let (name, _) = parse_agent_token(&format!("rag_my_laptop_{}", "ab".repeat(32))).unwrap();
/// assert_eq!(name, "my_laptop");
/// assert!(parse_agent_token("rag_laptop_short").is_none());
/// assert!(parse_agent_token("rk_0123456789abcdef_x").is_none());
/// ```
pub fn parse_agent_token(token: &str) -> Option<(String, Vec<u8>)> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (name, secret) = rest.rsplit_once('_')?;
    let well_formed = !name.is_empty()
        && secret.len() == SECRET_HEX_LEN
        && secret
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    well_formed.then(|| (name.to_owned(), digest(secret.as_bytes())))
}

fn check_agent_name(name: &str) -> Result<(), AdminError> {
    let mut problems = Vec::new();
    crate::control::definition::check_name("name", name, &mut problems);
    match problems.pop() {
        None => Ok(()),
        Some(problem) => Err(AdminError::invalid("name", problem.reason)),
    }
}

fn record(name: &str, hash: String, enabled: bool, created_at: Timestamp) -> ObjectRecord {
    let spec = serde_json::to_string(&StoredAgent {
        secret_sha256: hash,
    })
    .unwrap_or_else(|_| unreachable!("a struct of strings serializes"));
    ObjectRecord {
        kind: ObjectKind::Agent,
        name: name.to_owned(),
        spec,
        enabled,
        created_at,
        updated_at: Timestamp::now(),
    }
}

/// The [agents](crate::control::agent) of one relay's tenant: their credentials (create,
/// rotate, revoke, delete, authenticate) and the connections this process holds.
#[derive(Debug, Clone, Copy)]
pub struct Agents<'a> {
    pub(crate) relay: &'a Relay,
}

impl Relay {
    /// The agents of this relay's tenant (see [`Agents`]).
    pub fn agents(&self) -> Agents<'_> {
        Agents { relay: self }
    }
}

impl<'a> Agents<'a> {
    /// The agents connected to this process.
    pub fn hub(&self) -> &'a AgentHub {
        self.relay.agent_hub()
    }
}

impl Relay {
    async fn agent_records_of(&self, tenant: &TenantId) -> Result<Vec<ObjectRecord>, AdminError> {
        let records = self.store().objects(tenant).await?;
        Ok(records
            .into_iter()
            .filter(|r| r.kind == ObjectKind::Agent)
            .collect())
    }

    async fn agent_records(&self) -> Result<Vec<ObjectRecord>, AdminError> {
        self.agent_records_of(self.tenant_id()).await
    }

    async fn agent_record_of(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<ObjectRecord, AdminError> {
        (self.agent_records_of(tenant).await?.into_iter())
            .find(|r| r.name == name)
            .ok_or(AdminError::NotFound)
    }

    async fn agent_record(&self, name: &str) -> Result<ObjectRecord, AdminError> {
        self.agent_record_of(self.tenant_id(), name).await
    }

    fn agent_view(&self, record: &ObjectRecord, presence: &[PresenceRecord]) -> AgentView {
        let now = Timestamp::now();
        let mine = presence.iter().filter(|p| p.agent == record.name);
        let live = (mine.clone())
            .filter(|p| p.is_live(now))
            .max_by_key(|p| p.connected_at);
        let latest = live.or_else(|| mine.max_by_key(|p| p.last_seen));
        AgentView {
            name: record.name.clone(),
            revoked: !record.enabled,
            online: live.is_some(),
            node: latest.map(|p| p.node.clone()),
            connected_at: latest.map(|p| p.connected_at),
            last_seen: latest.map(|p| p.last_seen),
            version: latest.map(|p| p.version.clone()),
            targets: latest.map(|p| p.targets.values()).unwrap_or_default(),
            connected_target: live.and_then(|p| p.targets.default.clone()),
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

impl Agents<'_> {
    /// The agent a bearer token authenticates, of whichever tenant the token names (see
    /// [`token_agent`]); [`AdminError::Unauthorized`] for a malformed, unknown or revoked
    /// token.
    pub async fn authenticate(&self, token: &str) -> Result<HeldAgent, AdminError> {
        let (who, presented) = parse_agent_token(token).ok_or(AdminError::Unauthorized)?;
        let agent = token_agent(&who);
        let name = agent.agent.clone();
        let record = match self.relay.agent_record_of(&agent.tenant, &name).await {
            Err(AdminError::NotFound) => return Err(AdminError::Unauthorized),
            other => other?,
        };
        let stored: StoredAgent = serde_json::from_str(&record.spec)
            .map_err(|e| AdminError::Internal(format!("agent {name:?}: {e}")))?;
        let expected = hex::decode(&stored.secret_sha256).unwrap_or_default();
        if !record.enabled || !constant_time_eq(&expected, &presented) {
            return Err(AdminError::Unauthorized);
        }
        Ok(agent)
    }

    /// Creates an agent identity (admin) and returns its token, shown this once; audited.
    pub async fn create(&self, by: &Principal, name: &str) -> Result<AgentCredential, AdminError> {
        let tenant = self.relay.may_change(by, Role::Admin)?;
        check_agent_name(name)?;
        let (token, hash) = new_token(&tenant, name);
        let record = record(name, hash, true, Timestamp::now());
        if !self
            .relay
            .store()
            .insert_object(&tenant, record.clone())
            .await?
        {
            return Err(AdminError::Conflict(format!(
                "agent {name:?} already exists"
            )));
        }
        self.relay
            .access()
            .audit(by, "create", "agent", name, Vec::new())
            .await?;
        Ok(AgentCredential {
            agent: self.relay.agent_view(&record, &[]),
            token,
        })
    }

    /// The agents (viewer), by name.
    pub async fn list(&self, by: &Principal) -> Result<Vec<AgentView>, AdminError> {
        let tenant = self.relay.may_change(by, Role::Viewer)?;
        let presence = self.relay.store().agent_presence(&tenant).await?;
        let mut views: Vec<_> = (self.relay.agent_records().await?.iter())
            .map(|r| self.relay.agent_view(r, &presence))
            .collect();
        views.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(views)
    }

    /// Revokes an agent's credential (admin): it is refused from now on and its connection to
    /// this node is closed; audited. Rotating gives it a new one.
    pub async fn revoke(&self, by: &Principal, name: &str) -> Result<AgentView, AdminError> {
        let tenant = self.relay.may_change(by, Role::Admin)?;
        let mut record = self.relay.agent_record(name).await?;
        record.enabled = false;
        record.updated_at = Timestamp::now();
        if !self
            .relay
            .store()
            .update_object(&tenant, record.clone())
            .await?
        {
            return Err(AdminError::NotFound);
        }
        self.relay
            .agent_hub()
            .drop_agent(&self.relay.held_agent(name));
        self.relay
            .access()
            .audit(by, "revoke", "agent", name, Vec::new())
            .await?;
        Ok(self.relay.agent_view(&record, &[]))
    }

    /// Gives an agent a new token (admin), shown this once: the old one is refused from now
    /// on and its connection to this node is closed; audited.
    pub async fn rotate(&self, by: &Principal, name: &str) -> Result<AgentCredential, AdminError> {
        let tenant = self.relay.may_change(by, Role::Admin)?;
        let before = self.relay.agent_record(name).await?;
        let (token, hash) = new_token(&tenant, name);
        let record = record(name, hash, true, before.created_at);
        if !self
            .relay
            .store()
            .update_object(&tenant, record.clone())
            .await?
        {
            return Err(AdminError::NotFound);
        }
        self.relay
            .agent_hub()
            .drop_agent(&self.relay.held_agent(name));
        self.relay
            .access()
            .audit(by, "rotate", "agent", name, Vec::new())
            .await?;
        Ok(AgentCredential {
            agent: self.relay.agent_view(&record, &[]),
            token,
        })
    }

    /// Deletes an agent identity (admin); its connection to this node is closed; audited.
    pub async fn delete(&self, by: &Principal, name: &str) -> Result<(), AdminError> {
        let tenant = self.relay.may_change(by, Role::Admin)?;
        if !(self.relay.store())
            .delete_object(&tenant, ObjectKind::Agent, name)
            .await?
        {
            return Err(AdminError::NotFound);
        }
        self.relay
            .agent_hub()
            .drop_agent(&self.relay.held_agent(name));
        self.relay
            .access()
            .audit(by, "delete", "agent", name, Vec::new())
            .await
    }
}

#[cfg(test)]
mod tests;
