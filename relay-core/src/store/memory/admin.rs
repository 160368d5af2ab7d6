//! The control capabilities of [`MemoryStore`]: objects, access, tenants (the audit log and
//! metric points are in `records`).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;

use super::{MemoryStore, State};
use crate::control::admin::{
    ApiKeyRecord, AuditEntry, DeliveryCounts, EventQuery, MetricScope, PortalLinkRecord,
    SessionRecord, TenantRecord, UserRecord,
};
use crate::control::manage::{ObjectKind, ObjectRecord};
use crate::model::event::Event;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::store::{AccessStore, DestinationRecord, ObjectStore, StoreError, TenantStore};

/// A metric point's key: tenant, minute, scope, name, metric.
pub(super) type MetricKey = (TenantId, Timestamp, MetricScope, String, String);

#[derive(Debug, Default)]
pub(super) struct AdminState {
    api_keys: BTreeMap<String, ApiKeyRecord>,
    users: BTreeMap<(TenantId, String), UserRecord>,
    sessions: HashMap<Vec<u8>, SessionRecord>,
    portal_links: HashMap<Vec<u8>, PortalLinkRecord>,
    pub(super) audit: Vec<AuditEntry>,
    /// The records of refused signatures.
    pub(super) sig_failures: Vec<crate::ingest::sig_failure::SignatureFailure>,
    pub(super) metrics: BTreeMap<MetricKey, i64>,
    objects: BTreeMap<(TenantId, ObjectKind, String), ObjectRecord>,
    pub(super) tenants: super::tenants::Tenants,
}

impl State {
    pub(super) fn counts(&self, event: &Event) -> DeliveryCounts {
        let mut counts = DeliveryCounts::default();
        for id in self.by_event.get(&event.id).into_iter().flatten() {
            if let Some(row) = self.owned(&event.tenant, *id) {
                counts.add(row.delivery.status);
            }
        }
        counts
    }
}

pub(super) fn matches(query: &EventQuery, event: &Event) -> bool {
    query.source.as_deref().is_none_or(|s| s == event.source)
        && query
            .event_type
            .as_deref()
            .is_none_or(|t| crate::route::Glob::new(t).matches(&event.event_type))
        && query.since.is_none_or(|t| event.received_at >= t)
        && query.until.is_none_or(|t| event.received_at < t)
        && query
            .key_contains
            .as_deref()
            .is_none_or(|k| event.idempotency_key.contains(k))
        && query.before.is_none_or(|b| event.id < b)
}

#[async_trait]
impl ObjectStore for MemoryStore {
    async fn put_destination(
        &self,
        tenant: &TenantId,
        record: DestinationRecord,
    ) -> Result<(), StoreError> {
        let key = (tenant.clone(), record.name.clone());
        self.state().destinations.insert(key, record);
        Ok(())
    }

    async fn destination_records(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError> {
        Ok(self
            .state()
            .destinations
            .iter()
            .filter(|((t, _), _)| t == tenant)
            .map(|(_, record)| record.clone())
            .collect())
    }

    async fn insert_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let key = (tenant.clone(), record.kind, record.name.clone());
        if state.admin.objects.contains_key(&key) {
            return Ok(false);
        }
        state.admin.objects.insert(key, record);
        Ok(true)
    }

