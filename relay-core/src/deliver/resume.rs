//! Resuming at once after a restart: the worker leases under the node's stable identity, and
//! the first worker of a relay reclaims the leases its previous life held under it.

use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::store::StoreError;

impl Relay {
    /// Reclaims, once per relay, the leases held under this node's identity by its previous
    /// life (see [`DeliveryQueue::reclaim`](crate::store::DeliveryQueue::reclaim)); a relay
    /// without an identity has nothing to reclaim. A failure leaves it to the next call.
    pub(crate) async fn reclaim_own_leases(&self) -> Result<(), StoreError> {
        let leases = self.node_leases();
        let Some(node) = leases.node() else {
            return Ok(());
        };
        leases
            .reclaimed
            .get_or_try_init(|| async {
                let reclaimed = self.store().reclaim(node, Timestamp::now()).await?;
                if reclaimed > 0 {
                    tracing::info!(
                        %node,
                        reclaimed,
                        "resumed the deliveries this node's previous life had leased"
                    );
                }
                Ok::<_, StoreError>(reclaimed)
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;

    use crate::Relay;
    use crate::model::event::{Event, EventStatus};
    use crate::model::ids::{DeliveryId, EventId, NodeId, TenantId};
    use crate::model::time::Timestamp;
    use crate::store::memory::MemoryStore;
    use crate::store::{DeliveryQueue, EventIngest, EventLog, NewDelivery, NewEvent, Store};

    fn new_event(tenant: &TenantId) -> NewEvent {
        let received_at = Timestamp::now();
        NewEvent {
            event: Event {
                tenant: tenant.clone(),
                id: EventId::new(),
                source: "s".to_owned(),
                event_type: "test.event".to_owned(),
                idempotency_key: "k".to_owned(),
                headers: http::HeaderMap::new(),
                body: Bytes::from_static(b"{}"),
                received_at,
                status: EventStatus::Routed,
            },
            dedup_until: received_at.plus(Duration::from_secs(60)),
            deliveries: vec![NewDelivery {
                id: DeliveryId::new(),
                destination: "a".to_owned(),
                route: "r".to_owned(),
                ordering: None,
                agent: None,
            }],
        }
    }

    #[tokio::test]
    async fn the_first_worker_reclaims_its_node_leases_once() {
        let store = Arc::new(MemoryStore::new());
        let tenant = TenantId::default();
        store
            .insert_event(new_event(&tenant))
            .await
            .expect("insert");
        let node = NodeId::new("node-a").expect("node id");
        let minute = Duration::from_secs(60);
        let now = Timestamp::now();
        let dead = store
            .lease_due_as(Some(&node), &[], now, 1, minute)
            .await
            .expect("lease");
        assert_eq!(dead.len(), 1);
        let relay = Relay::builder()
            .store(Arc::clone(&store) as Arc<dyn Store>)
            .node_id(node.clone())
            .build()
            .expect("relay");
        assert_eq!(relay.node_id(), Some(&node));
        relay.reclaim_own_leases().await.expect("reclaim");
        let again = store
            .lease_due_as(Some(&node), &[], Timestamp::now(), 1, minute)
            .await
            .expect("lease");
        assert_eq!(again.len(), 1, "due at once after the reclaim");
        // A second call (another worker of the same relay) leaves the new lease alone.
        relay.reclaim_own_leases().await.expect("reclaim");
        let d = store
            .delivery(&tenant, again[0].delivery.id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(d.status, crate::model::event::DeliveryStatus::InFlight);
    }

    #[tokio::test]
    async fn a_relay_without_identity_reclaims_nothing() {
        let relay = Relay::builder().build().expect("relay");
        assert_eq!(relay.node_id(), None);
        relay.reclaim_own_leases().await.expect("nothing to do");
    }
}
