//! Sources, destinations and routes created through the admin API.

use super::*;
use crate::control::manage::{ObjectKind, ObjectRecord};

fn object(kind: ObjectKind, name: &str, spec: &str, ms: i64) -> ObjectRecord {
    ObjectRecord {
        kind,
        name: name.into(),
        spec: spec.into(),
        enabled: true,
        created_at: at(ms),
        updated_at: at(ms),
    }
}

/// Objects are unique per tenant, kind and name; updates keep `created_at`; deletes say
/// whether there was something; listings are per tenant, by kind then name.
pub async fn objects_are_unique_per_tenant_kind_and_name(store: Arc<dyn Store>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    let route = object(ObjectKind::Route, "r", r#"{"name":"r"}"#, 1);
    let source = object(
        ObjectKind::Source,
        "r",
        r#"{"name":"r","scheme":"none"}"#,
        2,
    );
    let dest = object(ObjectKind::Destination, "d", r#"{"name":"d"}"#, 3);
    for record in [&route, &source, &dest] {
        assert!(store.insert_object(&a, record.clone()).await.unwrap());
    }
    assert!(!store.insert_object(&a, route.clone()).await.unwrap());
    assert!(store.insert_object(&b, route.clone()).await.unwrap());
    assert_eq!(
        store.objects(&a).await.unwrap(),
        [source.clone(), dest.clone(), route.clone()]
    );

    let changed = ObjectRecord {
        spec: r#"{"name":"d","url":"https://x.example/"}"#.into(),
        enabled: false,
        created_at: at(50),
        updated_at: at(60),
        ..dest.clone()
    };
    assert!(store.update_object(&a, changed.clone()).await.unwrap());
    let missing = object(ObjectKind::Destination, "nope", "{}", 4);
    assert!(!store.update_object(&a, missing).await.unwrap());
    let listed = store.objects(&a).await.unwrap();
    let stored = listed.iter().find(|o| o.name == "d").unwrap();
    assert_eq!(
        stored,
        &ObjectRecord {
            created_at: dest.created_at,
            ..changed
        }
    );

    assert!(
        store
            .delete_object(&a, ObjectKind::Route, "r")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_object(&a, ObjectKind::Route, "r")
            .await
            .unwrap()
    );
    let kinds: Vec<_> = (store.objects(&a).await.unwrap().into_iter())
        .map(|o| (o.kind, o.name))
        .collect();
    assert_eq!(
        kinds,
        [
            (ObjectKind::Source, "r".to_owned()),
            (ObjectKind::Destination, "d".to_owned())
        ]
    );
    assert_eq!(store.objects(&b).await.unwrap(), [route]);
}

/// Agent credentials live beside the other objects (kind `agent`): they round-trip with the
/// digest and the revoked state, list after routes, and do not collide with a destination of
/// the same name.
pub async fn agent_credentials_are_objects_of_their_own_kind(store: Arc<dyn Store>) {
    let a = tenant("acme");
    let dest = object(ObjectKind::Destination, "laptop", r#"{"name":"laptop"}"#, 1);
    let agent = object(
        ObjectKind::Agent,
        "laptop",
        r#"{"secret_sha256":"00ff"}"#,
        2,
    );
    assert!(store.insert_object(&a, agent.clone()).await.unwrap());
    assert!(store.insert_object(&a, dest.clone()).await.unwrap());
    assert!(!store.insert_object(&a, agent.clone()).await.unwrap());
    assert_eq!(
        store.objects(&a).await.unwrap(),
        [dest.clone(), agent.clone()]
    );
    let revoked = ObjectRecord {
        enabled: false,
        spec: r#"{"secret_sha256":"11ee"}"#.into(),
        updated_at: at(9),
        ..agent.clone()
    };
    assert!(store.update_object(&a, revoked.clone()).await.unwrap());
    assert_eq!(store.objects(&a).await.unwrap(), [dest.clone(), revoked]);
    assert!(
        store
            .delete_object(&a, ObjectKind::Agent, "laptop")
            .await
            .unwrap()
    );
    assert_eq!(store.objects(&a).await.unwrap(), [dest]);
}
