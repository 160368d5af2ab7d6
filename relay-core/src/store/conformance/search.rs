//! Search text that is exactly an id: the store finds the event by key (with every other
//! filter and the cursor still applied); anything else falls back to the prefix and key
//! fragment scan, so the answers are the same as the scan's.

use super::*;
use crate::control::admin::{EventQuery, EventState};

/// An exact event id or delivery id finds its event, in its tenant only, narrowed by the
/// other filters; an id of nothing stored is still searched as a key fragment; an id in
/// another case is not an id.
pub async fn list_events_finds_an_exact_id_by_key(store: Arc<dyn Store>) {
    let (t, other) = (tenant("acme"), tenant("globex"));
    let e1 = insert(&*store, new_event(&t, "shop", "k1", 0, &["x"])).await;
    // A key that reads as the id of an event never stored.
    let ghost = EventId::new().to_string();
    let e2 = insert(&*store, new_event(&t, "shop", &ghost, 1_000, &["y"])).await;
    let e3 = insert(&*store, new_event(&other, "shop", "k3", 2_000, &["x"])).await;
    let d1 = store.deliveries(&t, e1).await.unwrap()[0].id.to_string();
    let d3 = store.deliveries(&other, e3).await.unwrap()[0]
        .id
        .to_string();

    let find = |tenant: &TenantId, text: &str, f: &dyn Fn(&mut EventQuery)| {
        let mut query = EventQuery {
            text: Some(text.to_owned()),
            ..EventQuery::default()
        };
        f(&mut query);
        let (store, tenant) = (Arc::clone(&store), tenant.clone());
        async move {
            (store
                .list_events(&tenant, &query, 10)
                .await
                .unwrap()
                .into_iter())
            .map(|s| s.id)
            .collect::<Vec<_>>()
        }
    };
    let id1 = e1.to_string();
    assert_eq!(find(&t, &id1, &|_| {}).await, [e1], "an event id");
    assert_eq!(find(&t, &d1, &|_| {}).await, [e1], "a delivery id");
    let to_x = |q: &mut EventQuery| q.destination = Some("x".into());
    assert_eq!(find(&t, &id1, &to_x).await, [e1]);
    let to_y = |q: &mut EventQuery| q.destination = Some("y".into());
    assert!(
        find(&t, &id1, &to_y).await.is_empty(),
        "other filters apply"
    );
    let pending = |q: &mut EventQuery| q.state = Some(EventState::Pending);
    assert_eq!(find(&t, &d1, &pending).await, [e1]);
    let delivered = |q: &mut EventQuery| q.state = Some(EventState::Delivered);
    assert!(find(&t, &d1, &delivered).await.is_empty());
    let older = |q: &mut EventQuery| q.before = Some(e1);
    assert!(
        find(&t, &id1, &older).await.is_empty(),
        "the cursor applies"
    );
    let newer = |q: &mut EventQuery| q.before = Some(e2);
    assert_eq!(find(&t, &id1, &newer).await, [e1]);

    assert_eq!(find(&t, &ghost, &|_| {}).await, [e2], "a key, by the scan");
    assert!(find(&t, &id1.to_uppercase(), &|_| {}).await.is_empty());
    let id3 = e3.to_string();
    assert!(find(&t, &id3, &|_| {}).await.is_empty(), "another tenant's");
    assert!(find(&t, &d3, &|_| {}).await.is_empty(), "another tenant's");
    assert_eq!(find(&other, &id3, &|_| {}).await, [e3]);
    assert_eq!(find(&other, &d3, &|_| {}).await, [e3]);
}
