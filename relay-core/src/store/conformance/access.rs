//! Admin records: API keys, users (with lockout counting) and sessions.

use super::*;
use crate::control::admin::{ApiKeyRecord, Role, SessionRecord, UserRecord};

fn key(tenant: &TenantId, id: &str, created_ms: i64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        tenant: tenant.clone(),
        name: format!("{id} key"),
        role: Role::Operator,
        secret_hash: vec![7; 32],
        created_at: at(created_ms),
        created_by: "user:root".to_owned(),
        revoked_at: None,
    }
}

fn user(tenant: &TenantId, name: &str) -> UserRecord {
    UserRecord {
        tenant: tenant.clone(),
        username: name.to_owned(),
        role: Role::Viewer,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        created_at: T0,
        failed_logins: 0,
        locked_until: None,
    }
}

/// Keys: unique ids across tenants, listed per tenant, revoked once, revocation kept.
pub async fn api_keys_round_trip(store: Arc<dyn Store>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    assert!(store.insert_api_key(key(&a, "key_1", 0)).await.unwrap());
    assert!(store.insert_api_key(key(&a, "key_2", 1)).await.unwrap());
    assert!(!store.insert_api_key(key(&b, "key_1", 2)).await.unwrap());
    assert!(store.insert_api_key(key(&b, "key_3", 3)).await.unwrap());

    let found = store.api_key("key_1").await.unwrap().unwrap();
    assert_eq!(found, key(&a, "key_1", 0));
    assert!(store.api_key("key_9").await.unwrap().is_none());
    let ids: Vec<String> = (store.api_keys(&a).await.unwrap().into_iter())
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, ["key_1", "key_2"]);

    assert!(!store.revoke_api_key(&b, "key_1", at(5)).await.unwrap());
    assert!(store.revoke_api_key(&a, "key_1", at(5)).await.unwrap());
    assert!(!store.revoke_api_key(&a, "key_1", at(6)).await.unwrap());
    let revoked = store.api_key("key_1").await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(at(5)));
}

/// Users: unique per tenant; failures counted atomically, locking at the threshold; a
/// success resets; deleting a user ends their sessions.
pub async fn users_lockout_and_sessions(store: Arc<dyn Store>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    assert!(store.insert_user(user(&a, "ann")).await.unwrap());
    assert!(!store.insert_user(user(&a, "ann")).await.unwrap());
    assert!(store.insert_user(user(&b, "ann")).await.unwrap());
    assert!(store.insert_user(user(&a, "bob")).await.unwrap());
    let names: Vec<String> = (store.users(&a).await.unwrap().into_iter())
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["ann", "bob"]);
    assert_eq!(
        store.user(&a, "ann").await.unwrap().unwrap(),
        user(&a, "ann")
    );
    assert!(store.user(&a, "carl").await.unwrap().is_none());

    let lock = at(3_600_000);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (store, a) = (Arc::clone(&store), a.clone());
            tokio::spawn(async move { store.record_login_failure(&a, "ann", 5, lock).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap().unwrap();
    }
    let ann = store.user(&a, "ann").await.unwrap().unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (4, None));
    let fifth = store
        .record_login_failure(&a, "ann", 5, lock)
        .await
        .unwrap();
    assert_eq!(fifth.unwrap().locked_until, Some(lock));
    let other = store.user(&b, "ann").await.unwrap().unwrap();
    assert_eq!(
        other.failed_logins, 0,
        "the other tenant's ann is untouched"
    );
    assert!(
        (store.record_login_failure(&a, "nobody", 5, lock).await)
            .unwrap()
            .is_none()
    );
    store.record_login_success(&a, "ann").await.unwrap();
    let ann = store.user(&a, "ann").await.unwrap().unwrap();
    assert_eq!((ann.failed_logins, ann.locked_until), (0, None));

    let session = SessionRecord {
        token_hash: vec![1; 32],
        tenant: a.clone(),
        username: "ann".into(),
        created_at: T0,
        expires_at: at(60_000),
    };
    store.insert_session(session.clone()).await.unwrap();
    assert_eq!(
        store.session(&[1; 32]).await.unwrap(),
        Some(session.clone())
    );
    store.delete_session(&[1; 32]).await.unwrap();
    assert!(store.session(&[1; 32]).await.unwrap().is_none());
    store.insert_session(session).await.unwrap();
    assert!(store.delete_user(&a, "ann").await.unwrap());
    assert!(!store.delete_user(&a, "ann").await.unwrap());
    assert!(store.session(&[1; 32]).await.unwrap().is_none());
    assert!(store.user(&b, "ann").await.unwrap().is_some());
}
