//! Operations: dead letters, redrive, replay, tenant isolation, retention, ping.

use super::*;

/// Dead letters by destination, event, source, time and limit, per tenant.
pub async fn dead_letters_filter(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let ea = insert(&*store, new_event(&t, "src-a", "1", 0, &["x", "y"])).await;
    let eb = insert(&*store, new_event(&t, "src-b", "2", 1, &["x", "y"])).await;
    insert(&*store, new_event(&t, "src-b", "3", 5_000, &["x"])).await;
    assert_eq!(finish_due(&*store, at(10), NextStep::DeadLettered).await, 4);

    let all = DeadLetterFilter::default();
    let found = store.dead_letters(&t, &all, 100).await.unwrap();
    assert_eq!(found.len(), 4);
    assert!(
        found
            .iter()
            .all(|d| d.status == DeliveryStatus::DeadLettered)
    );
    assert_eq!(store.dead_letters(&t, &all, 3).await.unwrap().len(), 3);

    let by_dest = DeadLetterFilter {
        destination: Some("x".into()),
        ..Default::default()
    };
    let found = store.dead_letters(&t, &by_dest, 100).await.unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|d| d.destination == "x"));

    let by_event = DeadLetterFilter {
        event_id: Some(ea),
        ..Default::default()
    };
    let found = store.dead_letters(&t, &by_event, 100).await.unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|d| d.event_id == ea));

    let by_source = DeadLetterFilter {
        source: Some("src-b".into()),
        destination: Some("y".into()),
        ..Default::default()
    };
    let found = store.dead_letters(&t, &by_source, 100).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].event_id, eb);

    let since_past = DeadLetterFilter {
        since: Some(Timestamp::from_millis(0)),
        ..Default::default()
    };
    assert_eq!(
        store
            .dead_letters(&t, &since_past, 100)
            .await
            .unwrap()
            .len(),
        4
    );
    let since_future = DeadLetterFilter {
        since: Some(Timestamp::now().plus(Duration::from_secs(86_400))),
        ..Default::default()
    };
    assert!(
        store
            .dead_letters(&t, &since_future, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .dead_letters(&tenant("other"), &all, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Redrive moves matching dead letters back once, with a fresh budget.
pub async fn redrive_is_idempotent(store: Arc<dyn Store>) {
    let t = tenant("acme");
    insert(&*store, new_event(&t, "s", "1", 0, &["x", "y"])).await;
    assert_eq!(finish_due(&*store, at(0), NextStep::DeadLettered).await, 2);
    let only_x = DeadLetterFilter {
        destination: Some("x".into()),
        ..Default::default()
    };
    let other = tenant("other");
    assert_eq!(store.redrive(&other, &only_x, at(1_000)).await.unwrap(), 0);
    assert_eq!(store.redrive(&t, &only_x, at(1_000)).await.unwrap(), 1);
    assert_eq!(store.redrive(&t, &only_x, at(1_000)).await.unwrap(), 0);
    let leased = store.lease_due(at(1_000), 10, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].delivery.destination, "x");
    assert_eq!(leased[0].delivery.cycle_attempts, 0);
    assert_eq!(leased[0].delivery.attempts, 1);
    let remaining = store
        .dead_letters(&t, &DeadLetterFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].destination, "y");
}

/// Replay: delivered skipped unless forced, dead letters rescheduled with a fresh budget,
/// new destinations added, no_route flipped to routed, other tenants' events not found.
pub async fn schedule_replays_event(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let event = insert(&*store, new_event(&t, "s", "1", 0, &["x", "y"])).await;
    let leased = store.lease_due(at(0), 10, MINUTE).await.unwrap();
    let (x, y) = if leased[0].delivery.destination == "x" {
        (&leased[0], &leased[1])
    } else {
        (&leased[1], &leased[0])
    };
    complete(&*store, x, NextStep::Delivered, at(10)).await;
    complete(&*store, y, NextStep::DeadLettered, at(10)).await;

    let new_plan = plan(&["x", "y", "z"]);
    let z_id = new_plan[2].id;
    let report = store
        .schedule(&t, event, new_plan, false, at(1_000))
        .await
        .unwrap();
    assert_eq!(report.skipped, vec!["x".to_owned()]);
    assert_eq!(report.scheduled.len(), 2);
    assert!(report.scheduled.contains(&y.delivery.id));
    assert!(report.scheduled.contains(&z_id));
    let y_now = store.delivery(&t, y.delivery.id).await.unwrap().unwrap();
    assert_eq!(y_now.status, DeliveryStatus::Pending);
    assert_eq!((y_now.attempts, y_now.cycle_attempts), (1, 0));
    assert_eq!(y_now.next_attempt_at, at(1_000));
    let deliveries = store.deliveries(&t, event).await.unwrap();
    assert_eq!(deliveries.len(), 3);
    assert_eq!(deliveries[2].id, z_id);
    assert_eq!(deliveries[2].status, DeliveryStatus::Pending);

    // In flight is left alone; delivered is redone when forced.
    let inflight = store.lease_due(at(1_000), 1, MINUTE).await.unwrap();
    assert_eq!(inflight.len(), 1);
    let busy = inflight[0].delivery.destination.clone();
    let report = store
        .schedule(&t, event, plan(&["x", &busy]), true, at(2_000))
        .await
        .unwrap();
    assert_eq!(report.scheduled, vec![x.delivery.id]);
    assert_eq!(report.skipped, vec![busy]);
    let x_now = store.delivery(&t, x.delivery.id).await.unwrap().unwrap();
    assert_eq!(x_now.status, DeliveryStatus::Pending);

    let unrouted = insert(&*store, new_event(&t, "s", "2", 0, &[])).await;
    let before = store.event(&t, unrouted).await.unwrap().unwrap();
    assert_eq!(before.status, EventStatus::NoRoute);
    let report = store
        .schedule(&t, unrouted, plan(&["x"]), false, at(3_000))
        .await
        .unwrap();
    assert_eq!(report.scheduled.len(), 1);
    let after = store.event(&t, unrouted).await.unwrap().unwrap();
    assert_eq!(after.status, EventStatus::Routed);

    let other = store
        .schedule(&tenant("other"), event, plan(&["x"]), true, at(3_000))
        .await;
    assert!(matches!(other, Err(StoreError::NotFound)));
    let missing = store
        .schedule(&t, EventId::new(), plan(&["x"]), true, at(3_000))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

/// No read or write through one tenant sees or touches another tenant's rows.
pub async fn tenants_are_isolated(store: Arc<dyn Store>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let event = insert(&*store, new_event(&a, "s", "1", 0, &["x", "y"])).await;
    let leased = store.lease_due(at(0), 10, MINUTE).await.unwrap();
    complete(&*store, &leased[0], NextStep::DeadLettered, at(1)).await;
    let d = leased[0].delivery.id;

    assert!(store.event(&b, event).await.unwrap().is_none());
    assert!(store.deliveries(&b, event).await.unwrap().is_empty());
    assert!(store.delivery(&b, d).await.unwrap().is_none());
    assert!(store.attempts(&b, d).await.unwrap().is_empty());
    let all = DeadLetterFilter::default();
    assert!(store.dead_letters(&b, &all, 10).await.unwrap().is_empty());
    assert_eq!(store.redrive(&b, &all, at(2)).await.unwrap(), 0);
    assert!(matches!(
        store.schedule(&b, event, plan(&["x"]), true, at(2)).await,
        Err(StoreError::NotFound)
    ));

    let mut foreign = leased[1].lease.clone();
    foreign.tenant = b.clone();
    let stolen = store
        .complete_attempt(completion(&foreign, 1, at(3), NextStep::Delivered))
        .await;
    assert!(matches!(stolen, Err(StoreError::LeaseLost(_))));
    store.release(&foreign, at(3)).await.unwrap();
    let still = store
        .delivery(&a, leased[1].delivery.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, DeliveryStatus::InFlight);
    assert_eq!(store.attempts(&a, d).await.unwrap().len(), 1);
    assert_eq!(store.dead_letters(&a, &all, 10).await.unwrap().len(), 1);
}

/// Prune deletes only finished events older than the cutoff, in batches; dedup entries
/// outlive their events until they expire.
pub async fn prune_removes_only_finished_old_events(store: Arc<dyn Store>) {
    let t = tenant("acme");
    let delivered = insert(&*store, new_event(&t, "s", "delivered", 0, &["x"])).await;
    let dead = insert(&*store, new_event(&t, "s", "dead", 1, &["x"])).await;
    let unrouted = insert(&*store, new_event(&t, "s", "unrouted", 2, &[])).await;
    let delivered_id = store.deliveries(&t, delivered).await.unwrap()[0].id;
    let leased = store.lease_due(at(10), 10, MINUTE).await.unwrap();
    assert_eq!(leased.len(), 2);
    for l in &leased {
        let next = if l.event.id == delivered {
            NextStep::Delivered
        } else {
            NextStep::DeadLettered
        };
        complete(&*store, l, next, at(10)).await;
    }
    let pending = insert(&*store, new_event(&t, "s", "pending", 1_000, &["x"])).await;
    let young = insert(&*store, new_event(&t, "s", "young", 50_000, &[])).await;

    let (cutoff, now) = (at(20_000), at(30_000));
    assert_eq!(store.prune(cutoff, now, 2).await.unwrap(), 2);
    assert_eq!(store.prune(cutoff, now, 2).await.unwrap(), 1);
    assert_eq!(store.prune(cutoff, now, 2).await.unwrap(), 0);

    for gone in [delivered, dead, unrouted] {
        assert!(store.event(&t, gone).await.unwrap().is_none());
        assert!(store.deliveries(&t, gone).await.unwrap().is_empty());
    }
    assert!(store.delivery(&t, delivered_id).await.unwrap().is_none());
    assert!(store.attempts(&t, delivered_id).await.unwrap().is_empty());
    assert!(store.event(&t, pending).await.unwrap().is_some());
    assert_eq!(store.deliveries(&t, pending).await.unwrap().len(), 1);
    assert!(store.event(&t, young).await.unwrap().is_some());

    // The pruned event's dedup entry still holds until it expires…
    let again = new_event(&t, "s", "delivered", 40_000, &["x"]);
    assert_eq!(
        store.insert_event(again).await.unwrap(),
        InsertOutcome::Duplicate {
            original: delivered
        }
    );
    // …and once it expired (and was pruned) the key is accepted again.
    store.prune(cutoff, at(3_600_001), 10).await.unwrap();
    insert(&*store, new_event(&t, "s", "delivered", 3_600_001, &["x"])).await;
}

/// A fresh store answers ping.
pub async fn ping_answers(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
}

fn record(name: &str, url: &str, sealed: &[u8]) -> crate::store::DestinationRecord {
    crate::store::DestinationRecord {
        name: name.to_owned(),
        url: url.to_owned(),
        signing_secret: Some(sealed.to_vec()),
        auth_header: None,
        settings: r#"{"timeout_ms":5000}"#.to_owned(),
        updated_at: at(0),
    }
}

/// Saved destinations: upserted by name, listed by name, bytes kept exactly, per tenant.
pub async fn destination_records_round_trip(store: Arc<dyn Store>) {
    let t = tenant("acme");
    assert!(store.destination_records(&t).await.unwrap().is_empty());
    let sealed: Vec<u8> = (0..=255).collect();
    store
        .put_destination(&t, record("slack", "https://a.example/1", &sealed))
        .await
        .unwrap();
    store
        .put_destination(&t, record("discord", "https://b.example/", &[0, 1, 0]))
        .await
        .unwrap();
    let mut changed = record("slack", "https://a.example/2", &[9; 40]);
    changed.auth_header = Some(vec![0; 3]);
    changed.updated_at = at(5);
    store.put_destination(&t, changed.clone()).await.unwrap();

    let listed = store.destination_records(&t).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].name, "discord");
    assert_eq!(listed[0].signing_secret.as_deref(), Some(&[0, 1, 0][..]));
    assert_eq!(listed[1], changed);

    let other = tenant("globex");
    assert!(store.destination_records(&other).await.unwrap().is_empty());
    store
        .put_destination(&other, record("slack", "https://c.example/", &sealed))
        .await
        .unwrap();
    assert_eq!(store.destination_records(&t).await.unwrap()[1], changed);
    assert_eq!(
        store.destination_records(&other).await.unwrap()[0].signing_secret,
        Some(sealed)
    );
}
