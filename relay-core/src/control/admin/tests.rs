//! Access operations against the in-memory store.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::model::ids::TenantId;
use crate::model::secret::Secret;
use crate::model::time::Timestamp;
use crate::relay::Relay;

fn relay() -> Relay {
    Relay::builder().build().unwrap()
}

fn admin() -> Principal {
    Principal::system(TenantId::default())
}

#[tokio::test]
async fn api_keys_authenticate_until_revoked() {
    let relay = relay();
    let created = relay
        .access()
        .create_api_key(&admin(), "ci", Role::Operator)
        .await
        .unwrap();
    let principal = relay
        .access()
        .authenticate_api_key(created.token.expose())
        .await
        .unwrap();
    assert_eq!(principal.role, Role::Operator);
    assert_eq!(principal.actor, format!("key:{}", created.record.id));

    let wrong = format!("{}x", created.token.expose());
    assert!(matches!(
        relay.access().authenticate_api_key(&wrong).await,
        Err(AdminError::Unauthorized)
    ));
    let viewer = Principal {
        role: Role::Operator,
        ..principal.clone()
    };
    assert!(matches!(
        relay
            .access()
            .create_api_key(&viewer, "x", Role::Admin)
            .await,
        Err(AdminError::Forbidden {
            needed: Role::Admin
        })
    ));
    relay
        .access()
        .revoke_api_key(&admin(), &created.record.id)
        .await
        .unwrap();
    assert!(matches!(
        relay
            .access()
            .authenticate_api_key(created.token.expose())
            .await,
        Err(AdminError::Unauthorized)
    ));
    let log = relay
        .store()
        .audit_entries(&TenantId::default(), &AuditQuery::default(), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["revoke", "create"]);
    let text = format!("{log:?}");
    assert!(!text.contains(created.token.expose()));
}

#[tokio::test]
async fn five_failures_lock_the_username_for_an_hour() {
    let relay = relay();
    let tenant = TenantId::default();
    let password = Secret::new("a long enough password");
    relay
        .access()
        .create_user(&admin(), "ann", &password, Role::Viewer)
        .await
        .unwrap();
    let wrong = Secret::new("not the password");
    for _ in 0..4 {
        assert!(matches!(
            relay.access().login(&tenant, "ann", &wrong).await,
            Err(AdminError::Unauthorized)
        ));
    }
    let started = Timestamp::now();
    let Err(AdminError::Locked { until }) = relay.access().login(&tenant, "ann", &wrong).await
    else {
        panic!("the fifth failure locks");
    };
    let lock_ms = until.as_millis() - started.as_millis();
    assert!((3_590_000..=3_610_000).contains(&lock_ms), "{lock_ms}");
    assert!(matches!(
        relay.access().login(&tenant, "ann", &password).await,
        Err(AdminError::Locked { .. })
    ));
}

#[tokio::test]
async fn a_success_resets_the_count_and_sessions_authenticate() {
    let relay = relay();
    let tenant = TenantId::default();
    let password = Secret::new("a long enough password");
    relay
        .access()
        .create_user(&admin(), "bob", &password, Role::Admin)
        .await
        .unwrap();
    let wrong = Secret::new("nope nope nope");
    for _ in 0..4 {
        let _ = relay.access().login(&tenant, "bob", &wrong).await;
    }
    let session = relay
        .access()
        .login(&tenant, "bob", &password)
        .await
        .unwrap();
    for _ in 0..4 {
        let _ = relay.access().login(&tenant, "bob", &wrong).await;
    }
    let principal = relay
        .access()
        .authenticate_session(session.token.expose())
        .await
        .unwrap();
    assert_eq!(
        (principal.role, principal.actor.as_str()),
        (Role::Admin, "user:bob")
    );
    relay.access().logout(session.token.expose()).await.unwrap();
    assert!(
        relay
            .access()
            .authenticate_session(session.token.expose())
            .await
            .is_err()
    );
    assert!(matches!(
        relay.access().login(&tenant, "nobody", &password).await,
        Err(AdminError::Unauthorized)
    ));
    assert!(matches!(
        relay
            .access()
            .create_user(&admin(), "bob", &password, Role::Viewer)
            .await,
        Err(AdminError::Conflict(_))
    ));
    assert!(matches!(
        relay
            .access()
            .create_user(&admin(), "short", &Secret::new("short"), Role::Viewer)
            .await,
        Err(AdminError::Invalid(_))
    ));
}

#[tokio::test]
async fn failures_from_one_address_lock_it_for_every_username() {
    let relay = relay();
    let tenant = TenantId::default();
    let password = Secret::new("a long enough password");
    let access = relay.access();
    access
        .create_user(&admin(), "cat", &password, Role::Viewer)
        .await
        .unwrap();
    let wrong = Secret::new("not the password");
    let (from, other) = (
        Some("192.0.2.7".parse().unwrap()),
        Some("192.0.2.8".parse().unwrap()),
    );
    for i in 1..LOCK_CLIENT_AFTER_FAILURES {
        let outcome = access
            .login_from(&tenant, &format!("u{i}"), &wrong, from)
            .await;
        assert!(matches!(outcome, Err(AdminError::Unauthorized)), "{i}");
    }
    let locked = access.login_from(&tenant, "u20", &wrong, from).await;
    assert!(matches!(locked, Err(AdminError::Locked { .. })));
    let right = access.login_from(&tenant, "cat", &password, from).await;
    assert!(
        matches!(right, Err(AdminError::Locked { .. })),
        "even with the password"
    );
    assert!(
        access
            .login_from(&tenant, "cat", &password, other)
            .await
            .is_ok()
    );
    assert!(access.login(&tenant, "cat", &password).await.is_ok());
    let query = AuditQuery {
        object_kind: Some("client".into()),
        ..AuditQuery::default()
    };
    let entries = relay
        .store()
        .audit_entries(&tenant, &query, 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].action.as_str(), entries[0].object_id.as_str()),
        ("lock", "192.0.2.7")
    );
    assert_eq!(entries[0].client, from);
}

#[tokio::test]
async fn audit_entries_carry_the_principals_client_address() {
    let relay = relay();
    let from = Some("2001:db8::1".parse().unwrap());
    let by = admin().from_client(from);
    let password = Secret::new("a long enough password");
    relay
        .access()
        .create_user(&by, "dan", &password, Role::Viewer)
        .await
        .unwrap();
    relay
        .access()
        .create_user(&admin(), "eve", &password, Role::Viewer)
        .await
        .unwrap();
    let tenant = TenantId::default();
    let entries = relay
        .store()
        .audit_entries(&tenant, &AuditQuery::default(), 10)
        .await
        .unwrap();
    let client_of = |user: &str| {
        entries
            .iter()
            .find(|e| e.object_id == user)
            .map(|e| e.client)
    };
    assert_eq!(client_of("dan"), Some(from));
    assert_eq!(client_of("eve"), Some(None));
}
