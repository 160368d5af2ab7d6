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
    /// The target it forwards to, when it is connected to this node.
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

fn new_token(name: &str) -> (Secret, String) {
    let mut bytes = [0u8; SECRET_HEX_LEN / 2];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let hash = hex::encode(digest(secret.as_bytes()));
    (Secret::new(format!("{TOKEN_PREFIX}{name}_{secret}")), hash)
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
    async fn agent_records(&self) -> Result<Vec<ObjectRecord>, AdminError> {
        let records = self.store().objects(&TenantId::default()).await?;
        Ok(records
            .into_iter()
            .filter(|r| r.kind == ObjectKind::Agent)
            .collect())
    }

    async fn agent_record(&self, name: &str) -> Result<ObjectRecord, AdminError> {
        (self.agent_records().await?.into_iter())
            .find(|r| r.name == name)
            .ok_or(AdminError::NotFound)
    }

    fn agent_view(&self, record: &ObjectRecord) -> AgentView {
        AgentView {
            name: record.name.clone(),
            revoked: !record.enabled,
            connected_target: self.agent_hub().target_of(&record.name),
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

impl Agents<'_> {
    /// The agent a bearer token authenticates; [`AdminError::Unauthorized`] for a malformed,
    /// unknown or revoked token.
    pub async fn authenticate(&self, token: &str) -> Result<String, AdminError> {
        let (name, presented) = parse_agent_token(token).ok_or(AdminError::Unauthorized)?;
        let record = match self.relay.agent_record(&name).await {
            Err(AdminError::NotFound) => return Err(AdminError::Unauthorized),
            other => other?,
        };
        let stored: StoredAgent = serde_json::from_str(&record.spec)
            .map_err(|e| AdminError::Internal(format!("agent {name:?}: {e}")))?;
        let expected = hex::decode(&stored.secret_sha256).unwrap_or_default();
        if !record.enabled || !constant_time_eq(&expected, &presented) {
            return Err(AdminError::Unauthorized);
        }
        Ok(name)
    }

    /// Creates an agent identity (admin) and returns its token, shown this once; audited.
    pub async fn create(&self, by: &Principal, name: &str) -> Result<AgentCredential, AdminError> {
        let tenant = self.relay.may_change(by, Role::Admin)?;
        check_agent_name(name)?;
        let (token, hash) = new_token(name);
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
            agent: self.relay.agent_view(&record),
            token,
        })
    }

    /// The agents (viewer), by name.
    pub async fn list(&self, by: &Principal) -> Result<Vec<AgentView>, AdminError> {
        self.relay.may_change(by, Role::Viewer)?;
        let mut views: Vec<_> = (self.relay.agent_records().await?.iter())
            .map(|r| self.relay.agent_view(r))
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
        self.relay.agent_hub().drop_agent(name);
        self.relay
            .access()
            .audit(by, "revoke", "agent", name, Vec::new())
            .await?;
        Ok(self.relay.agent_view(&record))
    }

    /// Gives an agent a new token (admin), shown this once: the old one is refused from now
    /// on and its connection to this node is closed; audited.
    pub async fn rotate(&self, by: &Principal, name: &str) -> Result<AgentCredential, AdminError> {
        let tenant = self.relay.may_change(by, Role::Admin)?;
        let before = self.relay.agent_record(name).await?;
        let (token, hash) = new_token(name);
        let record = record(name, hash, true, before.created_at);
        if !self
            .relay
            .store()
            .update_object(&tenant, record.clone())
            .await?
        {
            return Err(AdminError::NotFound);
        }
        self.relay.agent_hub().drop_agent(name);
        self.relay
            .access()
            .audit(by, "rotate", "agent", name, Vec::new())
            .await?;
        Ok(AgentCredential {
            agent: self.relay.agent_view(&record),
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
        self.relay.agent_hub().drop_agent(name);
        self.relay
            .access()
            .audit(by, "delete", "agent", name, Vec::new())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_are_shown_once_revocable_and_rotatable() {
        let relay = Relay::builder().build().unwrap();
        let admin = Principal::system(TenantId::default());
        let created = relay.agents().create(&admin, "laptop").await.unwrap();
        let token = created.token.expose().to_owned();
        assert!(token.starts_with("rag_laptop_"));
        assert_eq!(relay.agents().authenticate(&token).await.unwrap(), "laptop");
        assert!(!format!("{created:?}").contains(&token[11..]));
        assert!(matches!(
            relay.agents().create(&admin, "laptop").await,
            Err(AdminError::Conflict(_))
        ));
        let wrong = format!("rag_laptop_{}", "0".repeat(64));
        assert!(matches!(
            relay.agents().authenticate(&wrong).await,
            Err(AdminError::Unauthorized)
        ));

        let rotated = relay.agents().rotate(&admin, "laptop").await.unwrap();
        assert!(relay.agents().authenticate(&token).await.is_err());
        let token = rotated.token.expose().to_owned();
        assert!(relay.agents().authenticate(&token).await.is_ok());

        let revoked = relay.agents().revoke(&admin, "laptop").await.unwrap();
        assert!(revoked.revoked);
        assert!(matches!(
            relay.agents().authenticate(&token).await,
            Err(AdminError::Unauthorized)
        ));
        let viewer = Principal {
            role: Role::Viewer,
            ..admin.clone()
        };
        assert_eq!(relay.agents().list(&viewer).await.unwrap().len(), 1);
        assert!(matches!(
            relay.agents().create(&viewer, "other").await,
            Err(AdminError::Forbidden { .. })
        ));
        assert!(matches!(
            relay.agents().create(&admin, "no spaces").await,
            Err(AdminError::Invalid(_))
        ));
        // A credential changed through another node (straight in the store here) closes
        // this node's connection at the next sync.
        let fresh = relay.agents().rotate(&admin, "laptop").await.unwrap();
        let _session = relay
            .agents()
            .hub()
            .connect("laptop", "http://127.0.0.1:3000/");
        relay.objects().sync_objects().await.unwrap();
        assert_eq!(relay.agents().hub().connected().len(), 1);
        let mut record = relay.agent_record("laptop").await.unwrap();
        record.enabled = false;
        record.updated_at = Timestamp::from_millis(record.updated_at.as_millis() + 1);
        let tenant = TenantId::default();
        assert!(relay.store().update_object(&tenant, record).await.unwrap());
        relay.objects().sync_objects().await.unwrap();
        assert!(relay.agents().hub().connected().is_empty());
        assert!(
            relay
                .agents()
                .authenticate(fresh.token.expose())
                .await
                .is_err()
        );
        relay.agents().delete(&admin, "laptop").await.unwrap();
        assert!(relay.agents().list(&admin).await.unwrap().is_empty());
        // The catalog is not disturbed by agent records.
        relay.objects().sync_objects().await.unwrap();
    }
}
