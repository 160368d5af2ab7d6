use std::sync::Arc;
use std::time::Duration;

use crate::Relay;
use crate::catalog::Catalog;
use crate::control::admin::{AuditQuery, Principal};
use crate::control::credentials::Keyring;
use crate::control::manage::ObjectKind;
use crate::deliver::destination::Destination;
use crate::ingest::signature::NoSignature;
use crate::ingest::source::WebhookSource;
use crate::model::ids::TenantId;
use crate::route::EventRoute;
use crate::store::memory::MemoryStore;
use crate::store::{CHANGED_BY_GONE, Store};

fn admin() -> Principal {
    Principal::system(TenantId::default())
}

fn configured() -> Destination {
    Destination::http("configured", "http://127.0.0.1:9/").unwrap()
}

fn node(store: &Arc<dyn Store>) -> Relay {
    Relay::builder()
        .store(Arc::clone(store))
        .keyring(Keyring::generate())
        .allow_cidrs(["127.0.0.0/8".parse().unwrap()])
        .source(WebhookSource::new("hooks", NoSignature))
        .destination(configured())
        .route(EventRoute::new("all").source("hooks").to(["configured"]))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_operators_pause_of_a_configured_destination_is_stored_and_survives_a_reload() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = node(&store);
    (a.objects())
        .set_enabled(
            &admin(),
            ObjectKind::Destination,
            "configured",
            false,
            "maintenance",
        )
        .await
        .unwrap();
    let view = a.objects().destination_view("configured").unwrap();
    assert!(!view.enabled);
    let why = view.disabled.expect("who and why");
    assert_eq!(
        (why.by.as_str(), why.reason.as_str()),
        ("system", "maintenance")
    );

    // A restarted process (or another node) reads it back, and a reload keeps it.
    let b = node(&store);
    assert!(!b.is_destination_disabled("configured"), "not read yet");
    b.objects().sync_objects().await.unwrap();
    assert!(b.is_destination_disabled("configured"));
    let reloaded = Catalog::new(vec![], vec![configured()], vec![], vec![]).unwrap();
    b.objects().swap_catalog(reloaded);
    assert!(b.is_destination_disabled("configured"), "a reload keeps it");
    assert!(!b.objects().destination_view("configured").unwrap().enabled);

    (b.objects())
        .set_destination_enabled(&admin(), "configured", true)
        .await
        .unwrap();
    a.objects().sync_objects().await.unwrap();
    assert!(!a.is_destination_disabled("configured"));
    assert!(
        a.objects()
            .destination_view("configured")
            .unwrap()
            .disabled
            .is_none()
    );
    let audit = (store.audit_entries(&TenantId::default(), &AuditQuery::default(), 10))
        .await
        .unwrap();
    let actions: Vec<_> = (audit.iter())
        .map(|e| (e.action.as_str(), e.object_id.as_str()))
        .collect();
    assert_eq!(
        actions,
        [("enable", "configured"), ("disable", "configured")]
    );
}

#[tokio::test]
async fn a_410_pause_is_stored_with_its_reason() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = node(&store);
    a.hold_destination(CHANGED_BY_GONE, "configured", "answered 410 Gone".into());
    assert!(
        a.is_destination_disabled("configured"),
        "at once on this node"
    );
    let mut stored = Vec::new();
    for _ in 0..200 {
        stored = store.object_states(&TenantId::default()).await.unwrap();
        if !stored.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stored.len(), 1, "stored in the background");
    assert_eq!(
        (
            stored[0].changed_by.as_str(),
            stored[0].reason.as_str(),
            stored[0].enabled
        ),
        ("410", "answered 410 Gone", false)
    );
    let b = node(&store);
    b.objects().sync_objects().await.unwrap();
    let why = b.objects().destination_view("configured").unwrap().disabled;
    assert_eq!(why.map(|w| w.by), Some("410".to_owned()));
}

#[tokio::test]
async fn configured_sources_and_routes_are_disabled_and_enabled_through_their_state() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = node(&store);
    let objects = a.objects();
    objects
        .set_enabled(&admin(), ObjectKind::Source, "hooks", false, "noisy")
        .await
        .unwrap();
    objects
        .set_enabled(&admin(), ObjectKind::Route, "all", false, "")
        .await
        .unwrap();
    assert!(a.catalog().source("hooks").is_none(), "answers as unknown");
    assert!(a.catalog().routes().is_disabled("all"));
    let route = objects.route_view("all").unwrap();
    assert!(!route.active && route.disabled.is_some());
    assert_eq!(
        objects
            .source_view("hooks")
            .unwrap()
            .disabled
            .map(|d| d.reason),
        Some("noisy".to_owned())
    );
    let b = node(&store);
    b.objects().sync_objects().await.unwrap();
    assert!(b.catalog().source("hooks").is_none());
    assert!(b.catalog().routes().is_disabled("all"));
    objects
        .set_source_enabled(&admin(), "hooks", true)
        .await
        .unwrap();
    objects
        .set_route_active(&admin(), "all", true)
        .await
        .unwrap();
    b.objects().sync_objects().await.unwrap();
    assert!(b.catalog().source("hooks").is_some());
    assert!(!b.catalog().routes().is_disabled("all"));
    assert!(
        (objects.set_enabled(&admin(), ObjectKind::Route, "missing", false, ""))
            .await
            .is_err(),
        "an unknown object is a 404"
    );
}
