//! Publishing through the admin API (`POST /api/v1/events`): the caller's role is checked
//! (`operator` at least) and the event is published in the caller's tenant.

use super::{AdminError, Events, FieldError, Principal, Role};
use crate::publish::{MAX_EVENT_TYPE_LEN, Publish, PublishError, Published};

impl Events<'_> {
    /// Publishes `publish` in `by`'s tenant (see [`crate::publish`]). Needs `operator`.
    ///
    /// ```
    /// use relay_core::control::admin::{AdminError, Principal, Role};
    /// use relay_core::model::ids::TenantId;
    /// use relay_core::publish::Publish;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let relay = relay_core::Relay::builder().build().unwrap();
    /// let mut viewer = Principal::system(TenantId::default());
    /// viewer.role = Role::Viewer;
    /// let publish = Publish::new("invoice.paid", serde_json::json!({"id": 1}));
    /// assert!(matches!(
    ///     relay.events().publish(&viewer, publish.clone()).await,
    ///     Err(AdminError::Forbidden { needed: Role::Operator })
    /// ));
    /// let admin = Principal::system(TenantId::default());
    /// assert!(relay.events().publish(&admin, publish).await.is_ok());
    /// # }
    /// ```
    pub async fn publish(&self, by: &Principal, publish: Publish) -> Result<Published, AdminError> {
        by.require(Role::Operator)?;
        let relay = self.relay.scoped(&by.tenant).await?;
        relay.publish(publish).await.map_err(admin_error)
    }
}

/// The admin API's answer to a refused publish: the field at fault (422), or the store (503).
fn admin_error(error: PublishError) -> AdminError {
    let field =
        |field: String, message: String| AdminError::Invalid(vec![FieldError::new(field, message)]);
    match error {
        PublishError::InvalidEventType => field(
            "event_type".into(),
            format!("must be 1 to {MAX_EVENT_TYPE_LEN} characters"),
        ),
        PublishError::UnknownSource(name) => {
            field("source".into(), format!("no source named {name:?}"))
        }
        PublishError::UnknownDestination { index, name } => field(
            format!("destinations[{index}]"),
            format!("no destination named {name:?}"),
        ),
        PublishError::NoDestinations => field(
            "destinations".into(),
            "must name at least one destination (leave it out to let routes decide)".into(),
        ),
        PublishError::InvalidPayload(errors) => AdminError::InvalidPayload(
            (errors.into_iter())
                .map(|e| FieldError::new(e.field, e.message))
                .collect(),
        ),
        PublishError::Unavailable(error) => AdminError::Store(error),
    }
}
