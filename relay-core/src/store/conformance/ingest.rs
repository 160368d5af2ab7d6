//! Ingest: insert, read back, deduplicate.

use super::*;

/// Insert, then read the event and its deliveries back byte-exact.
pub async fn insert_and_read_back(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let mut new = new_event(&t, "github", "k1", 0, &["slack", "audit"]);
    new.event
        .headers
        .append("x-multi", HeaderValue::from_static("one"));
    new.event
        .headers
        .append("x-multi", HeaderValue::from_static("two"));
    new.event.headers.insert(
        "x-binary",
        HeaderValue::from_bytes(b"\xfe\x80ok\xff").unwrap(),
    );
    new.event.body = Bytes::from_static(b"\x00\xff raw \r\n bytes \x80");
    let expected = new.event.clone();
    let planned = new.deliveries.clone();
    let id = insert(&*store, new).await;

    let got = store.event(&t, id).await.unwrap().unwrap();
    assert_eq!(got, expected);
    assert_eq!(got.headers.get_all("x-multi").iter().count(), 2);

    let deliveries = store.deliveries(&t, id).await.unwrap();
    assert_eq!(deliveries.len(), 2);
    for (d, p) in deliveries.iter().zip(&planned) {
        assert_eq!(d.id, p.id);
        assert_eq!(d.tenant, t);
        assert_eq!(d.event_id, id);
        assert_eq!(d.destination, p.destination);
        assert_eq!(d.route, p.route);
        assert_eq!(d.status, DeliveryStatus::Pending);
        assert_eq!((d.attempts, d.cycle_attempts), (0, 0));
        assert_eq!(d.next_attempt_at, expected.received_at);
        assert_eq!(d.created_at, expected.received_at);
        assert_eq!(d.last_error, None);
        assert_eq!(store.delivery(&t, d.id).await.unwrap().as_ref(), Some(d));
        assert!(store.attempts(&t, d.id).await.unwrap().is_empty());
    }
    assert!(store.event(&t, EventId::new()).await.unwrap().is_none());
    assert!(
        store
            .delivery(&t, DeliveryId::new())
            .await
            .unwrap()
            .is_none()
    );
}

/// The same (tenant, source, key) within the window is a duplicate of the original, and
/// nothing of the second event is written.
pub async fn duplicate_within_window_returns_original(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let first = insert(&*store, new_event(&t, "github", "k", 0, &["a"])).await;
    let again = new_event(&t, "github", "k", 1_000, &["a", "b"]);
    let again_id = again.event.id;
    assert_eq!(
        store.insert_event(again).await.unwrap(),
        InsertOutcome::Duplicate { original: first }
    );
    assert!(store.event(&t, again_id).await.unwrap().is_none());
    assert!(store.deliveries(&t, again_id).await.unwrap().is_empty());
    let leased = store.lease_due(at(10_000), 100, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 1, "only the original's delivery is queued");
    assert_eq!(leased[0].event.id, first);
    // Another source with the same key is a different event.
    insert(&*store, new_event(&t, "stripe", "k", 2_000, &[])).await;
}

/// Once the dedup window is over, the same key is accepted again.
pub async fn expired_dedup_entry_inserts_again(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let mut first = new_event(&t, "github", "k", 0, &["a"]);
    first.dedup_until = at(5_000);
    let first_id = insert(&*store, first).await;
    let later_id = insert(&*store, new_event(&t, "github", "k", 5_000, &["a"])).await;
    assert_ne!(first_id, later_id);
    let third = new_event(&t, "github", "k", 6_000, &["a"]);
    assert_eq!(
        store.insert_event(third).await.unwrap(),
        InsertOutcome::Duplicate { original: later_id }
    );
    assert!(store.event(&t, first_id).await.unwrap().is_some());
    assert!(store.event(&t, later_id).await.unwrap().is_some());
}

/// Dedup is per tenant.
pub async fn same_key_in_two_tenants_is_two_events(store: Arc<dyn Store>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let ea = insert(&*store, new_event(&a, "github", "k", 0, &["x"])).await;
    let eb = insert(&*store, new_event(&b, "github", "k", 0, &["x"])).await;
    assert!(store.event(&a, ea).await.unwrap().is_some());
    assert!(store.event(&b, eb).await.unwrap().is_some());
    assert_eq!(store.lease_due(at(0), 10, MINUTE).await.unwrap().len(), 2);
}

/// 64 concurrent inserts of one key: exactly one is inserted, all others name it.
pub async fn concurrent_identical_inserts_insert_once(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = Arc::clone(&store);
            let new = new_event(&t, "github", "same", 0, &["a", "b"]);
            tokio::spawn(async move {
                let id = new.event.id;
                (id, store.insert_event(new).await.unwrap())
            })
        })
        .collect();
    let mut inserted = Vec::new();
    let mut originals = HashSet::new();
    for task in tasks {
        match task.await.unwrap() {
            (id, InsertOutcome::Inserted) => inserted.push(id),
            (_, InsertOutcome::Duplicate { original }) => {
                originals.insert(original);
            }
        }
    }
    assert_eq!(inserted.len(), 1, "exactly one insert wins");
    assert!(originals.iter().all(|o| *o == inserted[0]));
    let leased = store.lease_due(at(0), 1000, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 2, "only the winner's deliveries are queued");
}
