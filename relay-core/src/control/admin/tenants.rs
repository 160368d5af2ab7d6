//! [`Tenants`] (`relay.tenants()`), the tenant registry: the tenants a platform admin creates, each with optional limits.
//!
//! A *platform admin* is an admin (API key or user) of the `default` tenant: only they list,
//! create, change and delete tenants and create the first API key of another tenant. Any
//! other principal is answered 404 on these operations, as for any object of another tenant.
//! The `default` tenant always exists (listed even when nothing is stored for it) and
//! cannot be deleted; another tenant is deleted only once it has no sources, destinations,
//! routes, unrevoked API keys or users left (409 otherwise). Its events, deliveries and
//! audit entries stay until retention prunes them.
//!
//! ```
//! use relay_core::control::admin::{Principal, Role, TenantLimits};
//! use relay_core::model::ids::TenantId;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let relay = relay_core::Relay::builder().build().unwrap();
//! let platform = Principal::system(TenantId::default());
//! let limits = TenantLimits { daily_quota: Some(10_000), ..TenantLimits::default() };
//! relay.tenants().create(&platform, "acme", limits).await.unwrap();
//! let key = relay.tenants().create_api_key(&platform, "acme", "acme-admin", Role::Admin).await.unwrap();
//! assert_eq!(key.record.tenant.as_str(), "acme");
//! let names: Vec<_> = relay.tenants().list(&platform).await.unwrap().into_iter().map(|t| t.tenant.to_string()).collect();
//! assert_eq!(names, ["acme", "default"]);
//! # }
//! ```

use serde::{Deserialize, Serialize};

use super::{AdminError, CreatedApiKey, FieldChange, Principal, Role, diff};
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::store::StoreError;

/// A tenant's limits; each `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantLimits {
    /// Accepted ingest requests per second over all of the tenant's sources (a token bucket
    /// refilled at this rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<u32>,
    /// The token bucket's size (default: `rate_per_second`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Accepted events per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_quota: Option<u64>,
    /// How many sources the tenant may create through the admin API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sources: Option<u32>,
    /// How many routes the tenant may create through the admin API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_routes: Option<u32>,
}

impl TenantLimits {
    /// The limits as stored (a JSON object).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| unreachable!("limits serialize"))
    }

    /// Limits as stored; [`StoreError::Corrupt`] when they do not parse.
    pub fn from_json(text: &str) -> Result<Self, StoreError> {
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("tenant limits: {e}")))
    }

    /// The most `rate_per_second`, `burst`, `max_sources` and `max_routes` may be.
    pub const MAX_COUNT: u32 = 1_000_000;
    /// The most `daily_quota` may be.
    pub const MAX_DAILY_QUOTA: u64 = 1_000_000_000_000;

    fn problems(&self) -> Vec<super::FieldError> {
        let mut problems = Vec::new();
        let mut check = |field: &str, value: Option<u64>, min: u64, max: u64| {
            if value.is_some_and(|v| v < min || v > max) {
                let message = format!("must be {min} to {max}");
                problems.push(super::FieldError::new(field, message));
            }
        };
        let count = u64::from(Self::MAX_COUNT);
        check(
            "limits.rate_per_second",
            self.rate_per_second.map(u64::from),
            1,
            count,
        );
        check("limits.burst", self.burst.map(u64::from), 1, count);
        check(
            "limits.daily_quota",
            self.daily_quota,
            1,
            Self::MAX_DAILY_QUOTA,
        );
        check(
            "limits.max_sources",
            self.max_sources.map(u64::from),
            0,
            count,
        );
        check(
            "limits.max_routes",
            self.max_routes.map(u64::from),
            0,
            count,
        );
        if self.burst.is_some() && self.rate_per_second.is_none() {
            problems.push(super::FieldError::new(
                "limits.burst",
                "needs limits.rate_per_second",
            ));
        }
        problems
    }
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    /// The tenant's name (its id).
    pub tenant: TenantId,
    /// Its limits.
    pub limits: TenantLimits,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its limits last changed.
    pub updated_at: Timestamp,
}

impl TenantRecord {
    /// A new record with these limits, created now.
    pub fn new(tenant: TenantId, limits: TenantLimits) -> Self {
        let now = Timestamp::now();
        Self {
            tenant,
            limits,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Tenant names follow the rules of every other name: 1 to 128 ASCII letters, digits, `-`,
/// `_` or `.` (they appear in ingest URLs).
fn check_tenant_name(name: &str) -> Result<(), AdminError> {
    let mut problems = Vec::new();
    crate::control::definition::check_name("name", name, &mut problems);
    match problems.pop() {
        Some(p) => Err(AdminError::invalid("name", p.reason)),
        None => Ok(()),
    }
}

fn limits_value(limits: &TenantLimits) -> serde_json::Value {
    serde_json::to_value(limits).unwrap_or_else(|_| unreachable!("limits serialize"))
}

/// The tenant registry, for platform admins: list, create, change and delete tenants, and
/// create a tenant's first API key.
#[derive(Debug, Clone, Copy)]
pub struct Tenants<'a> {
    pub(crate) relay: &'a Relay,
}

impl Relay {
    /// The tenant registry (see [`Tenants`]).
    pub fn tenants(&self) -> Tenants<'_> {
        Tenants { relay: self }
    }
}

impl Relay {
    /// The stored tenants with `default` added when it is not stored, by name.
    pub(crate) async fn tenant_records(&self) -> Result<Vec<TenantRecord>, StoreError> {
        let mut tenants = self.store().tenants().await?;
        if !tenants.iter().any(|t| t.tenant == TenantId::default()) {
            tenants.push(TenantRecord {
                created_at: Timestamp::from_millis(0),
                updated_at: Timestamp::from_millis(0),
                ..TenantRecord::new(TenantId::default(), TenantLimits::default())
            });
        }
        tenants.sort_by(|a, b| a.tenant.as_str().cmp(b.tenant.as_str()));
        Ok(tenants)
    }
}

impl Tenants<'_> {
    /// `Ok` for a platform admin (an admin of the `default` tenant); 404 for a principal of
    /// another tenant, 403 for a default-tenant principal below admin.
    pub fn require_platform_admin(&self, by: &Principal) -> Result<(), AdminError> {
        if by.tenant != TenantId::default() {
            return Err(AdminError::NotFound);
        }
        by.require(Role::Admin)
    }

