//! The state every handler shares: the relay and the [`AdminOptions`].

use relay_core::Relay;
use relay_core::control::admin::{AdminError, Principal};

use crate::api::error::ApiError;
use crate::options::AdminOptions;

/// The control plane's shared state.
#[derive(Debug, Clone)]
pub struct AdminState {
    pub(crate) relay: Relay,
    pub(crate) options: AdminOptions,
}

impl AdminState {
    /// The state of a control plane serving `relay`.
    pub fn new(relay: Relay, options: AdminOptions) -> Self {
        Self { relay, options }
    }

    /// The relay served.
    pub fn relay(&self) -> &Relay {
        &self.relay
    }

    /// The options.
    pub fn options(&self) -> &AdminOptions {
        &self.options
    }

    /// This state with the relay of `by`'s tenant (see [`Relay::scoped`]), through which
    /// sources, destinations and routes are listed and changed.
    pub(crate) async fn scoped(mut self, by: &Principal) -> Result<Self, ApiError> {
        self.relay =
            (self.relay.scoped(&by.tenant).await).map_err(|e| ApiError(AdminError::from(e)))?;
        Ok(self)
    }
}
