//! Agents across nodes: a delivery bound to an agent is leased only by a node holding that
//! agent's connection (and waits, without a write, while none does); replays rebind it; agent
//! presence is kept per (tenant, agent, node).

use super::*;
use crate::control::agent::AgentTargets;
use crate::model::ids::NodeId;
use crate::store::{HeldAgent, PresenceRecord};

fn bound(tenant: &TenantId, key: &str, destination: &str, agent: &str) -> NewEvent {
    let mut new = new_event(tenant, "s", key, 0, &[destination]);
    for delivery in &mut new.deliveries {
        delivery.agent = Some(agent.to_owned());
    }
    new
}

/// Deliveries bound to an agent are leased only by a leaser holding that agent (of that
/// tenant); others, and a leaser holding nothing, pass over them and write nothing; unbound
/// deliveries are leased by anyone.
pub async fn agent_deliveries_are_leased_only_where_the_agent_is(store: Arc<dyn Store>) {
    let (acme, other) = (tenant("acme"), tenant("other"));
    let (a, b) = (
        NodeId::new("node-a").unwrap(),
        NodeId::new("node-b").unwrap(),
    );
    let dc1 = insert(&*store, bound(&acme, "k1", "billing", "dc1")).await;
    let free = insert(&*store, new_event(&acme, "s", "k2", 1, &["http"])).await;
    // Same agent name in another tenant: not the same agent.
    insert(&*store, bound(&other, "k3", "billing", "dc1")).await;

    let none = store
        .lease_due_as(Some(&a), &[], at(10), 10, MINUTE)
        .await
        .unwrap();
    assert_eq!(
        none.iter().map(|l| l.event.id).collect::<Vec<_>>(),
        vec![free],
        "a node holding no agent leases only the unbound delivery"
    );
    let elsewhere = [HeldAgent::new(acme.clone(), "dc2")];
    let nothing = store
        .lease_due_as(Some(&a), &elsewhere, at(10), 10, MINUTE)
        .await
        .unwrap();
    assert!(nothing.is_empty(), "another agent's node leases none");
    assert_eq!(
        store.queue_depth().await.unwrap(),
        3,
        "passed over, still queued"
    );
    let here = [HeldAgent::new(acme.clone(), "dc1")];
    let leased = store
        .lease_due_as(Some(&b), &here, at(20), 10, MINUTE)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1, "only acme's dc1 delivery: {leased:?}");
    assert_eq!(leased[0].event.id, dc1);
    assert_eq!(leased[0].delivery.attempts, 0, "waiting counted nothing");
    let both = [
        HeldAgent::new(acme.clone(), "dc1"),
        HeldAgent::new(other.clone(), "dc1"),
    ];
    let rest = store
        .lease_due_as(Some(&b), &both, at(30), 10, MINUTE)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].delivery.tenant, other);
    // A lease given back is due again for a holder of the agent, and only for one.
    store.release(&leased[0].lease, at(40)).await.unwrap();
    assert!(
        store
            .lease_due_as(Some(&a), &[], at(50), 10, MINUTE)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store
        .lease_due_as(Some(&a), &here, at(50), 10, MINUTE)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert!(again[0].lease.token > leased[0].lease.token, "fenced");
}

/// A replay (schedule) rebinds an existing delivery to the agent its plan names (none: any
/// node leases it).
pub async fn replay_rebinds_the_agent(store: Arc<dyn Store>) {
    let acme = tenant("acme");
    let event = insert(&*store, bound(&acme, "k1", "billing", "dc1")).await;
    assert!(
        store
            .lease_due_as(None, &[], at(10), 10, MINUTE)
            .await
            .unwrap()
            .is_empty()
    );
    let mut plan = plan(&["billing"]);
    plan[0].agent = None;
    let report = store
        .schedule(&acme, event, plan, false, at(20))
        .await
        .unwrap();
    assert_eq!(report.scheduled.len(), 1);
    let leased = store
        .lease_due_as(None, &[], at(30), 10, MINUTE)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1, "unbound by the replay");
}

fn presence(agent: &str, node: &str, session: &str, offset_ms: i64) -> PresenceRecord {
    PresenceRecord {
        agent: agent.to_owned(),
        node: node.to_owned(),
        session: session.to_owned(),
        connected_at: at(offset_ms),
        last_seen: at(offset_ms),
        expires_at: at(offset_ms + 30_000),
        version: "1.2.3".to_owned(),
        targets: AgentTargets::parse(["http://127.0.0.1:3000/", "crm=http://127.0.0.1:4000/in"])
            .unwrap(),
    }
}

/// Presence is kept per (tenant, agent, node): a put replaces it, an end marks only the
/// session it names, reads are by agent then node and per tenant.
pub async fn agent_presence_round_trips_per_node(store: Arc<dyn Store>) {
    let (acme, other) = (tenant("acme"), tenant("other"));
    assert!(store.agent_presence(&acme).await.unwrap().is_empty());
    let on_b = presence("dc1", "node-b", "s1", 0);
    let on_a = presence("dc1", "node-a", "s2", 10);
    let zed = presence("zed", "node-a", "s3", 20);
    for record in [&zed, &on_b, &on_a] {
        store
            .put_agent_presence(&acme, record.clone())
            .await
            .unwrap();
    }
    store
        .put_agent_presence(&other, presence("dc1", "node-a", "s9", 0))
        .await
        .unwrap();
    assert_eq!(
        store.agent_presence(&acme).await.unwrap(),
        vec![on_a.clone(), on_b.clone(), zed.clone()]
    );
    let mut refreshed = on_a.clone();
    refreshed.last_seen = at(15);
    refreshed.expires_at = at(45_000);
    store
        .put_agent_presence(&acme, refreshed.clone())
        .await
        .unwrap();
    // Ending an older session of the same node changes nothing.
    assert!(
        !store
            .end_agent_presence(&acme, "dc1", "node-a", "s0", at(50))
            .await
            .unwrap()
    );
    assert!(
        store
            .end_agent_presence(&acme, "dc1", "node-a", "s2", at(60))
            .await
            .unwrap()
    );
    let read = store.agent_presence(&acme).await.unwrap();
    assert_eq!(read[0].expires_at, at(60));
    assert_eq!(read[0].last_seen, at(60));
    assert_eq!(read[0].connected_at, at(10));
    assert!(!read[0].is_live(at(60)));
    assert_eq!(read[0].targets, on_a.targets);
    assert_eq!(read[1], on_b, "the other node's record is untouched");
    assert_eq!(store.agent_presence(&other).await.unwrap().len(), 1);
}
