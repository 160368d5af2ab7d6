//! Extractors: the authenticated principal (bearer API key or session cookie), JSON bodies
//! and query strings whose errors name the offending field.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use relay_core::control::admin::{AdminError, Principal};
use serde::de::DeserializeOwned;

use super::AdminState;
use super::error::ApiError;

/// The name of the dashboard session cookie.
pub const SESSION_COOKIE: &str = "relay_session";

/// The caller, authenticated by `Authorization: Bearer <API key>` or the session cookie,
/// acting from the request's [`ClientAddr`](crate::ClientAddr) when the server set one (its
/// audit entries record it).
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

/// The session cookie's value, if the request carries one.
pub(crate) fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then_some(value)
        })
}

impl FromRequestParts<AdminState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let principal = match (bearer, session_cookie(parts)) {
            (Some(token), _) => state.relay.access().authenticate_api_key(token).await?,
            (None, Some(cookie)) => state.relay.access().authenticate_session(cookie).await?,
            (None, None) => return Err(AdminError::Unauthorized.into()),
        };
        let client = parts.extensions.get::<crate::ClientAddr>().map(|c| c.0);
        Ok(Self(principal.from_client(client)))
    }
}

/// A JSON body (required: send `{}` for an empty one); a syntax error answers 400
/// `invalid_json`, a missing body or a well-formed body of the wrong shape 422 `invalid` with
/// the field's path.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            let error = AdminError::invalid("body", "a JSON body is required (`{}` for none)");
            return Err(ApiError(error).into_response());
        }
        if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
            return Err(ApiError::bad_json(error.to_string()));
        }
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            let error = AdminError::invalid("body", "must be a JSON object");
            return Err(ApiError(error).into_response());
        }
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut json)
            .map(ApiJson)
            .map_err(|error| {
                let field = match error.path().to_string() {
                    path if path == "." => "body".to_owned(),
                    path => path,
                };
                ApiError(AdminError::invalid(field, error.inner().to_string())).into_response()
            })
    }
}

/// A query string; a parameter that does not parse answers 422 `invalid` naming it.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(pairs)
            .map(ApiQuery)
            .map_err(|error| {
                let field = match error.path().to_string() {
                    path if path == "." => "query".to_owned(),
                    path => path,
                };
                ApiError(AdminError::invalid(field, error.inner().to_string()))
            })
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}
