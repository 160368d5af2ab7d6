//! The OpenAPI 3.1 description, generated from the handlers' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::objects::{destinations, routes, sources, subscriptions};
use super::{
    access, agents, bulk_replay, portal, publish, reload, reports, sig_failures, tenants, traffic,
};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `rk_…`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                super::extract::SESSION_COOKIE,
            ))),
        );
    }
}

/// The admin API's description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Relay admin API", description = "Operate a Relay webhook gateway: sources, destinations and routes; events, deliveries, dead letters, replay, metrics, audit, access."),
    paths(
        access::login, access::logout, access::me,
        access::list_keys, access::create_key, access::revoke_key,
        access::list_users, access::create_user, access::delete_user,
        traffic::list_events, publish::publish, publish::event_types, traffic::event_detail, traffic::replay_event,
        bulk_replay::replay_matching,
        traffic::list_dead_letters, traffic::replay_dead_letters, traffic::discard_dead_letters,
        traffic::replay_dead_letter, traffic::discard_dead_letter,
        reports::audit_log, reports::metric_points, sig_failures::list,
        sources::list, sources::read, sources::create, sources::update, sources::delete,
        sources::enable, sources::disable, sources::rotate_secret,
        destinations::list, destinations::read, destinations::create, destinations::update,
        destinations::delete, destinations::enable, destinations::disable,
        routes::list, routes::read, routes::create, routes::update, routes::delete,
        routes::enable, routes::disable, routes::test, routes::transformers,
        subscriptions::create, subscriptions::delete,
        agents::list, agents::create, agents::revoke, agents::rotate, agents::delete,
        reload::reload,
        tenants::list, tenants::create, tenants::read, tenants::update, tenants::delete,
        tenants::create_key, portal::create,
    ),
    modifiers(&Security),
)]
pub struct ApiDoc;