    /// Every tenant, by name; `default` is always among them.
    pub async fn list(&self, by: &Principal) -> Result<Vec<TenantRecord>, AdminError> {
        self.require_platform_admin(by)?;
        Ok(self.relay.tenant_records().await?)
    }

    /// One tenant (404 when there is none of that name).
    pub async fn get(&self, by: &Principal, name: &str) -> Result<TenantRecord, AdminError> {
        self.require_platform_admin(by)?;
        (self.relay.tenant_records().await?.into_iter())
            .find(|t| t.tenant.as_str() == name)
            .ok_or(AdminError::NotFound)
    }

    /// Creates a tenant (409 when it exists); audited in the `default` tenant.
    pub async fn create(
        &self,
        by: &Principal,
        name: &str,
        limits: TenantLimits,
    ) -> Result<TenantRecord, AdminError> {
        self.require_platform_admin(by)?;
        check_tenant_name(name)?;
        let problems = limits.problems();
        if !problems.is_empty() {
            return Err(AdminError::Invalid(problems));
        }
        let record = TenantRecord::new(TenantId::new(name), limits);
        if name == TenantId::DEFAULT || !self.relay.store().insert_tenant(record.clone()).await? {
            return Err(AdminError::Conflict(format!(
                "tenant {name:?} already exists"
            )));
        }
        let changes = diff(&serde_json::json!({}), &limits_value(&limits), &[]);
        self.relay
            .access()
            .audit(by, "create", "tenant", name, changes)
            .await?;
        self.relay.sync_tenants().await?;
        Ok(record)
    }

    /// Replaces a tenant's limits (404 when there is no such tenant); audited.
    pub async fn update(
        &self,
        by: &Principal,
        name: &str,
        limits: TenantLimits,
    ) -> Result<TenantRecord, AdminError> {
        let before = self.get(by, name).await?;
        let problems = limits.problems();
        if !problems.is_empty() {
            return Err(AdminError::Invalid(problems));
        }
        let record = TenantRecord {
            limits,
            updated_at: Timestamp::now(),
            ..before.clone()
        };
        let updated = self.relay.store().update_tenant(record.clone()).await?;
        if !updated && !self.relay.store().insert_tenant(record.clone()).await? {
            return Err(AdminError::NotFound);
        }
        let changes = diff(&limits_value(&before.limits), &limits_value(&limits), &[]);
        self.relay
            .access()
            .audit(by, "update", "tenant", name, changes)
            .await?;
        self.relay.sync_tenants().await?;
        Ok(record)
    }

    /// Deletes a tenant. The `default` tenant and a tenant that still has sources,
    /// destinations, routes, unrevoked API keys or users are refused with 409.
    pub async fn delete(&self, by: &Principal, name: &str) -> Result<(), AdminError> {
        let record = self.get(by, name).await?;
        if name == TenantId::DEFAULT {
            return Err(AdminError::Conflict(
                "the default tenant cannot be deleted".into(),
            ));
        }
        let tenant = &record.tenant;
        let objects = self.relay.store().objects(tenant).await?.len();
        let keys = (self.relay.store().api_keys(tenant).await?.iter())
            .filter(|k| k.revoked_at.is_none())
            .count();
        let users = self.relay.store().users(tenant).await?.len();
        if objects + keys + users > 0 {
            return Err(AdminError::Conflict(format!(
                "tenant {name:?} still has {objects} objects, {keys} API keys and {users} users; delete them first"
            )));
        }
        if !self.relay.store().delete_tenant(tenant).await? {
            return Err(AdminError::NotFound);
        }
        let changes = vec![FieldChange {
            field: "name".into(),
            before: Some(name.into()),
            after: None,
        }];
        self.relay
            .access()
            .audit(by, "delete", "tenant", name, changes)
            .await?;
        self.relay.sync_tenants().await?;
        Ok(())
    }

    /// Creates an API key with `role` in tenant `tenant` (platform admins only: how a
    /// tenant gets its first admin); audited in that tenant, with the platform admin as
    /// the actor.
    pub async fn create_api_key(
        &self,
        by: &Principal,
        tenant: &str,
        name: &str,
        role: Role,
    ) -> Result<CreatedApiKey, AdminError> {
        let record = self.get(by, tenant).await?;
        let acting = Principal {
            tenant: record.tenant,
            actor: by.actor.clone(),
            role: Role::Admin,
            client: None,
        };
        self.relay
            .access()
            .create_api_key(&acting, name, role)
            .await
    }
}
