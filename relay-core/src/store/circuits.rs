//! [`CircuitStore`]: circuit-breaker state, shared by every worker through compare-and-set.

use async_trait::async_trait;

use super::StoreError;
use crate::deliver::circuit::{CircuitState, VersionedCircuit};
use crate::model::ids::TenantId;

/// Each destination's circuit-breaker state, changed only by a versioned compare-and-set so
/// that workers on every node agree on one state.
#[async_trait]
pub trait CircuitStore: Send + Sync + std::fmt::Debug {
    /// The circuit-breaker state of `destination`, with its version; `None` when none was ever
    /// stored (a closed circuit).
    async fn circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError>;

    /// Compare-and-set of a destination's circuit: writes `state` only if the stored version
    /// is still `expected` (`None`: nothing stored yet), and returns whether it wrote. The
    /// version written is `expected + 1` (1 for the first write), so concurrent writers from
    /// the same version see exactly one `true`.
    async fn swap_circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
        expected: Option<u64>,
        state: CircuitState,
    ) -> Result<bool, StoreError>;
}
