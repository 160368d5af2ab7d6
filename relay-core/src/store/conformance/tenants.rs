//! The tenant registry.

use super::*;
use crate::control::admin::{TenantLimits, TenantRecord};

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
    let route = crate::control::manage::ObjectRecord {
        kind: crate::control::manage::ObjectKind::Route,
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

/// The daily quota: at most `limit` taken per tenant and day, also by concurrent callers;
/// tenants and days have their own counters (a new day starts from zero).
pub async fn daily_quota_is_atomic_per_tenant_and_day(store: Arc<dyn Store>) {
    use crate::store::{QuotaOutcome, quota_day};
    let (a, b) = (tenant("acme"), tenant("globex"));
    // A fixed clock: the last millisecond of a day, then the first of the next.
    let last_ms = Timestamp::from_millis(20_000 * 86_400_000 - 1);
    let (today, tomorrow) = (
        quota_day(last_ms),
        quota_day(last_ms.plus(Duration::from_millis(1))),
    );
    assert_eq!(tomorrow, today + 1);
    for used in 1..=3 {
        assert_eq!(
            store.take_quota(&a, today, 3).await.unwrap(),
            QuotaOutcome::Taken { used }
        );
    }
    assert_eq!(
        store.take_quota(&a, today, 3).await.unwrap(),
        QuotaOutcome::Exhausted
    );
    assert_eq!(
        store.take_quota(&a, today, 3).await.unwrap(),
        QuotaOutcome::Exhausted
    );
    assert_eq!(
        store.take_quota(&b, today, 3).await.unwrap(),
        QuotaOutcome::Taken { used: 1 },
        "another tenant has its own counter"
    );
    assert_eq!(
        store.take_quota(&a, tomorrow, 3).await.unwrap(),
        QuotaOutcome::Taken { used: 1 },
        "the quota resets at the window boundary"
    );
    assert_eq!(
        store.take_quota(&a, today, 4).await.unwrap(),
        QuotaOutcome::Taken { used: 4 }
    );

    // 20 concurrent callers against a limit of 7: exactly 7 take one.
    let c = tenant("initech");
    let takes = (0..20).map(|_| {
        let (store, c) = (Arc::clone(&store), c.clone());
        tokio::spawn(async move { store.take_quota(&c, today, 7).await.unwrap() })
    });
    let mut taken = Vec::new();
    for take in takes {
        if let QuotaOutcome::Taken { used } = take.await.unwrap() {
            taken.push(used);
        }
    }
    taken.sort_unstable();
    assert_eq!(taken, (1..=7).collect::<Vec<_>>());
}