    async fn update_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let key = (tenant.clone(), record.kind, record.name.clone());
        match state.admin.objects.get_mut(&key) {
            Some(stored) => {
                *stored = ObjectRecord {
                    created_at: stored.created_at,
                    ..record
                };
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_object(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        let key = (tenant.clone(), kind, name.to_owned());
        Ok(self.state().admin.objects.remove(&key).is_some())
    }

    async fn objects(&self, tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
        Ok((self.state().admin.objects.iter())
            .filter(|((t, _, _), _)| t == tenant)
            .map(|(_, record)| record.clone())
            .collect())
    }
}

#[async_trait]
impl AccessStore for MemoryStore {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state.admin.api_keys.contains_key(&record.id) {
            return Ok(false);
        }
        state.admin.api_keys.insert(record.id.clone(), record);
        Ok(true)
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.state().admin.api_keys.get(id).cloned())
    }

    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut keys: Vec<ApiKeyRecord> = (self.state().admin.api_keys.values())
            .filter(|k| &k.tenant == tenant)
            .cloned()
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.admin.api_keys.get_mut(id) {
            Some(key) if &key.tenant == tenant && key.revoked_at.is_none() => {
                key.revoked_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn insert_user(&self, record: UserRecord) -> Result<bool, StoreError> {
        let mut state = self.state();
        let key = (record.tenant.clone(), record.username.clone());
        if state.admin.users.contains_key(&key) {
            return Ok(false);
        }
        state.admin.users.insert(key, record);
        Ok(true)
    }

    async fn user(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let key = (tenant.clone(), username.to_owned());
        Ok(self.state().admin.users.get(&key).cloned())
    }

    async fn users(&self, tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
        Ok((self.state().admin.users.iter())
            .filter(|((t, _), _)| t == tenant)
            .map(|(_, u)| u.clone())
            .collect())
    }

    async fn delete_user(&self, tenant: &TenantId, username: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        let key = (tenant.clone(), username.to_owned());
        let existed = state.admin.users.remove(&key).is_some();
        state
            .admin
            .sessions
            .retain(|_, s| !(&s.tenant == tenant && s.username == username));
        Ok(existed)
    }

    async fn record_login_failure(
        &self,
        tenant: &TenantId,
        username: &str,
        lock_after: u32,
        lock_until: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError> {
        let mut state = self.state();
        let key = (tenant.clone(), username.to_owned());
        let Some(user) = state.admin.users.get_mut(&key) else {
            return Ok(None);
        };
        user.failed_logins += 1;
        if user.failed_logins >= lock_after {
            user.failed_logins = 0;
            user.locked_until = Some(lock_until);
        }
        Ok(Some(user.clone()))
    }

    async fn record_login_success(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        if let Some(user) = (state.admin.users).get_mut(&(tenant.clone(), username.to_owned())) {
            user.failed_logins = 0;
            user.locked_until = None;
        }
        Ok(())
    }

    async fn insert_session(&self, record: SessionRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        state
            .admin
            .sessions
            .insert(record.token_hash.clone(), record);
        Ok(())
    }

    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.state().admin.sessions.get(token_hash).cloned())
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        self.state().admin.sessions.remove(token_hash);
        Ok(())
    }

    async fn prune_sessions(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        let mut state = self.state();
        let sessions = &mut state.admin.sessions;
        let expired: Vec<Vec<u8>> = (sessions.iter())
            .filter(|(_, s)| s.expires_at < before)
            .map(|(hash, _)| hash.clone())
            .take(batch)
            .collect();
        for hash in &expired {
            sessions.remove(hash);
        }
        Ok(expired.len() as u64)
    }

    async fn insert_portal_link(&self, record: PortalLinkRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        (state.admin.portal_links).insert(record.token_hash.clone(), record);
        Ok(())
    }

    async fn consume_portal_link(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<PortalLinkRecord>, StoreError> {
        let mut state = self.state();
        let link = (state.admin.portal_links.get_mut(token_hash))
            .filter(|l| l.used_at.is_none() && l.expires_at > now);
        Ok(link.map(|l| {
            l.used_at = Some(now);
            l.clone()
        }))
    }

    async fn prune_portal_links(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        let mut state = self.state();
        let links = &mut state.admin.portal_links;
        let expired: Vec<Vec<u8>> = (links.iter())
            .filter(|(_, l)| l.expires_at < before)
            .map(|(hash, _)| hash.clone())
            .take(batch)
            .collect();
        for hash in &expired {
            links.remove(hash);
        }
        Ok(expired.len() as u64)
    }
}

#[async_trait]
impl TenantStore for MemoryStore {
    async fn insert_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        Ok(self.state().admin.tenants.insert(record))
    }

    async fn update_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        Ok(self.state().admin.tenants.update(record))
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        Ok(self.state().admin.tenants.delete(tenant))
    }

    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        Ok(self.state().admin.tenants.all())
    }

    async fn take_quota(
        &self,
        tenant: &TenantId,
        day: i64,
        limit: u64,
    ) -> Result<crate::store::QuotaOutcome, StoreError> {
        Ok(self.state().admin.tenants.take_quota(tenant, day, limit))
    }
}
