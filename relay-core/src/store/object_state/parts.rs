//! [`ObjectStateStore`] for the composing parts: [`Stores`] hands it to the part that
//! provides it, [`Refuse`] refuses it.

use async_trait::async_trait;

use super::{ObjectStateStore, StateRecord};
use crate::control::manage::ObjectKind;
use crate::model::ids::TenantId;
use crate::store::{Refuse, StoreError, Stores};

const CAPABILITY: &str = "object state";

#[async_trait]
impl ObjectStateStore for Stores {
    async fn put_object_state(
        &self,
        tenant: &TenantId,
        record: StateRecord,
    ) -> Result<(), StoreError> {
        self.states().put_object_state(tenant, record).await
    }

    async fn object_states(&self, tenant: &TenantId) -> Result<Vec<StateRecord>, StoreError> {
        self.states().object_states(tenant).await
    }

    async fn delete_object_state(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        self.states().delete_object_state(tenant, kind, name).await
    }
}

#[async_trait]
impl ObjectStateStore for Refuse {
    async fn put_object_state(
        &self,
        _tenant: &TenantId,
        _record: StateRecord,
    ) -> Result<(), StoreError> {
        Err((self.error)(CAPABILITY))
    }

    async fn object_states(&self, _tenant: &TenantId) -> Result<Vec<StateRecord>, StoreError> {
        Err((self.error)(CAPABILITY))
    }

    async fn delete_object_state(
        &self,
        _tenant: &TenantId,
        _kind: ObjectKind,
        _name: &str,
    ) -> Result<bool, StoreError> {
        Err((self.error)(CAPABILITY))
    }
}
