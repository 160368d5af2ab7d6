//! One admin change of a stored object: checked against everything else, stored, audited,
//! and made live.

use serde_json::Value;

use super::seal::{ObjectSpec, open, seal};
use super::{ObjectKind, ObjectRecord};
use crate::control::admin::{AdminError, Area, FieldError, Principal, Role, diff};
use crate::control::definition::Problem;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::store::StoreError;

/// What an admin change does to the stored objects.
pub(crate) enum Change {
    Create(ObjectRecord),
    Update(ObjectRecord),
    Delete(ObjectKind, String),
}

impl Change {
    fn target(&self) -> (ObjectKind, &str) {
        match self {
            Self::Create(r) | Self::Update(r) => (r.kind, &r.name),
            Self::Delete(kind, name) => (*kind, name),
        }
    }
}

/// Problems of a request body as 422 field errors (`.url` → `url`).
pub(crate) fn invalid(problems: Vec<Problem>) -> AdminError {
    AdminError::Invalid(
        (problems.into_iter())
            .map(|p| FieldError::new(p.key.trim_start_matches('.'), p.reason))
            .collect(),
    )
}

/// The JSON of a spec for audit diffs (secrets are redacted by [`diff`]).
fn audit_view<S: ObjectSpec>(spec: Option<&S>) -> Value {
    spec.map_or(Value::Null, |s| {
        serde_json::to_value(s).unwrap_or_else(|_| unreachable!("specs serialize"))
    })
}

impl Relay {
    /// Checks that `by` may change objects of this relay's tenant (a principal of another
    /// tenant: 404, see [`Relay::scoped`]).
    pub(crate) fn may_change(&self, by: &Principal, role: Role) -> Result<TenantId, AdminError> {
        by.require(role)?;
        self.own_tenant(by)
    }

    /// As [`Relay::may_change`], with `area`'s rights for the portal role (see
    /// [`Principal::require_in`]).
    pub(crate) fn may_change_in(
        &self,
        by: &Principal,
        area: Area,
        role: Role,
    ) -> Result<TenantId, AdminError> {
        by.require_in(area, role)?;
        self.own_tenant(by)
    }

    fn own_tenant(&self, by: &Principal) -> Result<TenantId, AdminError> {
        if by.tenant != *self.tenant_id() {
            return Err(AdminError::NotFound);
        }
        Ok(by.tenant.clone())
    }

    /// Whether the configured catalog (not the store) defines this object.
    pub(crate) fn is_configured(&self, kind: ObjectKind, name: &str) -> bool {
        let state = self.object_state();
        match kind {
            ObjectKind::Source => state.base.sources().iter().any(|s| s.name() == name),
            ObjectKind::Destination => state.base.destination(name).is_some(),
            ObjectKind::Route => state.base.routes().get(name).is_some(),
            ObjectKind::Agent => false,
        }
    }

    /// The stored object of this kind and name, read fresh from the store, with its spec.
    /// A configured one is a 409 (it is changed where it is defined), a missing one a 404.
    pub(crate) async fn stored<S: ObjectSpec>(
        &self,
        name: &str,
    ) -> Result<(ObjectRecord, S), AdminError> {
        if self.is_configured(S::KIND, name) {
            return Err(AdminError::Conflict(format!(
                "{} {name:?} is managed by the configuration; change it there",
                S::KIND
            )));
        }
        let tenant = self.tenant_id().clone();
        let records = self.store().objects(&tenant).await?;
        let record = (records.into_iter())
            .find(|r| r.kind == S::KIND && r.name == name)
            .ok_or(AdminError::NotFound)?;
        let spec = open::<S>(&record.spec, &tenant, self.keyring().map(AsRef::as_ref))
            .map_err(|e| AdminError::Internal(format!("{} {name:?}: {e}", S::KIND)))?;
        Ok((record, spec))
    }

    /// A record of `spec` as stored (secrets sealed). Without a keyring, a spec with secrets
    /// cannot be stored: [`AdminError::NoCredentialKey`].
    pub(crate) fn record_of<S: ObjectSpec>(
        &self,
        spec: &S,
        enabled: bool,
        created_at: Timestamp,
    ) -> Result<ObjectRecord, AdminError> {
        let sealed = seal(spec, self.tenant_id(), self.keyring().map(AsRef::as_ref))
            .ok_or(AdminError::NoCredentialKey)?;
        Ok(ObjectRecord {
            kind: S::KIND,
            name: spec.name().to_owned(),
            spec: sealed,
            enabled,
            created_at,
            updated_at: Timestamp::now(),
        })
    }

