//! Creating, changing, pausing and deleting destinations.

use super::ObjectKind;
use super::views::DestinationView;
use super::write::invalid;
use crate::control::admin::{AdminError, Area, Principal, Role, generate_signing_secret};
use crate::control::definition::{DestinationSpec, check_name, literal};
use crate::control::manage::Objects;
use crate::relay::Relay;

/// A destination just created, and its signing secret (shown this once).
#[derive(Debug)]
pub struct CreatedDestination {
    /// The destination.
    pub destination: DestinationView,
    /// The Standard Webhooks secret its deliveries are signed with: as given, or generated.
    pub signing_secret: String,
}

impl Relay {
    pub(super) fn checked_destination(&self, spec: &DestinationSpec) -> Result<(), AdminError> {
        let mut problems = Vec::new();
        check_name("name", &spec.name, &mut problems);
        spec.build("", self.guard(), &literal, &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(invalid(problems))
        }
    }
}

impl Objects<'_> {
    /// One live destination.
    pub fn destination_view(&self, name: &str) -> Result<DestinationView, AdminError> {
        (self.destination_views().into_iter())
            .find(|d| d.name == name)
            .ok_or(AdminError::NotFound)
    }

    /// Creates an HTTP destination (admin). Its URL must pass the SSRF guard. Without a
    /// `signing_secret` one is generated; it is returned this once, and the credentials are
    /// stored sealed.
    pub async fn create_destination(
        &self,
        by: &Principal,
        mut spec: DestinationSpec,
    ) -> Result<CreatedDestination, AdminError> {
        self.relay
            .may_change_in(by, Area::Destinations, Role::Admin)?;
        let signing_secret = spec
            .signing_secret
            .get_or_insert_with(generate_signing_secret)
            .clone();
        self.relay.checked_destination(&spec)?;
        self.relay.create_object(by, &spec).await?;
        Ok(CreatedDestination {
            destination: self.destination_view(&spec.name)?,
            signing_secret,
        })
    }

    /// Replaces an API-managed destination's spec (admin); the name in `spec` must be
    /// `name`. A credential left out is kept; an empty one is removed.
    pub async fn update_destination(
        &self,
        by: &Principal,
        name: &str,
        mut spec: DestinationSpec,
    ) -> Result<DestinationView, AdminError> {
        self.relay
            .may_change_in(by, Area::Destinations, Role::Admin)?;
        if spec.name != name {
            return Err(AdminError::invalid("name", "must be the name in the path"));
        }
        self.relay
            .change_object::<DestinationSpec>(by, name, "update", |before| {
                for (field, old) in [
                    (&mut spec.signing_secret, &before.signing_secret),
                    (&mut spec.auth_header, &before.auth_header),
                ] {
                    match field.as_deref() {
                        None => field.clone_from(old),
                        Some("") => *field = None,
                        Some(_) => {}
                    }
                }
                self.relay.checked_destination(&spec)?;
                Ok(Some(spec))
            })
            .await?;
        self.destination_view(name)
    }

    /// Deletes an API-managed destination (admin); refused (409) while a route names it.
    /// Deliveries still queued for it are dead-lettered at their next attempt (with the
    /// reason), to be replayed if a destination of that name comes back.
    pub async fn delete_destination(&self, by: &Principal, name: &str) -> Result<(), AdminError> {
        self.relay
            .may_change_in(by, Area::Destinations, Role::Admin)?;
        self.relay.delete_object::<DestinationSpec>(by, name).await
    }

    /// Pauses or resumes a destination (operator): its deliveries wait, nothing is dropped.
    /// The state is stored (every node follows it; a restart or reload keeps it); see
    /// [`Objects::set_enabled`], which also takes a reason.
    pub async fn set_destination_enabled(
        &self,
        by: &Principal,
        name: &str,
        enabled: bool,
    ) -> Result<(), AdminError> {
        self.set_enabled(by, ObjectKind::Destination, name, enabled, "")
            .await
    }
}
