//! The records of refused signatures: listed newest first, filtered, paged, per tenant;
//! pruned by age in batches.

use super::*;
use crate::ingest::sig_failure::{SignatureFailure, SignatureFailureQuery, SignatureFailureReason};
use crate::model::ids::SigFailureId;
use crate::store::{Retention, prune_all};

fn failure(
    tenant: &TenantId,
    source: &str,
    reason: SignatureFailureReason,
    made: Timestamp,
) -> SignatureFailure {
    SignatureFailure {
        id: SigFailureId::new(),
        tenant: tenant.clone(),
        source: source.into(),
        reason,
        header: (reason == SignatureFailureReason::MissingHeader)
            .then(|| "x-hub-signature-256".to_owned()),
        client: match made.as_millis() % 3 {
            0 => None,
            1 => Some("203.0.113.9".parse().unwrap()),
            _ => Some("2001:db8::9".parse().unwrap()),
        },
        at: made,
        request_id: format!("req-{}", made.as_millis()),
    }
}

async fn sources(
    store: &dyn Store,
    tenant: &TenantId,
    query: &SignatureFailureQuery,
) -> Vec<String> {
    let found = store.signature_failures(tenant, query, 100).await.unwrap();
    found.into_iter().map(|f| f.source).collect()
}

/// Records come back newest first, unchanged, filtered by source and time, paged by cursor,
/// per tenant.
pub async fn signature_failures_page_newest_first(store: Arc<dyn Store>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    let mut written = Vec::new();
    for (i, reason) in SignatureFailureReason::ALL.into_iter().enumerate() {
        let source = if i % 2 == 0 { "github" } else { "stripe" };
        let f = failure(&a, source, reason, at(i as i64 * 1_000));
        store.append_signature_failure(f.clone()).await.unwrap();
        written.push(f);
    }
    let theirs = failure(&b, "github", SignatureFailureReason::Malformed, at(500));
    store
        .append_signature_failure(theirs.clone())
        .await
        .unwrap();

    let everything = SignatureFailureQuery::default();
    let all = store
        .signature_failures(&a, &everything, 100)
        .await
        .unwrap();
    let newest_first: Vec<_> = written.iter().rev().cloned().collect();
    assert_eq!(all, newest_first, "every field round-trips, newest first");
    assert_eq!(
        store
            .signature_failures(&b, &everything, 100)
            .await
            .unwrap(),
        [theirs]
    );

    let github = SignatureFailureQuery {
        source: Some("github".into()),
        ..Default::default()
    };
    assert_eq!(sources(&*store, &a, &github).await, ["github"; 3]);
    let since = SignatureFailureQuery {
        since: Some(at(3_000)),
        ..Default::default()
    };
    let recent = store.signature_failures(&a, &since, 100).await.unwrap();
    assert_eq!(recent, newest_first[..2]);

    let first = store.signature_failures(&a, &everything, 2).await.unwrap();
    assert_eq!(first, newest_first[..2]);
    let next = SignatureFailureQuery {
        before: Some(first[1].id),
        ..Default::default()
    };
    let second = store.signature_failures(&a, &next, 2).await.unwrap();
    assert_eq!(second, newest_first[2..4]);
    let unknown = SignatureFailureQuery {
        source: Some("nope".into()),
        ..Default::default()
    };
    assert!(sources(&*store, &a, &unknown).await.is_empty());
}

/// Each prune deletes at most its batch, of every tenant, only what is older than asked;
/// [`prune_all`] keeps records as long as [`Retention::signature_failures`] says.
pub async fn signature_failures_are_pruned(store: Arc<dyn Store>) {
    let (a, b) = (tenant("acme"), tenant("globex"));
    let reason = SignatureFailureReason::NoSecretMatched;
    for (t, made) in [(&a, 0), (&b, 1), (&a, 2), (&a, 9_000)] {
        let f = failure(t, "github", reason, at(made));
        store.append_signature_failure(f).await.unwrap();
    }
    assert_eq!(
        store.prune_signature_failures(at(5_000), 2).await.unwrap(),
        2
    );
    assert_eq!(
        store.prune_signature_failures(at(5_000), 2).await.unwrap(),
        1
    );
    assert_eq!(
        store.prune_signature_failures(at(5_000), 2).await.unwrap(),
        0
    );
    let everything = SignatureFailureQuery::default();
    let left = store
        .signature_failures(&a, &everything, 100)
        .await
        .unwrap();
    assert_eq!(left.iter().map(|f| f.at).collect::<Vec<_>>(), [at(9_000)]);
    assert!(sources(&*store, &b, &everything).await.is_empty());

    let now = Timestamp::now().as_millis();
    let days_ago = |d: i64| Timestamp::from_millis(now - d * 86_400_000);
    for (source, age) in [("old", 31), ("kept", 29)] {
        let f = failure(&a, source, reason, days_ago(age));
        store.append_signature_failure(f).await.unwrap();
    }
    let pruned = prune_all(&*store, &Retention::default()).await.unwrap();
    assert_eq!(pruned.signature_failures, 2, "31 days old, and the T0 one");
    assert_eq!(sources(&*store, &a, &everything).await, ["kept"]);
}
