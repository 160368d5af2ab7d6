#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use serde_json::json;

use super::*;
use crate::control::admin::{AdminError, AuditQuery, Principal, Role};
use crate::control::credentials::Keyring;
use crate::deliver::destination::Destination;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::store::Store;
use crate::store::memory::MemoryStore;

fn admin() -> Principal {
    Principal::system(TenantId::default())
}

fn relay_on(store: Arc<dyn Store>, keyring: Keyring) -> Relay {
    Relay::builder()
        .store(store)
        .keyring(keyring)
        .allow_cidrs(["127.0.0.0/8".parse().unwrap()])
        .destination(Destination::http("configured", "http://127.0.0.1:9/").unwrap())
        .build()
        .unwrap()
}

fn relay() -> Relay {
    relay_on(Arc::new(MemoryStore::new()), Keyring::generate())
}

fn spec<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

fn fields(error: AdminError) -> Vec<String> {
    match error {
        AdminError::Invalid(fields) => fields.into_iter().map(|f| f.field).collect(),
        other => panic!("not a 422: {other:?}"),
    }
}

/// Whether the source verifies a GitHub-style signature made with `secret`.
fn verifies(relay: &Relay, source: &str, secret: &str) -> bool {
    use hmac::{KeyInit as _, Mac as _};
    let body = b"{}";
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let mut headers = HeaderMap::new();
    headers.insert("x-hub-signature-256", signature.parse().unwrap());
    let catalog = relay.catalog();
    let source = catalog.source(source).unwrap();
    source.verify(&headers, body, Timestamp::now()).is_ok()
}

#[tokio::test]
async fn objects_are_created_live_stored_sealed_and_audited_without_secrets() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let relay = relay_on(Arc::clone(&store), Keyring::generate());
    let source = relay
        .objects()
        .create_source(&admin(), spec(json!({"name": "gh", "scheme": "github"})))
        .await
        .unwrap();
    let secret = source.secrets[0].clone();
    assert!(verifies(&relay, "gh", &secret));
    let destination = relay
        .objects().create_destination(
            &admin(),
            spec(json!({"name": "erp", "url": "http://127.0.0.1:9/", "auth_header": "Bearer erp-token"})),
        )
        .await
        .unwrap();
    relay
        .objects()
        .create_route(
            &admin(),
            spec(json!({"name": "r", "source": "gh", "destinations": ["erp", "configured"]})),
        )
        .await
        .unwrap();
    assert!(relay.catalog().routes().get("r").is_some());

    let views = relay.objects().source_views();
    assert_eq!(views[0].managed_by, ManagedBy::Api);
    assert!(views[0].spec.as_ref().unwrap().secrets.is_empty());
    let destinations = relay.objects().destination_views();
    let managed: Vec<_> = destinations
        .iter()
        .map(|d| (d.name.as_str(), d.managed_by))
        .collect();
    assert_eq!(
        managed,
        [("configured", ManagedBy::Config), ("erp", ManagedBy::Api)]
    );

    let tenant = TenantId::default();
    let stored = format!("{:?}", store.objects(&tenant).await.unwrap());
    let audit = store
        .audit_entries(&tenant, &AuditQuery::default(), 50)
        .await
        .unwrap();
    let audit = format!(
        "{:?}",
        audit
            .iter()
            .map(|e| serde_json::to_string(&e.changes).unwrap())
            .collect::<Vec<_>>()
    ) + &format!("{audit:?}");
    for plain in [
        secret.as_str(),
        destination.signing_secret.as_str(),
        "erp-token",
    ] {
        assert!(!stored.contains(plain), "stored in plaintext: {plain}");
        assert!(!audit.contains(plain), "audited in plaintext: {plain}");
    }
    assert!(audit.contains("[redacted]") && audit.contains("\"create\""));
}

#[tokio::test]
async fn bad_specs_are_refused_field_by_field() {
    let relay = relay();
    let err = relay
        .objects()
        .create_route(
            &admin(),
            spec(
                json!({"name": "r", "source": "nope", "destinations": ["configured", "gone"],
            "conditions": [{"path": "$.a", "op": "gt", "value": "x"}], "transformer": "nope"}),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(
        fields(err),
        ["source", "destinations[1]", "transformer", "conditions[0]"]
    );
    let err = relay
        .objects()
        .create_destination(
            &admin(),
            spec(json!({"name": "d", "url": "http://10.1.2.3/", "timeout_ms": 0})),
        )
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["timeout_ms", "url"]);
    let err = relay
        .objects()
        .create_source(
            &admin(),
            spec(json!({"name": "bad name", "scheme": "rot13"})),
        )
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["name", "scheme"]);
    let viewer = Principal {
        role: Role::Operator,
        ..admin()
    };
    let err = relay
        .objects()
        .create_source(&viewer, spec(json!({"name": "s", "scheme": "none"})))
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::Forbidden { .. }));
}

