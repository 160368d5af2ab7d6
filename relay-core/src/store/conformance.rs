//! The backend conformance suite: every [`Store`] implementation must pass it.
//!
//! Each case is an `async fn` taking a fresh, empty store. A backend crate expands the whole
//! suite once with [`store_conformance_tests!`](crate::store_conformance_tests), giving it an
//! async factory; the factory may return the store alone or `(store, guard)` where the guard
//! (a temporary directory, a container handle…) lives until the case ends:
//!
//! ```ignore
//! relay_core::store_conformance_tests!(|| async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = MyStore::open(dir.path().join("t.db")).unwrap();
//!     (std::sync::Arc::new(store) as std::sync::Arc<dyn relay_core::store::Store>, dir)
//! });
//! ```
//!
//! The expansion uses `#[tokio::test(flavor = "multi_thread")]`, so the calling crate needs
//! `tokio` (with `macros` and `rt-multi-thread`) as a dev-dependency.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use super::{
    AttemptCompletion, CHANGED_BY_BREAKER, CHANGED_BY_GONE, DeadLetterFilter, InsertOutcome, Lease,
    LeasedDelivery, NewDelivery, NewEvent, NextStep, Store, StoreError,
};
use crate::model::event::{Attempt, AttemptOutcome, DeliveryStatus, Event, EventStatus};
use crate::model::ids::{DeliveryId, EventId, TenantId};
use crate::model::time::Timestamp;

mod access;
mod admin;
mod agents;
mod attempt_detail;
mod audit;
mod browse;
mod bulk_replay;
mod circuit;
mod ingest;
mod objects;
mod ordering;
mod portal;
mod publish;
mod queue;
mod reclaim;
mod retention;
mod search;
mod sig_failures;
mod states;
mod tenants;
mod upgrade;

pub use access::*;
pub use admin::*;
pub use agents::*;
pub use attempt_detail::*;
pub use audit::*;
pub use browse::*;
pub use bulk_replay::*;
pub use circuit::*;
pub use ingest::*;
pub use objects::*;
pub use ordering::*;
pub use portal::*;
pub use publish::*;
pub use queue::*;
pub use reclaim::*;
pub use retention::*;
pub use search::*;
pub use sig_failures::*;
pub use states::*;
pub use tenants::*;
pub use upgrade::*;

/// What a factory hands to the suite: the store, and anything that must outlive the case.
pub trait Fixture: Send + 'static {
    /// The store under test.
    fn store(&self) -> Arc<dyn Store>;
}

impl Fixture for Arc<dyn Store> {
    fn store(&self) -> Arc<dyn Store> {
        Arc::clone(self)
    }
}

impl<G: Send + 'static> Fixture for (Arc<dyn Store>, G) {
    fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.0)
    }
}

