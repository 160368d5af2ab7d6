//! Whether a leased delivery's destination is paused on this node, trusting the store over a
//! stale memory of a pause that was lifted on another node.
//!
//! A pause stored for every node (an operator's disable, a 410 Gone, the breaker's alert) is
//! held by the lease query itself: such deliveries are not leased at all. So when the store
//! hands out a delivery of a destination this node remembers as paused by a stored pause,
//! the pause was lifted after this node last read the stored states (an enable on another
//! node, not yet seen by its object sync). Deferring it for the paused recheck would make the
//! whole released backlog wait that long; instead this node reads the stored states again,
//! once for every delivery leased meanwhile, and goes by what they say.

use std::time::{Duration, Instant};

use crate::control::manage::ObjectKind;
use crate::relay::Relay;

/// The least time between two re-reads of the stored states for leased deliveries of a
/// destination remembered as paused (a delivery leased just before its pause was stored is
/// deferred without another read).
const REREAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

impl Relay {
    /// Whether a leased delivery to `destination` must wait because the destination is
    /// paused on this node: paused in this process only, or paused by a stored state that
    /// holds after reading the stored states again.
    pub(crate) async fn holds_paused(&self, destination: &str) -> bool {
        if !self.is_destination_disabled(destination) {
            return false;
        }
        if !self.pause_is_stored(destination) {
            // Paused in this process (or its stored write is still on its way): the store
            // cannot know, so the delivery waits here. Unless another delivery's re-read of
            // the stored states (below) lifted it meanwhile: reading the states waited for
            // that re-read to finish, and it updates the pauses before it lets go.
            return self.is_destination_disabled(destination);
        }
        let mut last = self.pause_reread().lock().await;
        // Another delivery of the same lease may have read them meanwhile.
        if !self.is_destination_disabled(destination) {
            return false;
        }
        if last.is_some_and(|at| at.elapsed() < REREAD_AT_MOST_EVERY) {
            return true;
        }
        *last = Some(Instant::now());
        match self.sync_own_objects().await {
            Ok(()) => {
                let paused = self.is_destination_disabled(destination);
                if !paused {
                    tracing::debug!(destination, "a pause lifted on another node; delivering");
                }
                paused
            }
            Err(error) => {
                tracing::warn!(%error, destination, "could not read the stored pauses again; the delivery waits");
                true
            }
        }
    }

    /// Whether this node's memory of the stored states has `destination` disabled.
    fn pause_is_stored(&self, destination: &str) -> bool {
        self.object_state().states.iter().any(|state| {
            state.kind == ObjectKind::Destination && state.name == destination && !state.enabled
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::Relay;
    use crate::control::admin::Principal;
    use crate::deliver::destination::Destination;
    use crate::model::ids::TenantId;
    use crate::store::Store;
    use crate::store::memory::MemoryStore;

    fn node(store: &Arc<dyn Store>) -> Relay {
        Relay::builder()
            .store(Arc::clone(store))
            .allow_cidrs(["127.0.0.0/8".parse().unwrap()])
            .destination(Destination::http("d", "http://127.0.0.1:9/").unwrap())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_stored_pause_holds_until_the_store_says_it_was_lifted() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (a, b) = (node(&store), node(&store));
        let operator = Principal::system(TenantId::default());
        assert!(!b.holds_paused("d").await, "not paused");
        (a.objects().set_destination_enabled(&operator, "d", false))
            .await
            .unwrap();
        b.objects().sync_objects().await.unwrap();
        assert!(b.holds_paused("d").await, "paused, and the store agrees");
        (a.objects().set_destination_enabled(&operator, "d", true))
            .await
            .unwrap();
        // Within a second of the last read, B goes by its memory (at most one read a second).
        assert!(b.holds_paused("d").await);
        tokio::time::sleep(super::REREAD_AT_MOST_EVERY).await;
        assert!(!b.holds_paused("d").await, "lifted on A: B reads it again");
        assert!(!b.is_destination_disabled("d"));
    }

    #[tokio::test]
    async fn a_pause_of_this_process_only_holds_without_asking_the_store() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let a = node(&store);
        a.disable_destination("d");
        assert!(a.holds_paused("d").await);
        assert!(a.is_destination_disabled("d"), "no stored state undid it");
        a.enable_destination("d");
        assert!(!a.holds_paused("d").await);
    }
}
