//! Consumer-portal links: stored by digest, consumed once (atomically, also under
//! concurrency), never after they expire, pruned once expired.

use super::*;
use crate::control::admin::PortalLinkRecord;

fn link(tenant: &TenantId, id: &str, hash: u8, expires_ms: i64) -> PortalLinkRecord {
    PortalLinkRecord {
        id: id.to_owned(),
        token_hash: vec![hash; 32],
        tenant: tenant.clone(),
        created_by: "key:key_platform".to_owned(),
        created_at: T0,
        expires_at: at(expires_ms),
        used_at: None,
    }
}

/// A link is consumed once, by exactly one of many concurrent callers; an expired or
/// unknown one is never consumed; the record comes back whole, marked used.
pub async fn portal_links_are_consumed_once(store: Arc<dyn Store>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    store
        .insert_portal_link(link(&a, "pl_1", 1, 60_000))
        .await
        .unwrap();
    store
        .insert_portal_link(link(&b, "pl_2", 2, 60_000))
        .await
        .unwrap();
    store
        .insert_portal_link(link(&a, "pl_3", 3, 1_000))
        .await
        .unwrap();

    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.consume_portal_link(&[1; 32], at(10)).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        if let Some(won) = task.await.unwrap().unwrap() {
            winners.push(won);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one caller consumes the link");
    let expected = PortalLinkRecord {
        used_at: Some(at(10)),
        ..link(&a, "pl_1", 1, 60_000)
    };
    assert_eq!(winners[0], expected);
    assert!(
        store
            .consume_portal_link(&[1; 32], at(20))
            .await
            .unwrap()
            .is_none()
    );

    // Expiry is exclusive: at the expiry instant the link no longer works.
    assert!(
        store
            .consume_portal_link(&[3; 32], at(1_000))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .consume_portal_link(&[9; 32], at(10))
            .await
            .unwrap()
            .is_none()
    );
    let other = store
        .consume_portal_link(&[2; 32], at(59_999))
        .await
        .unwrap();
    assert_eq!(other.map(|l| (l.id, l.tenant)), Some(("pl_2".into(), b)));
}

/// Expired links go in batches, used or not; unexpired ones stay.
pub async fn portal_links_are_pruned_once_expired(store: Arc<dyn Store>) {
    let a = tenant("acme");
    for (n, expires) in [(1u8, 100), (2, 200), (3, 300), (4, 10_000)] {
        let id = format!("pl_{n}");
        store
            .insert_portal_link(link(&a, &id, n, expires))
            .await
            .unwrap();
    }
    assert!(
        store
            .consume_portal_link(&[1; 32], at(50))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.prune_portal_links(at(1_000), 2).await.unwrap(), 2);
    assert_eq!(store.prune_portal_links(at(1_000), 2).await.unwrap(), 1);
    assert_eq!(store.prune_portal_links(at(1_000), 2).await.unwrap(), 0);
    let kept = store
        .consume_portal_link(&[4; 32], at(2_000))
        .await
        .unwrap();
    assert_eq!(kept.map(|l| l.id), Some("pl_4".into()));
}
