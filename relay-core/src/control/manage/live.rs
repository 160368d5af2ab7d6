//! Keeping the live catalog in step with the stored objects, on this node and on every node
//! that shares the store.

use std::collections::HashSet;
use std::time::Duration;

use super::compose::{Composed, Context, Skipped, compose};
use super::state::{disabled_names, overlay, read_states};
use super::{ObjectKind, ObjectRecord};
use crate::catalog::Catalog;
use crate::control::manage::Objects;
use crate::relay::Relay;
use crate::store::{StateRecord, StoreError};

/// The configured catalog and the stored objects the live one is made of.
#[derive(Debug)]
pub(crate) struct ObjectState {
    /// What the builder (or [`Objects::swap_catalog`](crate::control::manage::Objects::swap_catalog)) gave.
    pub base: Catalog,
    /// The stored objects, as last read or written.
    pub records: Vec<ObjectRecord>,
    /// Stored destinations paused because they are disabled.
    pub paused: HashSet<String>,
    /// Stored objects left out, and why.
    pub skipped: Vec<Skipped>,
    /// The objects' stored enabled/disabled state, as last read or written (see
    /// [`super::state`]).
    pub states: Vec<StateRecord>,
}

impl ObjectState {
    pub(crate) fn new(base: Catalog) -> Self {
        Self {
            base,
            records: Vec::new(),
            paused: HashSet::new(),
            skipped: Vec::new(),
            states: Vec::new(),
        }
    }
}

impl Relay {
    /// Changes the configured catalog with `change`, then rebuilds the live one.
    pub(crate) fn change_base(&self, change: impl FnOnce(&Catalog) -> Catalog) {
        let mut state = self.object_state();
        state.base = change(&state.base);
        let records = state.records.clone();
        self.apply_objects(&mut state, records);
    }

    /// [`Objects::sync_objects`](crate::control::manage::Objects::sync_objects) for this relay's tenant only.
    pub(crate) async fn sync_own_objects(&self) -> Result<(), StoreError> {
        let records = self.store().objects(self.tenant_id()).await?;
        let states = read_states(self, self.tenant_id()).await?;
        let mut state = self.object_state();
        let records_changed = state.records != records;
        if records_changed {
            // Agents whose credential was revoked, rotated or deleted since they connected
            // (possibly through another node) are disconnected.
            let tenant = self.tenant_id();
            self.agent_hub().retain(|agent, since| {
                agent.tenant != *tenant
                    || records.iter().any(|r| {
                        r.kind == super::ObjectKind::Agent
                            && r.name == agent.agent
                            && r.enabled
                            && r.updated_at <= since
                    })
            });
        }
        if records_changed || state.states != states {
            state.states = states;
            self.apply_objects(&mut state, records);
        }
        Ok(())
    }

    /// The catalog `records` make with the configured `base`.
    pub(crate) fn compose_objects(&self, base: &Catalog, records: &[ObjectRecord]) -> Composed {
        let cx = Context {
            base,
            tenant: self.tenant_id(),
            keyring: self.keyring().map(AsRef::as_ref),
            guard: self.guard(),
        };
        compose(records, &cx)
    }

    /// Makes `records` live with the stored states over them: a new catalog (disabled
    /// sources and routes in it), and the pauses of disabled destinations.
    pub(crate) fn apply_objects(&self, state: &mut ObjectState, records: Vec<ObjectRecord>) {
        let Composed {
            catalog,
            skipped,
            mut paused,
        } = self.compose_objects(&state.base, &overlay(&records, &state.states));
        let catalog = catalog.with_disabled(
            disabled_names(&state.states, ObjectKind::Source),
            disabled_names(&state.states, ObjectKind::Route),
        );
        paused.extend(disabled_names(&state.states, ObjectKind::Destination));
        for object in skipped.iter().filter(|s| !state.skipped.contains(s)) {
            tracing::warn!(kind = %object.kind, name = %object.name, reason = %object.reason,
                "a stored object is left out of the live configuration");
        }
        self.replace_catalog(catalog);
        for name in paused.difference(&state.paused) {
            self.disable_destination(name);
        }
        for name in state.paused.difference(&paused) {
            self.enable_destination(name);
        }
        state.records = records;
        state.paused = paused;
        state.skipped = skipped;
    }
}

impl Objects<'_> {
    /// Replaces the configured catalog (sources, destinations, routes, transformers)
    /// atomically; the objects created through the admin API are added to it again. Requests
    /// and deliveries in flight finish with the catalog they started with. The destinations'
    /// URLs are not checked here (use [`Objects::save_destination`](crate::control::manage::Objects::save_destination) for the save-time SSRF
    /// check); the connect-time guard applies to every delivery regardless.
    pub fn swap_catalog(&self, catalog: Catalog) {
        let mut state = self.relay.object_state();
        state.base = catalog;
        let records = state.records.clone();
        self.relay.apply_objects(&mut state, records);
    }

    /// Reads the sources, destinations and routes stored through the admin API and makes
    /// them live (at start, and to pick up what other nodes changed). The standalone gateway
    /// calls it at start and every few seconds; an embedding app that serves the admin API
    /// calls it once after building the relay (or runs [`Objects::spawn_object_sync`](crate::control::manage::Objects::spawn_object_sync)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let relay = relay_core::Relay::builder().build().unwrap();
    /// relay.objects().sync_objects().await.unwrap();
    /// assert!(relay.objects().skipped_objects().is_empty());
    /// # }
    /// ```
    ///
    /// On the built relay this also reads the objects of every other tenant (of the registry,
    /// or with a relay already) into its tenant relay (see [`crate::control::tenancy`]).
    pub async fn sync_objects(&self) -> Result<(), StoreError> {
        self.relay.sync_own_objects().await?;
        self.relay.sync_tenants().await
    }

    /// Runs [`Objects::sync_objects`](crate::control::manage::Objects::sync_objects) every `every` in the background (a failed read is
    /// logged and tried again at the next tick).
    pub fn spawn_object_sync(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let relay = self.relay.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = relay.objects().sync_objects().await {
                    tracing::warn!(%error, "could not read the stored sources, destinations and routes");
                }
            }
        })
    }

    /// The stored objects left out of the live catalog, and why (e.g. their secrets do not
    /// open with this node's key).
    pub fn skipped_objects(&self) -> Vec<Skipped> {
        self.relay.object_state().skipped.clone()
    }
}