#[tokio::test]
async fn configured_objects_and_names_in_use_are_conflicts() {
    let relay = relay();
    let configured = spec(json!({"name": "configured", "url": "http://127.0.0.1:9/"}));
    let err = relay
        .objects()
        .create_destination(&admin(), configured)
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::Conflict(_)));
    let err = relay
        .objects()
        .delete_destination(&admin(), "configured")
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::Conflict(_)));
    relay
        .objects()
        .create_destination(
            &admin(),
            spec(json!({"name": "d", "url": "http://127.0.0.1:9/"})),
        )
        .await
        .unwrap();
    let again = spec(json!({"name": "d", "url": "http://127.0.0.1:9/"}));
    assert!(matches!(
        relay
            .objects()
            .create_destination(&admin(), again)
            .await
            .unwrap_err(),
        AdminError::Conflict(_)
    ));
    relay
        .objects()
        .create_route(&admin(), spec(json!({"name": "r", "destinations": ["d"]})))
        .await
        .unwrap();
    let err = relay
        .objects()
        .delete_destination(&admin(), "d")
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdminError::Conflict(ref m) if m.contains("route \"r\"")),
        "{err:?}"
    );
    relay.objects().delete_route(&admin(), "r").await.unwrap();
    relay
        .objects()
        .delete_destination(&admin(), "d")
        .await
        .unwrap();
    assert!(relay.catalog().destination("d").is_none());
    assert!(matches!(
        relay
            .objects()
            .delete_destination(&admin(), "d")
            .await
            .unwrap_err(),
        AdminError::NotFound
    ));
}

#[tokio::test]
async fn a_rotated_secret_overlaps_the_old_one_then_replaces_it() {
    let relay = relay();
    relay
        .objects()
        .create_source(
            &admin(),
            spec(json!({"name": "gh", "scheme": "github", "secrets": ["old-secret"]})),
        )
        .await
        .unwrap();
    let rotated = relay
        .objects()
        .rotate_source_secret(&admin(), "gh", Duration::from_secs(3600), None)
        .await
        .unwrap();
    assert!(verifies(&relay, "gh", "old-secret"));
    assert!(verifies(&relay, "gh", &rotated.secret));
    let expiries: Vec<_> = rotated
        .source
        .secrets
        .iter()
        .map(|s| s.expires_at.is_some())
        .collect();
    assert_eq!(expiries, [true, false]);

    let last = relay
        .objects()
        .rotate_source_secret(&admin(), "gh", Duration::ZERO, Some("newest".into()))
        .await
        .unwrap();
    assert_eq!(last.secret, "newest");
    assert!(verifies(&relay, "gh", "newest"));
    assert!(!verifies(&relay, "gh", "old-secret"));
    assert!(!verifies(&relay, "gh", &rotated.secret));
    let err = relay
        .objects()
        .rotate_source_secret(&admin(), "gh", Duration::from_secs(31 * 86_400), None)
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["overlap_secs"]);
}

#[tokio::test]
async fn disabled_sources_answer_as_unknown_and_disabled_destinations_pause() {
    let relay = relay();
    relay
        .objects()
        .create_source(&admin(), spec(json!({"name": "s", "scheme": "none"})))
        .await
        .unwrap();
    relay
        .objects()
        .create_destination(
            &admin(),
            spec(json!({"name": "d", "url": "http://127.0.0.1:9/"})),
        )
        .await
        .unwrap();
    relay
        .objects()
        .set_source_enabled(&admin(), "s", false)
        .await
        .unwrap();
    assert!(relay.catalog().source("s").is_none());
    assert!(!relay.objects().source_view("s").unwrap().enabled);
    relay
        .objects()
        .set_destination_enabled(&admin(), "d", false)
        .await
        .unwrap();
    assert!(relay.is_destination_disabled("d"));
    relay
        .objects()
        .set_source_enabled(&admin(), "s", true)
        .await
        .unwrap();
    relay
        .objects()
        .set_destination_enabled(&admin(), "d", true)
        .await
        .unwrap();
    assert!(relay.catalog().source("s").is_some());
    assert!(!relay.is_destination_disabled("d"));
    // A configured destination pauses too (its state is stored).
    relay
        .objects()
        .set_destination_enabled(&admin(), "configured", false)
        .await
        .unwrap();
    assert!(relay.is_destination_disabled("configured"));
}