/// Expands one `#[tokio::test]` per conformance case, each on a store from `$factory`
/// (a closure returning a future of a [`Fixture`]).
///
/// For a backend that needs a server, `store_conformance_tests!(optional: factory)` takes
/// a factory returning a future of `Option<Fixture>`: with `None` (the factory has said why,
/// e.g. with [`backend_from_env`](crate::testing::backend_from_env)) the case passes
/// without running.
#[macro_export]
macro_rules! store_conformance_tests {
    (optional: $factory:expr) => {
        $crate::store_conformance_tests!(@list [optional] $factory);
        $crate::store_conformance_tests!(@cases [optional] $factory; open_circuit_holds_its_deliveries);
    };
    // A store whose circuits live apart from its queue (Redis in front of a durable store):
    // its lease query cannot see them, so an open circuit's deliveries are leased and put
    // back as before; every other case applies.
    (optional, circuits_apart: $factory:expr) => {
        $crate::store_conformance_tests!(@list [optional] $factory);
    };
    ($factory:expr) => {
        $crate::store_conformance_tests!(@list [required] $factory);
        $crate::store_conformance_tests!(@cases [required] $factory; open_circuit_holds_its_deliveries);
    };
    (@list [$mode:ident] $factory:expr) => {
        $crate::store_conformance_tests!(@cases [$mode] $factory;
            insert_and_read_back,
            duplicate_within_window_returns_original,
            expired_dedup_entry_inserts_again,
            same_key_in_two_tenants_is_two_events,
            concurrent_identical_inserts_insert_once,
            lease_due_oldest_first_with_limit,
            concurrent_leases_are_exclusive,
            expired_lease_is_fenced,
            complete_attempt_moves_delivery_on,
            attempt_details_round_trip,
            release_returns_delivery_to_queue,
            queue_depth_counts_pending_and_in_flight,
            reclaim_takes_back_its_own_leases_only,
            reclaimed_leases_are_fenced,
            reclaimed_lane_head_keeps_its_place,
            dead_letters_filter,
            redrive_is_idempotent,
            schedule_replays_event,
            tenants_are_isolated,
            prune_removes_only_finished_old_events,
            ping_answers,
            circuit_compare_and_set,
            concurrent_circuit_swaps_have_one_winner,
            destination_records_round_trip,
            api_keys_round_trip,
            users_lockout_and_sessions,
            audit_log_pages_newest_first,
            audit_log_filters_by_action,
            objects_are_unique_per_tenant_kind_and_name,
            agent_credentials_are_objects_of_their_own_kind,
            metric_points_merge,
            list_events_filters_and_pages,
            list_events_searches,
            list_events_finds_an_exact_id_by_key,
            dead_letter_pages_and_discard,
            replay_reschedules_discarded,
            ordered_lane_leases_its_head_only,
            ordered_lane_survives_expired_leases,
            ordered_dead_letter_skips_or_blocks,
            ordered_lanes_are_per_tenant_and_destination,
            concurrent_leasers_keep_lanes_in_order,
            tenant_registry_round_trips,
            daily_quota_is_atomic_per_tenant_and_day,
            publishing_commits_once_and_answers_the_original,
            bulk_replay_pages_by_type_glob_in_the_store,
            retention_prunes_sessions_audit_and_metrics_in_batches,
            prune_all_keeps_each_kind_as_long_as_its_retention,
            object_states_round_trip_per_tenant,
            disabled_destination_deliveries_are_not_leased,
            portal_links_are_consumed_once,
            portal_links_are_pruned_once_expired,
            signature_failures_page_newest_first,
            signature_failures_are_pruned,
            agent_deliveries_are_leased_only_where_the_agent_is,
            replay_rebinds_the_agent,
            agent_presence_round_trips_per_node,
        );
    };
    (@cases [$mode:ident] $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(fixture) = $crate::store_conformance_tests!(@fixture [$mode] $factory)
                else {
                    return;
                };
                let store = $crate::store::conformance::Fixture::store(&fixture);
                $crate::store::conformance::$case(store).await;
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

/// A fixed base time for the cases (deliveries of an event are due at its `received_at`).
pub const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

const MINUTE: Duration = Duration::from_secs(60);

fn at(offset_ms: i64) -> Timestamp {
    Timestamp::from_millis(T0.as_millis() + offset_ms)
}

fn tenant(name: &str) -> TenantId {
    TenantId::new(name)
}

/// A new event of `tenant`, from `source` with idempotency key `key`, received at
/// `T0 + offset_ms`, deduplicating for an hour, with one delivery per destination.
pub fn new_event(
    tenant: &TenantId,
    source: &str,
    key: &str,
    offset_ms: i64,
    destinations: &[&str],
) -> NewEvent {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let received_at = at(offset_ms);
    NewEvent {
        event: Event {
            tenant: tenant.clone(),
            id: EventId::new(),
            source: source.to_owned(),
            event_type: "test.event".to_owned(),
            idempotency_key: key.to_owned(),
            headers,
            body: Bytes::from(format!("{{\"key\":\"{key}\"}}")),
            received_at,
            status: if destinations.is_empty() {
                EventStatus::NoRoute
            } else {
                EventStatus::Routed
            },
        },
        dedup_until: received_at.plus(Duration::from_secs(3600)),
        deliveries: plan(destinations),
    }
}

fn plan(destinations: &[&str]) -> Vec<NewDelivery> {
    destinations
        .iter()
        .map(|d| NewDelivery {
            id: DeliveryId::new(),
            destination: (*d).to_owned(),
            route: format!("route-{d}"),
            ordering: None,
            agent: None,
        })
        .collect()
}

async fn insert(store: &dyn Store, new: NewEvent) -> EventId {
    let id = new.event.id;
    assert_eq!(
        store.insert_event(new).await.unwrap(),
        InsertOutcome::Inserted
    );
    id
}

fn attempt(lease: &Lease, number: u32, started_at: Timestamp, outcome: AttemptOutcome) -> Attempt {
    let ok = outcome == AttemptOutcome::Delivered;
    Attempt {
        delivery_id: lease.delivery_id,
        number,
        started_at,
        latency_ms: 12,
        status_code: Some(if ok { 200 } else { 500 }),
        error: (!ok).then(|| format!("http 500 #{number}")),
        response_excerpt: Some("ok".to_owned()),
        outcome,
        detail: Default::default(),
    }
}

/// The completion of attempt `number` under `lease`, started `when`, moving the delivery on
/// to `next` (an answer of 200 when delivered, 500 otherwise).
pub fn completion(
    lease: &Lease,
    number: u32,
    when: Timestamp,
    next: NextStep,
) -> AttemptCompletion {
    let outcome = match next {
        NextStep::Delivered => AttemptOutcome::Delivered,
        NextStep::RetryAt(_) => AttemptOutcome::Retrying,
        NextStep::DeadLettered => AttemptOutcome::DeadLettered,
    };
    AttemptCompletion {
        lease: lease.clone(),
        attempt: attempt(lease, number, when, outcome),
        next,
    }
}

async fn complete(store: &dyn Store, leased: &LeasedDelivery, next: NextStep, when: Timestamp) {
    let number = leased.delivery.attempts + 1;
    store
        .complete_attempt(completion(&leased.lease, number, when, next))
        .await
        .unwrap();
}

/// Leases everything due at `now` and completes each with `next`; returns how many.
async fn finish_due(store: &dyn Store, now: Timestamp, next: NextStep) -> usize {
    let leased = store.lease_due(now, 1000, MINUTE).await.unwrap();
    for l in &leased {
        complete(store, l, next, now).await;
    }
    leased.len()
}
