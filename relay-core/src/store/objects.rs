//! [`ObjectStore`]: managed objects: sources, destinations and routes saved through the admin API.

use async_trait::async_trait;

use super::{DestinationRecord, StoreError};
use crate::control::manage::{ObjectKind, ObjectRecord};
use crate::model::ids::TenantId;

/// Sources, destinations and routes saved at run time (through the admin API or
/// [`Objects::save_destination`](crate::control::manage::Objects::save_destination)), per tenant.
#[async_trait]
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// Saves an HTTP destination (replacing the tenant's destination of the same name).
    async fn put_destination(
        &self,
        tenant: &TenantId,
        record: DestinationRecord,
    ) -> Result<(), StoreError>;

    /// The tenant's saved destinations, by name.
    async fn destination_records(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError>;

    /// Saves a new source, destination or route. Returns `false` (and writes nothing) when the
    /// tenant has one of that kind and name.
    async fn insert_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError>;

    /// Replaces the tenant's object of that kind and name (its `created_at` is kept). Returns
    /// `false` (and writes nothing) when there is none.
    async fn update_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError>;

    /// Deletes the tenant's object of that kind and name; whether there was one.
    async fn delete_object(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError>;

    /// The tenant's objects, by kind (sources, destinations, routes) then name.
    async fn objects(&self, tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError>;
}
