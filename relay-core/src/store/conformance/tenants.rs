//! The tenant registry.

use super::*;
use crate::admin::{TenantLimits, TenantRecord};

/// Tenants are unique by name; updates change the limits and keep `created_at`; deletes
/// say whether there was one and touch nothing else of the tenant; listings are by name.
pub async fn tenant_registry_round_trips(store: Arc<dyn Store>) {
    assert!(store.tenants().await.unwrap().is_empty());
    let limits = TenantLimits {
        rate_per_second: Some(50),
        burst: Some(100),
        daily_quota: Some(10_000),
        max_sources: Some(3),
        max_routes: None,
    };
    let record = |name: &str, limits: TenantLimits, ms: i64| TenantRecord {
        tenant: tenant(name),
        limits,
        created_at: at(ms),
        updated_at: at(ms),
    };
    let globex = record("globex", TenantLimits::default(), 2);
    let acme = record("acme", limits, 1);
    assert!(store.insert_tenant(globex.clone()).await.unwrap());
    assert!(store.insert_tenant(acme.clone()).await.unwrap());
    assert!(
        !(store.insert_tenant(record("acme", TenantLimits::default(), 9)))
            .await
            .unwrap(),
        "a name is taken once"
    );
    assert_eq!(
        store.tenants().await.unwrap(),
        [acme.clone(), globex.clone()]
    );

    let tighter = TenantLimits {
        daily_quota: Some(5),
        ..limits
    };
    assert!(
        store
            .update_tenant(record("acme", tighter, 7))
            .await
            .unwrap()
    );
    assert!(
        !(store.update_tenant(record("initech", tighter, 7)))
            .await
            .unwrap()
    );
    let updated = TenantRecord {
        limits: tighter,
        updated_at: at(7),
        ..acme.clone()
    };
    assert_eq!(store.tenants().await.unwrap(), [updated, globex.clone()]);

    // Deleting from the registry leaves the tenant's objects alone.
    let route = crate::manage::ObjectRecord {
        kind: crate::manage::ObjectKind::Route,
        name: "r".into(),
        spec: r#"{"name":"r"}"#.into(),
        enabled: true,
        created_at: at(1),
        updated_at: at(1),
    };
    assert!(store.insert_object(&tenant("acme"), route).await.unwrap());
    assert!(store.delete_tenant(&tenant("acme")).await.unwrap());
    assert!(!store.delete_tenant(&tenant("acme")).await.unwrap());
    assert_eq!(store.tenants().await.unwrap(), [globex]);
    assert_eq!(store.objects(&tenant("acme")).await.unwrap().len(), 1);
}
