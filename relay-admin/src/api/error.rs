//! Admin API errors as JSON responses: one status per [`AdminError`] variant.

use http::{HeaderValue, StatusCode, header};
use relay_core::control::admin::{AdminError, FieldError};
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::reply::{IntoReply, Json, Reply};

/// The body of every error answer: `{"error": "<code>", …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// `unauthorized`, `forbidden`, `not_found`, `conflict`, `invalid`, `invalid_payload`
    /// (422: the payload does not match its event type's schema), `invalid_json`,
    /// `locked`, `unavailable`, `unsupported` (501: the store lacks the capability, or no
    /// credential key is configured to seal secrets with) or `internal`.
    pub error: String,
    /// A sentence for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For `invalid`: every invalid field with its path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldErrorBody>,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// The field's path, e.g. `role` or `filter.since`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// An admin operation's failure, answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub AdminError);

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        Self(error)
    }
}

impl ApiError {
    /// A body that is not JSON at all (400 `invalid_json`).
    pub(crate) fn bad_json(message: String) -> Reply {
        body(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            Some(message),
            Vec::new(),
        )
    }
}

fn body(status: StatusCode, code: &str, message: Option<String>, fields: Vec<FieldError>) -> Reply {
    let fields = fields
        .into_iter()
        .map(|f| FieldErrorBody {
            field: f.field,
            message: f.message,
        })
        .collect();
    let body = ErrorBody {
        error: code.to_owned(),
        message,
        fields,
    };
    (status, Json(body)).into_reply()
}

impl IntoReply for ApiError {
    fn into_reply(self) -> Reply {
        match self.0 {
            AdminError::Unauthorized => {
                let mut response = body(StatusCode::UNAUTHORIZED, "unauthorized", None, vec![]);
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"relay\""),
                );
                response
            }
            AdminError::Forbidden { needed } => body(
                StatusCode::FORBIDDEN,
                "forbidden",
                Some(format!("needs role {needed}")),
                vec![],
            ),
            AdminError::Locked { until } => {
                let secs = until
                    .as_millis()
                    .saturating_sub(Timestamp::now().as_millis());
                let secs = (secs / 1000 + 1).max(1);
                let mut response = body(
                    StatusCode::TOO_MANY_REQUESTS,
                    "locked",
                    Some("too many failed logins; try again later".into()),
                    vec![],
                );
                if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            AdminError::NotFound => body(StatusCode::NOT_FOUND, "not_found", None, vec![]),
            AdminError::Conflict(what) => {
                body(StatusCode::CONFLICT, "conflict", Some(what), vec![])
            }
            AdminError::Invalid(fields) => {
                body(StatusCode::UNPROCESSABLE_ENTITY, "invalid", None, fields)
            }
            AdminError::InvalidPayload(fields) => body(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_payload",
                Some("the payload does not match its event type's schema".into()),
                fields,
            ),
            AdminError::NoCredentialKey => body(
                StatusCode::NOT_IMPLEMENTED,
                "unsupported",
                Some(AdminError::NoCredentialKey.to_string()),
                vec![],
            ),
            AdminError::Store(StoreError::Unsupported(capability)) => body(
                StatusCode::NOT_IMPLEMENTED,
                "unsupported",
                Some(format!("the store does not provide {capability}")),
                vec![],
            ),
            AdminError::Store(error) => {
                tracing::warn!(%error, "admin request failed: store unavailable");
                body(StatusCode::SERVICE_UNAVAILABLE, "unavailable", None, vec![])
            }
            // `Internal`, and whatever failure a later relay-core adds: the client cannot fix it.
            _ => body(StatusCode::INTERNAL_SERVER_ERROR, "internal", None, vec![]),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn no_credential_key_is_named_not_a_store_outage() {
        let response = ApiError(AdminError::NoCredentialKey).into_reply();
        assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["error"], "unsupported");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("no credential key is configured"),
            "{message}"
        );
    }

    #[test]
    fn a_conflict_says_why_in_its_own_words() {
        let why = "the default tenant cannot be deleted";
        let response = ApiError(AdminError::Conflict(why.into())).into_reply();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["message"], why);
    }
}
