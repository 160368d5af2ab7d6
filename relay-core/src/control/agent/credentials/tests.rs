//! Agent credentials: shown once, revocable, rotatable, per tenant.

use super::*;

#[tokio::test]
async fn tokens_are_shown_once_revocable_and_rotatable() {
    let relay = Relay::builder().build().unwrap();
    let admin = Principal::system(TenantId::default());
    let created = relay.agents().create(&admin, "laptop").await.unwrap();
    let token = created.token.expose().to_owned();
    assert!(token.starts_with("rag_laptop_"));
    assert_eq!(
        relay.agents().authenticate(&token).await.unwrap().agent,
        "laptop"
    );
    assert!(!format!("{created:?}").contains(&token[11..]));
    assert!(matches!(
        relay.agents().create(&admin, "laptop").await,
        Err(AdminError::Conflict(_))
    ));
    let wrong = format!("rag_laptop_{}", "0".repeat(64));
    assert!(matches!(
        relay.agents().authenticate(&wrong).await,
        Err(AdminError::Unauthorized)
    ));

    let rotated = relay.agents().rotate(&admin, "laptop").await.unwrap();
    assert!(relay.agents().authenticate(&token).await.is_err());
    let token = rotated.token.expose().to_owned();
    assert!(relay.agents().authenticate(&token).await.is_ok());

    let revoked = relay.agents().revoke(&admin, "laptop").await.unwrap();
    assert!(revoked.revoked);
    assert!(matches!(
        relay.agents().authenticate(&token).await,
        Err(AdminError::Unauthorized)
    ));
    let viewer = Principal {
        role: Role::Viewer,
        ..admin.clone()
    };
    assert_eq!(relay.agents().list(&viewer).await.unwrap().len(), 1);
    assert!(matches!(
        relay.agents().create(&viewer, "other").await,
        Err(AdminError::Forbidden { .. })
    ));
    assert!(matches!(
        relay.agents().create(&admin, "no spaces").await,
        Err(AdminError::Invalid(_))
    ));
    // A credential changed through another node (straight in the store here) closes
    // this node's connection at the next sync.
    let fresh = relay.agents().rotate(&admin, "laptop").await.unwrap();
    let _session = relay.agents().hub().connect(
        &relay.held_agent("laptop"),
        crate::control::agent::AgentTargets::single("http://127.0.0.1:3000/"),
    );
    relay.objects().sync_objects().await.unwrap();
    assert_eq!(relay.agents().hub().held().len(), 1);
    let mut record = relay.agent_record("laptop").await.unwrap();
    record.enabled = false;
    record.updated_at = Timestamp::from_millis(record.updated_at.as_millis() + 1);
    let tenant = TenantId::default();
    assert!(relay.store().update_object(&tenant, record).await.unwrap());
    relay.objects().sync_objects().await.unwrap();
    assert!(relay.agents().hub().held().is_empty());
    assert!(
        relay
            .agents()
            .authenticate(fresh.token.expose())
            .await
            .is_err()
    );
    relay.agents().delete(&admin, "laptop").await.unwrap();
    assert!(relay.agents().list(&admin).await.unwrap().is_empty());
    // The catalog is not disturbed by agent records.
    relay.objects().sync_objects().await.unwrap();
}
