//! [`Objects`]: the control operations on one tenant's sources, destinations and routes
//! (list, create, change, enable, delete, test, sync), reached with [`Relay::objects`].

use crate::relay::Relay;

/// The sources, destinations and routes of one relay's tenant, listed and changed at run time
/// (see [`crate::control::manage`]).
#[derive(Debug, Clone, Copy)]
pub struct Objects<'a> {
    pub(crate) relay: &'a Relay,
}

impl Relay {
    /// The sources, destinations and routes of this relay's tenant (see [`Objects`]).
    pub fn objects(&self) -> Objects<'_> {
        Objects { relay: self }
    }
}
