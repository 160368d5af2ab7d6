//! One live catalog per tenant.
//!
//! The relay that [`RelayBuilder::build`](crate::RelayBuilder::build) returns serves the
//! `default` tenant: the configured sources, destinations and routes, and the objects its
//! principals create through the admin API. Every other tenant gets a *tenant relay* that
//! shares the store, the limiter, the outbound client, the keyring and the delivery
//! workers' wake-ups, but has its own catalog (the configured transformers, plus the
//! objects the tenant's principals created), its own stored objects, and its own pauses,
//! in-flight counts and throttles per destination. So a name is resolved in one tenant's
//! catalog only: tenant B cannot ingest into, route to, list, change or pause tenant A's
//! objects, whatever their names.
//!
//! Ingest resolves `(tenant, source)` ([`IngestRequest::tenant`](crate::ingest::IngestRequest)):
//! the default tenant's requests take the path they always took (no lookup); another
//! tenant's look up its relay in a lock-free map (an unknown tenant answers 404
//! `unknown_source`, like an unknown source). The delivery worker attempts each delivery in
//! its event's tenant relay. Tenant relays are made for every tenant of the registry and
//! every tenant that has stored objects, by [`Objects::sync_objects`](crate::control::manage::Objects::sync_objects), and on first use.
//!
//! ```
//! use relay_core::control::admin::Principal;
//! use relay_core::model::ids::TenantId;
//! use relay_core::ingest::{IngestOutcome, IngestRequest};
//! use serde_json::json;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let relay = relay_core::Relay::builder().build().unwrap();
//! let acme = TenantId::new("acme");
//! let scoped = relay.scoped(&acme).await.unwrap();
//! let spec = serde_json::from_value(json!({"name": "shop", "scheme": "none"})).unwrap();
//! scoped.objects().create_source(&Principal::system(acme.clone()), spec).await.unwrap();
//!
//! let mut request = IngestRequest::new("shop", Default::default(), "{}");
//! assert_eq!(relay.ingest(request.clone()).await, IngestOutcome::UnknownSource);
//! request.tenant = acme;
//! assert!(matches!(relay.ingest(request).await, IngestOutcome::Accepted { .. }));
//! # }
//! ```

use std::sync::Arc;
use std::time::Duration;

pub(crate) mod gate;
mod limits;
pub(crate) mod registry;

use gate::TenantGate;

use crate::control::admin::TenantLimits;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::store::{LeasedDelivery, StoreError};

impl Relay {
    /// The relay serving `tenant`: this one for its own tenant, the tenant's relay when it
    /// has one, else `None` (ingest answers such a tenant 404 `unknown_source`).
    pub fn tenant_relay(&self, tenant: &TenantId) -> Option<Relay> {
        if tenant == self.tenant_id() {
            return Some(self.clone());
        }
        if !self.is_root() {
            // A tenant's handle reaches its own tenant only.
            return None;
        }
        let state = self.tenant_relays().get(tenant)?;
        Some(self.with_tenant(state))
    }

    /// The relay serving `tenant`, made (with an empty catalog) when there is none yet.
    pub(crate) fn tenant_relay_or_new(&self, tenant: &TenantId) -> Relay {
        if let Some(relay) = self.tenant_relay(tenant) {
            return relay;
        }
        let state =
            (self.tenant_relays()).get_or_insert_with(tenant, || self.new_tenant(tenant.clone()));
        self.with_tenant(state)
    }

    /// The relay through which `tenant`'s sources, destinations and routes are listed and
    /// changed (this one for its own tenant): the admin API calls the object operations on
    /// `relay.scoped(&principal.tenant)`. A tenant relay made here reads the tenant's stored
    /// objects first.
    pub async fn scoped(&self, tenant: &TenantId) -> Result<Relay, StoreError> {
        if let Some(relay) = self.tenant_relay(tenant) {
            return Ok(relay);
        }
        let relay = self.tenant_relay_or_new(tenant);
        relay.sync_own_objects().await?;
        Ok(relay)
    }

    /// The tenants with a relay of their own (not this relay's tenant).
    pub(crate) fn tenant_ids(&self) -> Vec<TenantId> {
        self.tenant_relays().tenants()
    }

    /// The longest attempt timeout of any destination of any tenant (leases must outlast
    /// attempts).
    pub(crate) fn longest_timeout_of_all(&self) -> Duration {
        let own = self.catalog().longest_timeout();
        (self.tenant_relays().all().iter())
            .map(|tenant| {
                self.with_tenant(Arc::clone(tenant))
                    .catalog()
                    .longest_timeout()
            })
            .fold(own, Duration::max)
    }

    /// Reads the stored objects of this relay's tenant and, on the built relay, of every
    /// tenant in the registry or with a relay already (see [`Objects::sync_objects`](crate::control::manage::Objects::sync_objects)).
    pub(crate) async fn sync_tenants(&self) -> Result<(), StoreError> {
        if self.is_root() {
            let mut tenants = self.tenant_ids();
            let records = self.store().tenants().await?;
            let limited = |tenant: &TenantId| {
                (records.iter())
                    .find(|r| r.tenant == *tenant)
                    .map(|r| r.limits)
                    .unwrap_or_default()
            };
            self.set_tenant_limits(limited(self.tenant_id()));
            for record in &records {
                if !tenants.contains(&record.tenant) && record.tenant != *self.tenant_id() {
                    tenants.push(record.tenant.clone());
                }
            }
            for tenant in &tenants {
                self.tenant_relay_or_new(tenant)
                    .set_tenant_limits(limited(tenant));
            }
            for tenant in tenants {
                self.tenant_relay_or_new(&tenant).sync_own_objects().await?;
            }
        }
        Ok(())
    }

    /// The relay to attempt a delivery of another tenant in. When that relay cannot be made
    /// (the tenant's objects cannot be read), the delivery goes back to the queue for a
    /// second and `None` is returned: it is never attempted against another catalog.
    pub(crate) async fn delivery_relay(&self, leased: &LeasedDelivery) -> Option<Relay> {
        let tenant = &leased.event.tenant;
        match self.scoped(tenant).await {
            Ok(relay) => Some(relay),
            Err(error) => {
                tracing::warn!(%error, %tenant, "could not read the tenant's objects; delivery deferred");
                let again = Timestamp::now().plus(Duration::from_secs(1));
                if let Err(error) = self.store().release(&leased.lease, again).await {
                    tracing::warn!(%error, "could not put the delivery back; it is retried when its lease expires");
                }
                None
            }
        }
    }

    /// Applies `limits` to this relay's tenant (a new token bucket only when they changed).
    pub(crate) fn set_tenant_limits(&self, limits: TenantLimits) {
        let gate = self.tenant_limits_gate();
        let current = gate.load().as_ref().map(|g| g.limits);
        if current.unwrap_or_default() == limits {
            return;
        }
        let next = (limits != TenantLimits::default()).then(|| Arc::new(TenantGate::new(limits)));
        gate.store(next);
    }

    pub(crate) fn tenant_gate(&self) -> Option<Arc<TenantGate>> {
        self.tenant_limits_gate().load_full()
    }

    fn is_root(&self) -> bool {
        *self.tenant_id() == TenantId::default()
    }
}
