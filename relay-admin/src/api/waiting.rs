//! Why a pending delivery is not being attempted: its destination is disabled, its circuit is
//! open, or its agent is offline, said in words for the event view.

use relay_core::control::admin::Principal;
use relay_core::model::event::{Delivery, DeliveryStatus};
use relay_core::model::time::Timestamp;

use super::dto::time;
use super::objects::circuit::CircuitItem;
use crate::state::AdminState;

/// Why `delivery` waits, when something other than its retry schedule holds it; `None` for
/// a delivery that is not pending or that nothing holds. `state` is scoped to `by`'s tenant.
pub(crate) async fn why_waiting(
    state: &AdminState,
    by: &Principal,
    delivery: &Delivery,
) -> Option<String> {
    if delivery.status != DeliveryStatus::Pending {
        return None;
    }
    let name = &delivery.destination;
    let Ok(view) = state.relay.objects().destination_view(name) else {
        return Some(format!("destination {name:?} no longer exists"));
    };
    if !view.enabled {
        let why = match view.disabled {
            Some(d) => {
                let reason = if d.reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", d.reason)
                };
                format!(" by {}{reason} at {}", d.by, time(d.at))
            }
            None => String::new(),
        };
        return Some(format!(
            "destination {name} is disabled{why}: deliveries wait until it is enabled"
        ));
    }
    let circuit = (state.relay.store()).circuit(&by.tenant, name).await.ok();
    let circuit = CircuitItem::new(circuit.flatten(), Timestamp::now());
    if circuit.state == "open" {
        let why = circuit.why.map(|w| format!(": {w}")).unwrap_or_default();
        let since = circuit
            .opened_at
            .map(|at| format!(" since {at}"))
            .unwrap_or_default();
        let until = circuit
            .until
            .map(|at| format!("; probes from {at}"))
            .unwrap_or_default();
        return Some(format!("circuit of {name} is open{since}{why}{until}"));
    }
    let catalog = state.relay.catalog();
    let agent = catalog
        .destination(name)
        .and_then(|d| d.agent_name().map(str::to_owned))?;
    let agents = state.relay.agents().list(by).await.ok()?;
    match agents.iter().find(|a| a.name == agent) {
        Some(a) if a.online => None,
        Some(a) if a.revoked => Some(format!(
            "agent {agent} is revoked: deliveries wait until it is rotated and connects"
        )),
        _ => Some(format!(
            "agent {agent} is offline: deliveries wait until it connects"
        )),
    }
}
