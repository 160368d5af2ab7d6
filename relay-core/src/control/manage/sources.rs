//! Creating, changing, pausing and deleting sources, and rotating their secrets.

use std::time::Duration;

use super::ObjectKind;
use super::views::SourceView;
use super::write::invalid;
use crate::control::admin::{AdminError, Principal, Role, generate_signing_secret};
use crate::control::definition::{ExpiringSecret, SecretSpec, SourceSpec, check_name, literal};
use crate::control::manage::Objects;
use crate::ingest::signature::scheme_needs_secrets;
use crate::model::time::Timestamp;

/// The longest overlap a rotation may give the old secrets.
pub const MAX_ROTATION_OVERLAP: Duration = Duration::from_secs(30 * 86_400);

/// A source just created, and its secrets (shown this once).
#[derive(Debug)]
pub struct CreatedSource {
    /// The source.
    pub source: SourceView,
    /// Its verification secrets: as given, or the one generated.
    pub secrets: Vec<String>,
}

/// The outcome of a secret rotation.
#[derive(Debug)]
pub struct RotatedSecret {
    /// The new secret (shown this once).
    pub secret: String,
    /// The source, the old secrets now expiring.
    pub source: SourceView,
}

fn rfc3339(at: Timestamp) -> String {
    let millis = u64::try_from(at.as_millis()).unwrap_or(0);
    let system = std::time::UNIX_EPOCH + Duration::from_millis(millis);
    humantime::format_rfc3339_seconds(system).to_string()
}

fn expires_at(secret: &SecretSpec) -> Option<Timestamp> {
    match secret {
        SecretSpec::Plain(_) => None,
        SecretSpec::Expiring(e) => humantime::parse_rfc3339_weak(&e.expires_at)
            .ok()
            .map(Timestamp::from_system_time),
    }
}

fn checked(spec: &SourceSpec) -> Result<(), AdminError> {
    let mut problems = Vec::new();
    check_name("name", &spec.name, &mut problems);
    spec.build("", &literal, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid(problems))
    }
}

impl Objects<'_> {
    /// One live source.
    pub fn source_view(&self, name: &str) -> Result<SourceView, AdminError> {
        (self.source_views().into_iter())
            .find(|s| s.name == name)
            .ok_or(AdminError::NotFound)
    }

    /// Creates a source (admin). Without `secrets` (and with a scheme that verifies), one is
    /// generated; the secrets are returned this once and stored sealed.
    ///
    /// ```
    /// use relay_core::control::admin::Principal;
    /// use relay_core::control::credentials::Keyring;
    /// use relay_core::model::ids::TenantId;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let relay = relay_core::Relay::builder().keyring(Keyring::generate()).build().unwrap();
    /// let admin = Principal::system(TenantId::default());
    /// let spec = serde_json::from_value(serde_json::json!({"name": "forms", "scheme": "standard_webhooks"})).unwrap();
    /// let created = relay.objects().create_source(&admin, spec).await.unwrap();
    /// assert!(created.secrets[0].starts_with("whsec_"));
    /// assert!(relay.catalog().source("forms").is_some());
    /// # }
    /// ```
    pub async fn create_source(
        &self,
        by: &Principal,
        mut spec: SourceSpec,
    ) -> Result<CreatedSource, AdminError> {
        self.relay.may_change(by, Role::Admin)?;
        if spec.secrets.is_empty() && scheme_needs_secrets(&spec.scheme) {
            spec.secrets
                .push(SecretSpec::Plain(generate_signing_secret()));
        }
        checked(&spec)?;
        self.relay.create_object(by, &spec).await?;
        Ok(CreatedSource {
            source: self.source_view(&spec.name)?,
            secrets: spec.secrets.iter().map(|s| s.value().to_owned()).collect(),
        })
    }

    /// Replaces an API-managed source's spec (admin); the name in `spec` must be `name`.
    /// Without `secrets`, the current ones are kept.
    pub async fn update_source(
        &self,
        by: &Principal,
        name: &str,
        mut spec: SourceSpec,
    ) -> Result<SourceView, AdminError> {
        self.relay.may_change(by, Role::Admin)?;
        if spec.name != name {
            return Err(AdminError::invalid("name", "must be the name in the path"));
        }
        self.relay
            .change_object::<SourceSpec>(by, name, "update", |before| {
                if spec.secrets.is_empty() {
                    spec.secrets.clone_from(&before.secrets);
                }
                checked(&spec)?;
                Ok(Some(spec))
            })
            .await?;
        self.source_view(name)
    }

    /// Deletes an API-managed source (admin); refused (409) while a route names it.
    pub async fn delete_source(&self, by: &Principal, name: &str) -> Result<(), AdminError> {
        self.relay.may_change(by, Role::Admin)?;
        self.relay.delete_object::<SourceSpec>(by, name).await
    }

    /// Enables or disables a source, configured or API-managed (operator). A disabled
    /// source answers ingest like an unknown one (404); its routes stay. The state is stored
    /// (see [`Objects::set_enabled`], which also takes a reason).
    pub async fn set_source_enabled(
        &self,
        by: &Principal,
        name: &str,
        enabled: bool,
    ) -> Result<(), AdminError> {
        self.set_enabled(by, ObjectKind::Source, name, enabled, "")
            .await
    }

    /// Adds a verification secret to an API-managed source (admin): `secret`, or a generated
    /// one. The secrets it had keep verifying for `overlap` (at most
    /// [`MAX_ROTATION_OVERLAP`]; zero retires them now), so the provider can switch without
    /// a failed delivery; already expired ones are dropped.
    pub async fn rotate_source_secret(
        &self,
        by: &Principal,
        name: &str,
        overlap: Duration,
        secret: Option<String>,
    ) -> Result<RotatedSecret, AdminError> {
        self.relay.may_change(by, Role::Admin)?;
        if overlap > MAX_ROTATION_OVERLAP {
            return Err(AdminError::invalid("overlap_secs", "at most 30 days"));
        }
        if secret.as_deref().is_some_and(str::is_empty) {
            return Err(AdminError::invalid("secret", "must not be empty"));
        }
        let secret = secret.unwrap_or_else(generate_signing_secret);
        let new = secret.clone();
        self.relay
            .change_object::<SourceSpec>(by, name, "rotate_secret", |before| {
                if !scheme_needs_secrets(&before.scheme) {
                    return Err(AdminError::Conflict(format!(
                        "source {name:?} has scheme {:?}: it has no secret to rotate",
                        before.scheme
                    )));
                }
                let now = Timestamp::now();
                let until = now.plus(overlap);
                let mut spec = before.clone();
                spec.secrets = (before.secrets.iter())
                    .filter(|s| expires_at(s).is_none_or(|at| at > now) && !overlap.is_zero())
                    .map(|s| {
                        let at = expires_at(s).map_or(until, |at| at.min(until));
                        SecretSpec::Expiring(ExpiringSecret {
                            value: s.value().to_owned(),
                            expires_at: rfc3339(at),
                        })
                    })
                    .collect();
                spec.secrets.push(SecretSpec::Plain(new));
                checked(&spec)?;
                Ok(Some(spec))
            })
            .await?;
        Ok(RotatedSecret {
            secret,
            source: self.source_view(name)?,
        })
    }
}
