//! The rate-limiter conformance suite: every [`RateLimiter`] (in-process or shared) must pass
//! it. A backend crate expands it with
//! [`limiter_conformance_tests!`](crate::limiter_conformance_tests), giving an async factory
//! of a fresh limiter (or `(limiter, guard)`), like the store suite; the `optional:` form
//! takes a factory of `Option<…>` for backends that need a server.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use super::{RateDecision, RateLimit, RateLimiter, WINDOW};
use crate::model::time::Timestamp;

/// What a factory hands to the suite: the limiter, and anything that must outlive the case.
pub trait LimiterFixture: Send + 'static {
    /// The limiter under test.
    fn limiter(&self) -> Arc<dyn RateLimiter>;
}

impl LimiterFixture for Arc<dyn RateLimiter> {
    fn limiter(&self) -> Arc<dyn RateLimiter> {
        Arc::clone(self)
    }
}

impl<G: Send + 'static> LimiterFixture for (Arc<dyn RateLimiter>, G) {
    fn limiter(&self) -> Arc<dyn RateLimiter> {
        Arc::clone(&self.0)
    }
}

/// Expands one `#[tokio::test]` per limiter conformance case, each on a limiter from
/// `$factory`; `optional: $factory` takes a factory whose `None` skips the case.
#[macro_export]
macro_rules! limiter_conformance_tests {
    (optional: $factory:expr) => {
        $crate::limiter_conformance_tests!(@list [optional] $factory);
    };
    ($factory:expr) => {
        $crate::limiter_conformance_tests!(@list [required] $factory);
    };
    (@list [$mode:ident] $factory:expr) => {
        $crate::limiter_conformance_tests!(@cases [$mode] $factory;
            no_window_admits_more_than_the_limit,
            zero_limit_refuses_everything,
            keys_have_their_own_budgets,
            concurrent_acquisitions_share_one_budget,
            per_second_budget_is_shared_or_absent,
        );
    };
    (@cases [$mode:ident] $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(fixture) = $crate::limiter_conformance_tests!(@fixture [$mode] $factory)
                else {
                    return;
                };
                let limiter = $crate::ingest::limit::conformance::LimiterFixture::limiter(&fixture);
                $crate::ingest::limit::conformance::$case(limiter).await;
                drop(fixture);
            }
        )*
    };
    (@fixture [required] $factory:expr) => {
        ::core::option::Option::Some(($factory)().await)
    };
    (@fixture [optional] $factory:expr) => {
        ($factory)().await
    };
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000 + ms)
}

/// Three admitted, the fourth told exactly when the oldest leaves the window; admitted
/// again once it has.
pub async fn no_window_admits_more_than_the_limit(limiter: Arc<dyn RateLimiter>) {
    let limit = RateLimit { per_minute: 3 };
    for ms in [0, 10, 20] {
        let decision = limiter.acquire("k", limit, at(ms)).await.unwrap();
        assert_eq!(decision, RateDecision::Allowed);
    }
    assert_eq!(
        limiter.acquire("k", limit, at(30)).await.unwrap(),
        RateDecision::Limited {
            retry_after: Duration::from_millis(59_970)
        }
    );
    assert_eq!(
        limiter.acquire("k", limit, at(60_000)).await.unwrap(),
        RateDecision::Allowed
    );
    assert!(matches!(
        limiter.acquire("k", limit, at(60_005)).await.unwrap(),
        RateDecision::Limited { .. }
    ));
}

/// A limit of zero admits nothing and asks for a whole window.
pub async fn zero_limit_refuses_everything(limiter: Arc<dyn RateLimiter>) {
    let decision = limiter
        .acquire("k", RateLimit { per_minute: 0 }, at(5))
        .await
        .unwrap();
    assert_eq!(
        decision,
        RateDecision::Limited {
            retry_after: WINDOW
        }
    );
}

/// One key's use leaves another's budget alone.
pub async fn keys_have_their_own_budgets(limiter: Arc<dyn RateLimiter>) {
    let limit = RateLimit { per_minute: 1 };
    assert_eq!(
        limiter.acquire("a", limit, at(0)).await.unwrap(),
        RateDecision::Allowed
    );
    assert!(matches!(
        limiter.acquire("a", limit, at(1)).await.unwrap(),
        RateDecision::Limited { .. }
    ));
    assert_eq!(
        limiter.acquire("b", limit, at(1)).await.unwrap(),
        RateDecision::Allowed
    );
}

/// 40 concurrent acquisitions against a budget of 25: exactly 25 admitted.
pub async fn concurrent_acquisitions_share_one_budget(limiter: Arc<dyn RateLimiter>) {
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move {
                limiter
                    .acquire("shared", RateLimit { per_minute: 25 }, at(i))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        if task.await.unwrap() == RateDecision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 25);
}

/// A shared per-second budget admits `per_second` in any one-second window, apart from the
/// per-minute budget of the same key; a limiter without one answers `None` every time.
pub async fn per_second_budget_is_shared_or_absent(limiter: Arc<dyn RateLimiter>) {
    let Some(first) = limiter.acquire_per_second("d", 3, at(0)).await.unwrap() else {
        assert_eq!(
            limiter.acquire_per_second("d", 3, at(1)).await.unwrap(),
            None
        );
        return;
    };
    assert_eq!(first, RateDecision::Allowed);
    for ms in [100, 200] {
        let decision = limiter.acquire_per_second("d", 3, at(ms)).await.unwrap();
        assert_eq!(decision, Some(RateDecision::Allowed));
    }
    assert_eq!(
        limiter.acquire_per_second("d", 3, at(300)).await.unwrap(),
        Some(RateDecision::Limited {
            retry_after: Duration::from_millis(700)
        })
    );
    assert_eq!(
        limiter
            .acquire("d", RateLimit { per_minute: 1 }, at(300))
            .await
            .unwrap(),
        RateDecision::Allowed,
        "the per-minute budget is another one"
    );
    assert_eq!(
        limiter.acquire_per_second("d", 3, at(1_000)).await.unwrap(),
        Some(RateDecision::Allowed)
    );
}
