//! [`NodeLeases`]: the identity a relay's workers lease under, and whether its previous
//! life's leases were reclaimed (see [`resume`](super::resume)).

use tokio::sync::OnceCell;

use crate::model::ids::NodeId;

/// The node's identity and whether its previous life's leases were reclaimed (once per
/// relay, whichever worker starts first).
#[derive(Debug, Default)]
pub(crate) struct NodeLeases {
    node: Option<NodeId>,
    pub(super) reclaimed: OnceCell<u64>,
}

impl NodeLeases {
    /// Leases held under `node` (none: leases without a holder, taken over at expiry).
    pub(crate) fn new(node: Option<NodeId>) -> Self {
        Self {
            node,
            reclaimed: OnceCell::new(),
        }
    }

    /// The identity recorded on this node's leases.
    pub(crate) fn node(&self) -> Option<&NodeId> {
        self.node.as_ref()
    }
}