    /// Applies `change` on top of the objects stored now: refused if the changed object (or
    /// any other one) would be left out of the live catalog, then stored, audited as
    /// `action` with the diff from `before` to `after`, and made live. The caller holds
    /// [`Relay::object_write_lock`].
    pub(crate) async fn commit<S: ObjectSpec>(
        &self,
        by: &Principal,
        change: Change,
        action: &str,
        before: Option<&S>,
        after: Option<&S>,
    ) -> Result<(), AdminError> {
        let tenant = self.tenant_id().clone();
        let mut records = self.store().objects(&tenant).await?;
        let (kind, name) = change.target();
        let (kind, name) = (kind, name.to_owned());
        let at = records
            .iter()
            .position(|r| r.kind == kind && r.name == name);
        match (&change, at) {
            (Change::Create(_), Some(_)) => {
                return Err(AdminError::Conflict(format!(
                    "{kind} {name:?} already exists"
                )));
            }
            (Change::Create(record), None) => {
                self.check_tenant_cap(&records, kind)?;
                records.push(record.clone());
            }
            (Change::Update(record), Some(i)) => records[i] = record.clone(),
            (Change::Delete(..), Some(i)) => {
                records.remove(i);
            }
            (_, None) => return Err(AdminError::NotFound),
        }
        self.check_composes(&records, kind, &name)?;
        let done = match change {
            Change::Create(record) => self.store().insert_object(&tenant, record).await?,
            Change::Update(record) => self.store().update_object(&tenant, record).await?,
            Change::Delete(kind, name) => {
                // A later object of that name starts enabled.
                match self.store().delete_object_state(&tenant, kind, &name).await {
                    Ok(_) | Err(StoreError::Unsupported(_)) => {}
                    Err(error) => return Err(error.into()),
                }
                self.store().delete_object(&tenant, kind, &name).await?
            }
        };
        if !done {
            return Err(AdminError::Conflict(format!(
                "{kind} {name:?} was changed at the same time; try again"
            )));
        }
        let changes = diff(&audit_view(before), &audit_view(after), S::SECRETS);
        self.access()
            .audit(by, action, kind.as_str(), &name, changes)
            .await?;
        self.sync_own_objects().await?;
        Ok(())
    }

    /// Stores a new object (checked by the caller): 409 when the configuration or the store
    /// has one of its kind and name.
    pub(crate) async fn create_object<S: ObjectSpec>(
        &self,
        by: &Principal,
        spec: &S,
    ) -> Result<(), AdminError> {
        let _write = self.object_write_lock().await;
        if self.is_configured(S::KIND, spec.name()) {
            return Err(AdminError::Conflict(format!(
                "{} {:?} already exists (in the configuration)",
                S::KIND,
                spec.name()
            )));
        }
        let record = self.record_of(spec, true, Timestamp::now())?;
        self.commit(by, Change::Create(record), "create", None, Some(spec))
            .await
    }

    /// Replaces a stored object by what `change` makes of it (`None`: nothing to do),
    /// audited as `action` with the field diff. Returns the new spec, if it changed.
    pub(crate) async fn change_object<S: ObjectSpec>(
        &self,
        by: &Principal,
        name: &str,
        action: &str,
        change: impl FnOnce(&S) -> Result<Option<S>, AdminError>,
    ) -> Result<Option<S>, AdminError> {
        let _write = self.object_write_lock().await;
        let (record, before) = self.stored::<S>(name).await?;
        let Some(after) = change(&before)? else {
            return Ok(None);
        };
        let updated = self.record_of(&after, record.enabled, record.created_at)?;
        self.commit(
            by,
            Change::Update(updated),
            action,
            Some(&before),
            Some(&after),
        )
        .await?;
        Ok(Some(after))
    }

    /// Deletes a stored object.
    pub(crate) async fn delete_object<S: ObjectSpec>(
        &self,
        by: &Principal,
        name: &str,
    ) -> Result<(), AdminError> {
        let _write = self.object_write_lock().await;
        let (record, before) = self.stored::<S>(name).await?;
        let change = Change::Delete(record.kind, record.name);
        self.commit(by, change, "delete", Some(&before), None).await
    }

    /// 409 when the tenant already has as many sources (routes) as its `max_sources`
    /// (`max_routes`) allows.
    fn check_tenant_cap(
        &self,
        records: &[ObjectRecord],
        kind: ObjectKind,
    ) -> Result<(), AdminError> {
        let limits = self.tenant_limits();
        let cap = match kind {
            ObjectKind::Source => limits.max_sources,
            ObjectKind::Route => limits.max_routes,
            ObjectKind::Destination | ObjectKind::Agent => None,
        };
        let Some(cap) = cap else { return Ok(()) };
        let have = records.iter().filter(|r| r.kind == kind).count();
        if have >= cap as usize {
            return Err(AdminError::Conflict(format!(
                "tenant limit: at most {cap} {kind}s; the tenant has {have}"
            )));
        }
        Ok(())
    }

    /// Refuses records in which the changed object, or any object that is live now, would be
    /// left out (a deleted destination a route still names, for example).
    fn check_composes(
        &self,
        records: &[ObjectRecord],
        kind: ObjectKind,
        name: &str,
    ) -> Result<(), AdminError> {
        let state = self.object_state();
        let composed = self.compose_objects(&state.base, records);
        let was_skipped =
            |k: ObjectKind, n: &str| (state.skipped.iter()).any(|s| s.kind == k && s.name == n);
        if let Some(own) = (composed.skipped.iter()).find(|s| s.kind == kind && s.name == name) {
            return Err(AdminError::invalid(kind.as_str(), own.reason.clone()));
        }
        if let Some(other) = (composed.skipped.iter()).find(|s| !was_skipped(s.kind, &s.name)) {
            return Err(AdminError::Conflict(format!(
                "{} {:?} would no longer work: {}",
                other.kind, other.name, other.reason
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use crate::control::admin::{AdminError, Principal};
    use crate::model::ids::TenantId;
    use crate::relay::Relay;

    #[tokio::test]
    async fn secrets_without_a_credential_key_say_so() {
        let relay = Relay::builder().build().unwrap();
        let admin = Principal::system(TenantId::default());
        let spec = json!({"name": "shop", "scheme": "shopify", "secrets": ["shpss_1"]});
        let created = (relay.objects())
            .create_source(&admin, serde_json::from_value(spec).unwrap())
            .await;
        let error = created.unwrap_err();
        assert!(matches!(error, AdminError::NoCredentialKey), "{error:?}");
        assert!(error.to_string().contains("keyring"), "{error}");
        assert!(relay.catalog().source("shop").is_none());
    }
}
