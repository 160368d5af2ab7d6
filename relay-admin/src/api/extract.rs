//! The API's request pieces: the authenticated principal (bearer API key or session cookie),
//! JSON bodies and query strings whose errors name the offending field.

use http::header;
use relay_core::control::admin::{AdminError, Principal};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::reply::{IntoReply, Reply};
use crate::request::{FromRequest, Request};

/// The name of the dashboard session cookie.
pub const SESSION_COOKIE: &str = "relay_session";

/// The caller, authenticated by `Authorization: Bearer <API key>` or the session cookie,
/// acting from the request's client address when the adapter knows it (its audit entries
/// record it).
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

/// The session cookie's value, if `headers` carry one.
pub(crate) fn session_cookie(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then_some(value)
        })
}

/// The token of `Authorization: Bearer <token>`, if any.
pub(crate) fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

impl FromRequest for Auth {
    async fn from_request(request: &Request) -> Result<Self, Reply> {
        let headers = &request.parts.headers;
        let access = request.state.relay.access();
        let principal = match (bearer(headers), session_cookie(headers)) {
            (Some(token), _) => access.authenticate_api_key(token).await,
            (None, Some(cookie)) => access.authenticate_session(cookie).await,
            (None, None) => Err(AdminError::Unauthorized),
        };
        principal
            .map(|principal| Self(principal.from_client(request.client().addr)))
            .map_err(|error| ApiError(error).into_reply())
    }
}

/// A JSON body (required: send `{}` for an empty one); a syntax error answers 400
/// `invalid_json`, a missing body or a well-formed body of the wrong shape 422 `invalid` with
/// the field's path.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest for ApiJson<T> {
    async fn from_request(request: &Request) -> Result<Self, Reply> {
        json(&request.body).map(ApiJson).map_err(|refusal| *refusal)
    }
}

/// The body as `T`, or the refusal (boxed: an answer is large).
fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Box<Reply>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let error = AdminError::invalid("body", "a JSON body is required (`{}` for none)");
        return Err(Box::new(ApiError(error).into_reply()));
    }
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        return Err(Box::new(ApiError::bad_json(error.to_string())));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let error = AdminError::invalid("body", "must be a JSON object");
        return Err(Box::new(ApiError(error).into_reply()));
    }
    let mut json = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut json).map_err(|error| {
        let field = match error.path().to_string() {
            path if path == "." => "body".to_owned(),
            path => path,
        };
        Box::new(ApiError(AdminError::invalid(field, error.inner().to_string())).into_reply())
    })
}

/// A query string; a parameter that does not parse answers 422 `invalid` naming it.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest for ApiQuery<T> {
    async fn from_request(request: &Request) -> Result<Self, Reply> {
        let query = request.parts.uri.query().unwrap_or_default();
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(pairs)
            .map(ApiQuery)
            .map_err(|error| {
                let field = match error.path().to_string() {
                    path if path == "." => "query".to_owned(),
                    path => path,
                };
                ApiError(AdminError::invalid(field, error.inner().to_string())).into_reply()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status<T: DeserializeOwned>(body: &[u8]) -> u16 {
        json::<T>(body).err().map_or(200, |r| r.status().as_u16())
    }

    #[test]
    fn bodies_are_refused_with_the_api_codes() {
        type Map = serde_json::Map<String, serde_json::Value>;
        assert_eq!(status::<Map>(b"{}"), 200);
        assert_eq!(status::<Map>(b"  "), 422);
        assert_eq!(status::<Map>(b"{nope"), 400);
        assert_eq!(status::<Map>(b"[1]"), 422);
        #[derive(serde::Deserialize)]
        struct Named {
            #[allow(dead_code)]
            name: String,
        }
        let refusal = json::<Named>(br#"{"name": 1}"#).err().expect("refused");
        let body: serde_json::Value = serde_json::from_slice(refusal.body()).expect("json");
        assert_eq!(body["fields"][0]["field"], "name");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; relay_session=tok; b=2".parse().expect("value"),
        );
        assert_eq!(session_cookie(&headers), Some("tok"));
        headers.insert(header::COOKIE, "relay_session=".parse().expect("value"));
        assert_eq!(session_cookie(&headers), None);
    }
}
