//! The OpenAPI 3.1 description, generated from the handlers' annotations.

use utoipa::openapi::RefOr;
use utoipa::openapi::path::Operation;
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

/// Gives every response without a description its status's reason phrase ("OK", "Not Found").
/// OpenAPI 3.1 requires a response's `description`; utoipa 6 leaves an empty one out (3.2 made
/// it optional), where utoipa 5 wrote `""`.
struct ResponseDescriptions;

impl Modify for ResponseDescriptions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
                &mut item.query,
            ];
            for operation in operations.into_iter().flatten() {
                describe(operation);
            }
        }
    }
}

fn describe(operation: &mut Operation) {
    for (status, response) in &mut operation.responses.responses {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            let reason = status
                .parse::<u16>()
                .ok()
                .and_then(|code| http::StatusCode::from_u16(code).ok())
                .and_then(|code| code.canonical_reason());
            response.description = reason.unwrap_or("Response").to_owned();
        }
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
    modifiers(&Security, &ResponseDescriptions),
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_has_a_description() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("JSON");
        let paths = doc["paths"].as_object().expect("paths");
        let mut seen = 0;
        for (path, item) in paths {
            for (method, operation) in item.as_object().expect("a path item") {
                let Some(responses) = operation.get("responses").and_then(|r| r.as_object()) else {
                    continue;
                };
                for (status, response) in responses {
                    let description = response["description"].as_str().unwrap_or_default();
                    assert!(
                        !description.is_empty(),
                        "{method} {path} {status}: no description"
                    );
                    seen += 1;
                }
            }
        }
        assert!(seen > 100, "only {seen} responses");
        assert_eq!(
            doc["paths"]["/api/v1/auth/me"]["get"]["responses"]["401"]["description"],
            "Unauthorized"
        );
    }
}
