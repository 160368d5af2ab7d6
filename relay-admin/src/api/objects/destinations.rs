//! `/api/v1/destinations`: list (with health), read, create, update, delete, enable, disable.

use relay_core::control::admin::{AdminError, Area, Principal};
use relay_core::control::definition::DestinationSpec;
use relay_core::control::manage::{CreatedDestination, DestinationView, ObjectKind, Objects};
use relay_core::model::time::Timestamp;

use super::circuit::CircuitItem;
use super::dto::{CreatedDestinationItem, DestinationItem};
use super::handlers::managed_handlers;
use super::managed::{Managed, ManagedObject};
use crate::api::error::{ApiError, ErrorBody};
use crate::state::AdminState;

/// The destination as listed, with its circuit breaker's state.
pub(super) async fn item(
    state: &AdminState,
    view: DestinationView,
) -> Result<DestinationItem, ApiError> {
    let circuit = (state.relay.store())
        .circuit(state.relay.tenant_id(), &view.name)
        .await
        .map_err(AdminError::from)?;
    Ok(DestinationItem::new(
        view,
        CircuitItem::new(circuit, Timestamp::now()),
    ))
}

/// Destinations: their store calls and JSON shapes (with their health).
pub(crate) struct Destinations;

impl Managed for Destinations {
    type Spec = DestinationSpec;
    type Created = CreatedDestination;
    type CreatedItem = CreatedDestinationItem;

    async fn create(
        objects: Objects<'_>,
        by: &Principal,
        spec: DestinationSpec,
    ) -> Result<CreatedDestination, AdminError> {
        objects.create_destination(by, spec).await
    }

    async fn created_item(
        state: &AdminState,
        created: CreatedDestination,
    ) -> Result<CreatedDestinationItem, ApiError> {
        Ok(CreatedDestinationItem {
            destination: item(state, created.destination).await?,
            signing_secret: created.signing_secret,
        })
    }

    async fn delete(objects: Objects<'_>, by: &Principal, name: &str) -> Result<(), AdminError> {
        objects.delete_destination(by, name).await
    }
}

impl ManagedObject for Destinations {
    const KIND: ObjectKind = ObjectKind::Destination;
    const AREA: Area = Area::Destinations;
    type View = DestinationView;
    type Item = DestinationItem;

    fn views(objects: Objects<'_>) -> Vec<DestinationView> {
        objects.destination_views()
    }

    fn view(objects: Objects<'_>, name: &str) -> Result<DestinationView, AdminError> {
        objects.destination_view(name)
    }

    async fn update(
        objects: Objects<'_>,
        by: &Principal,
        name: &str,
        spec: DestinationSpec,
    ) -> Result<DestinationView, AdminError> {
        objects.update_destination(by, name, spec).await
    }

    async fn item(state: &AdminState, view: DestinationView) -> Result<DestinationItem, ApiError> {
        item(state, view).await
    }
}

managed_handlers! { Destinations, "destinations", "The destination";
    /// Every destination, configured or created here, with its health.
    list -> DestinationItem [(status = 503, body = ErrorBody)];
    /// One destination.
    read -> DestinationItem [(status = 503, body = ErrorBody)];
    /// Creates an HTTP destination (admins). Without `signing_secret` one is generated; it is in
    /// this answer only.
    create(DestinationSpec) -> CreatedDestinationItem;
    /// Replaces a destination created here (admins); `name` must be the path's. A credential
    /// left out is kept, an empty one removed.
    update(DestinationSpec) -> DestinationItem;
    /// Deletes a destination created here (admins); 409 while a route names it.
    delete;
    /// Resumes deliveries to a destination (operators): its held backlog is due at once.
    enable;
    /// Pauses deliveries to a destination (operators): they wait (not leased); nothing is
    /// dropped. Stored, with the reason given, for every node and across restarts and reloads.
    disable;
}
