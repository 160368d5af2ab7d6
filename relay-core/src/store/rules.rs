//! Domain rules that every backend applies the same way, written once here so that the
//! stores only run their queries.

use crate::model::event::DeliveryStatus;

/// Whether replaying an event skips a destination that already has a delivery in `status`
/// (`None`: a status the store could not read). An in-flight delivery is left to its
/// worker, a delivered one is skipped unless the replay is `force`d; pending, dead-lettered
/// and discarded ones are scheduled again (see [`DeliveryQueue::schedule`](super::DeliveryQueue::schedule)).
///
/// ```
/// use relay_core::model::event::DeliveryStatus;
/// use relay_core::store::replay_skips;
///
/// assert!(replay_skips(Some(DeliveryStatus::InFlight), true));
/// assert!(replay_skips(Some(DeliveryStatus::Delivered), false));
/// assert!(!replay_skips(Some(DeliveryStatus::Delivered), true));
/// assert!(!replay_skips(Some(DeliveryStatus::DeadLettered), false));
/// ```
pub fn replay_skips(status: Option<DeliveryStatus>, force: bool) -> bool {
    match status {
        Some(DeliveryStatus::InFlight) | None => true,
        Some(DeliveryStatus::Delivered) => !force,
        Some(
            DeliveryStatus::Pending | DeliveryStatus::DeadLettered | DeliveryStatus::Discarded,
        ) => false,
    }
}