#[tokio::test]
async fn nodes_sharing_a_store_follow_each_other() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let key = [7u8; 32];
    let a = relay_on(Arc::clone(&store), Keyring::new("k1", key).unwrap());
    let b = relay_on(Arc::clone(&store), Keyring::new("k1", key).unwrap());
    a.objects()
        .create_source(
            &admin(),
            spec(json!({"name": "s", "scheme": "github", "secrets": ["k"]})),
        )
        .await
        .unwrap();
    a.objects()
        .create_destination(
            &admin(),
            spec(json!({"name": "d", "url": "http://127.0.0.1:9/"})),
        )
        .await
        .unwrap();
    a.objects()
        .set_destination_enabled(&admin(), "d", false)
        .await
        .unwrap();
    assert!(b.catalog().source("s").is_none());
    b.objects().sync_objects().await.unwrap();
    assert!(verifies(&b, "s", "k"));
    assert!(b.is_destination_disabled("d"));
    a.objects().delete_source(&admin(), "s").await.unwrap();
    a.objects()
        .set_destination_enabled(&admin(), "d", true)
        .await
        .unwrap();
    b.objects().sync_objects().await.unwrap();
    assert!(b.catalog().source("s").is_none());
    assert!(!b.is_destination_disabled("d"));

    // A node whose key cannot open the stored secrets leaves those objects out.
    let c = relay_on(Arc::clone(&store), Keyring::generate());
    c.objects().sync_objects().await.unwrap();
    assert!(c.catalog().destination("d").is_none());
    assert_eq!(c.objects().skipped_objects()[0].name, "d");
}

#[tokio::test]
async fn a_route_test_explains_the_match_and_shows_the_bodies() {
    let relay = relay();
    relay
        .objects()
        .create_route(
            &admin(),
            spec(
                json!({"name": "big", "event_types": ["order.*"], "destinations": ["configured"],
            "conditions": [{"path": "$.total", "op": "gte", "value": 100}]}),
            ),
        )
        .await
        .unwrap();
    let sample = |total| RouteSample {
        event_type: "order.paid".into(),
        payload: json!({"total": total}),
        ..Default::default()
    };
    let hit = relay
        .objects()
        .test_route(&admin(), "big", &sample(150))
        .unwrap();
    assert!(hit.matched && hit.event_type_matches && hit.conditions[0].1);
    assert_eq!(
        hit.deliveries[0].body.as_deref().unwrap(),
        r#"{"total":150}"#
    );
    let miss = relay
        .objects()
        .test_route(&admin(), "big", &sample(5))
        .unwrap();
    assert!(!miss.matched && !miss.conditions[0].1 && miss.deliveries.is_empty());
    assert!(matches!(
        relay
            .objects()
            .test_route(&admin(), "nope", &sample(5))
            .unwrap_err(),
        AdminError::NotFound
    ));
}

#[tokio::test]
async fn updates_keep_secrets_unless_given_and_are_diffed() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let relay = relay_on(Arc::clone(&store), Keyring::generate());
    relay
        .objects()
        .create_source(
            &admin(),
            spec(json!({"name": "gh", "scheme": "github", "secrets": ["keep-me"]})),
        )
        .await
        .unwrap();
    let view = relay
        .objects()
        .update_source(
            &admin(),
            "gh",
            spec(json!({"name": "gh", "scheme": "github", "max_body_bytes": 2048})),
        )
        .await
        .unwrap();
    assert_eq!(view.max_body_bytes, 2048);
    assert!(verifies(&relay, "gh", "keep-me"));
    let err = relay
        .objects()
        .update_source(
            &admin(),
            "gh",
            spec(json!({"name": "other", "scheme": "github"})),
        )
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["name"]);
    let entries = store
        .audit_entries(&TenantId::default(), &AuditQuery::default(), 10)
        .await
        .unwrap();
    let update = &entries[0];
    assert_eq!(update.action, "update");
    let changed: Vec<_> = update.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(changed, ["max_body_bytes"]);
}
