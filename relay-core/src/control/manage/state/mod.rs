//! The objects' stored enabled/disabled state ([`StateRecord`]): set by an operator, a
//! 410 Gone answer or the circuit breaker, stored so that every node follows it and a
//! restart or a configuration reload keeps it, applied over the configured and stored
//! objects, shown with who or what changed it and why, and audited.

use std::collections::HashSet;

use super::{ObjectKind, ObjectRecord};
use crate::control::admin::{AdminError, Area, FieldChange, Principal, Role};
use crate::control::manage::Objects;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::store::{CHANGED_BY_BREAKER, CHANGED_BY_GONE, StateRecord, StoreError};

/// The longest reason [`Objects::set_enabled`] takes, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Why an object is disabled: who or what disabled it, why and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disabled {
    /// An operator (`key:<id>`, `user:<name>`), `410` or `circuit breaker`.
    pub by: String,
    /// Why (may be empty).
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// The stored states read, applied over `records`: an API-managed source or destination
/// takes the enabled flag of its state, when it has one.
pub(crate) fn overlay(records: &[ObjectRecord], states: &[StateRecord]) -> Vec<ObjectRecord> {
    (records.iter())
        .map(|record| {
            let mut record = record.clone();
            if matches!(record.kind, ObjectKind::Source | ObjectKind::Destination)
                && let Some(state) = find(states, record.kind, &record.name)
            {
                record.enabled = state.enabled;
            }
            record
        })
        .collect()
}

/// The names of the objects of `kind` that `states` disables.
pub(crate) fn disabled_names(states: &[StateRecord], kind: ObjectKind) -> HashSet<String> {
    (states.iter())
        .filter(|s| s.kind == kind && !s.enabled)
        .map(|s| s.name.clone())
        .collect()
}

fn find<'a>(states: &'a [StateRecord], kind: ObjectKind, name: &str) -> Option<&'a StateRecord> {
    states.iter().find(|s| s.kind == kind && s.name == name)
}

/// The store's states for `tenant`; a store without the capability has none.
pub(crate) async fn read_states(
    relay: &Relay,
    tenant: &TenantId,
) -> Result<Vec<StateRecord>, StoreError> {
    match relay.store().object_states(tenant).await {
        Err(StoreError::Unsupported(_)) => Ok(Vec::new()),
        other => other,
    }
}

impl Relay {
    /// Why the object is disabled, from its stored state (`None`: enabled, or disabled by
    /// something not stored, such as an API-managed object's own flag before states existed).
    pub(crate) fn disabled_by(&self, kind: ObjectKind, name: &str) -> Option<Disabled> {
        let state = self.object_state();
        let found = find(&state.states, kind, name).filter(|s| !s.enabled)?;
        Some(Disabled {
            by: found.changed_by.clone(),
            reason: found.reason.clone(),
            at: found.changed_at,
        })
    }

    /// Stores the state of an object, audits it as `enable` or `disable` by `by` (with the
    /// reason as the change), and makes it live on this node; other nodes follow at their
    /// next object sync, and their lease queries skip a disabled destination at once.
    pub(crate) async fn store_state(
        &self,
        by: &Principal,
        kind: ObjectKind,
        name: &str,
        enabled: bool,
        reason: &str,
    ) -> Result<(), AdminError> {
        let record = StateRecord {
            kind,
            name: name.to_owned(),
            enabled,
            changed_by: by.actor.clone(),
            reason: reason.to_owned(),
            changed_at: Timestamp::now(),
        };
        let tenant = self.tenant_id().clone();
        self.store()
            .put_object_state(&tenant, record.clone())
            .await?;
        {
            let mut state = self.object_state();
            state.states.retain(|s| !(s.kind == kind && s.name == name));
            state.states.push(record);
            let records = state.records.clone();
            self.apply_objects(&mut state, records);
        }
        if kind == ObjectKind::Destination {
            if enabled {
                self.enable_destination(name);
            } else {
                self.disable_destination(name);
            }
        }
        let action = if enabled { "enable" } else { "disable" };
        let changes = vec![FieldChange {
            field: "reason".into(),
            before: None,
            after: Some(reason.into()),
        }];
        self.access()
            .audit(by, action, kind.as_str(), name, changes)
            .await
    }

    /// Pauses a destination on this node at once and stores why (`by`: [`CHANGED_BY_GONE`]
    /// or [`CHANGED_BY_BREAKER`]) in the background, so every node holds its deliveries and
    /// a restart keeps it paused.
    pub(crate) fn hold_destination(&self, by: &'static str, name: &str, reason: String) {
        debug_assert!(by == CHANGED_BY_GONE || by == CHANGED_BY_BREAKER);
        self.disable_destination(name);
        crate::observe::telemetry::record_destination_paused(name, by);
        let relay = self.clone();
        let name = name.to_owned();
        tokio::spawn(async move {
            let actor = Principal {
                tenant: relay.tenant_id().clone(),
                actor: by.to_owned(),
                role: Role::Admin,
                client: None,
            };
            let stored = relay
                .store_state(&actor, ObjectKind::Destination, &name, false, &reason)
                .await;
            if let Err(error) = stored {
                tracing::warn!(destination = %name, %error, "could not store the pause of a destination");
            }
        });
    }
}

impl Objects<'_> {
    /// Enables or disables a source, destination or route, configured or API-managed
    /// (operator), with an optional reason: stored (every node follows it, a restart or a
    /// configuration reload keeps it) and audited. A disabled source answers ingest as
    /// unknown, a disabled destination's deliveries are held (not leased; due at once when
    /// it is enabled again), a disabled route matches nothing.
    pub async fn set_enabled(
        &self,
        by: &Principal,
        kind: ObjectKind,
        name: &str,
        enabled: bool,
        reason: &str,
    ) -> Result<(), AdminError> {
        match kind {
            ObjectKind::Destination => {
                (self.relay).may_change_in(by, Area::Destinations, Role::Operator)?
            }
            ObjectKind::Route => (self.relay).may_change_in(by, Area::Routes, Role::Operator)?,
            ObjectKind::Source | ObjectKind::Agent => self.relay.may_change(by, Role::Operator)?,
        };
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(AdminError::invalid(
                "reason",
                format!("at most {MAX_REASON_CHARS} characters"),
            ));
        }
        let catalog = self.relay.catalog();
        let exists = match kind {
            ObjectKind::Source => catalog.sources().iter().any(|s| s.name() == name),
            ObjectKind::Destination => catalog.destination(name).is_some(),
            ObjectKind::Route => catalog.routes().get(name).is_some(),
            ObjectKind::Agent => false,
        };
        if !exists {
            return Err(AdminError::NotFound);
        }
        let _write = self.relay.object_write_lock().await;
        self.relay
            .store_state(by, kind, name, enabled, reason)
            .await
    }
}

#[cfg(test)]
mod tests;
