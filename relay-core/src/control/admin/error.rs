//! Why an admin operation failed.

use crate::model::time::Timestamp;
use crate::store::StoreError;

/// One invalid field of a request: its JSON path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's path in the request body, e.g. `destinations[0]` or `retry.max_attempts`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why an admin operation failed. Adapters map each variant to one status code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// No credentials, or credentials that authenticate nobody (401).
    #[error("unauthorized")]
    Unauthorized,
    /// Authenticated, but the role is too low (403).
    #[error("forbidden: needs role {needed}")]
    Forbidden {
        /// The lowest role that may do it.
        needed: super::Role,
    },
    /// Too many failed logins: refused until `until` (429 with `Retry-After`).
    #[error("locked until {until:?}")]
    Locked {
        /// When logins are accepted again.
        until: Timestamp,
    },
    /// No such object for this tenant (404).
    #[error("not found")]
    NotFound,
    /// The object exists already, or the change would break another (409): why.
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed but invalid (422), field by field.
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// A payload does not match its event type's schema (422 `invalid_payload`), field by
    /// field (JSON pointers into the payload).
    #[error("the payload does not match its event type's schema")]
    InvalidPayload(Vec<FieldError>),
    /// The object has secrets to store sealed, and this relay has no credential key to seal
    /// them with (501 `unsupported`): give the builder a
    /// [`keyring`](crate::RelayBuilder::keyring).
    #[error(
        "no credential key is configured to seal secrets with: give Relay::builder() a keyring \
         (the relay binary: RELAY_CREDENTIALS_KEY or delivery.key_file)"
    )]
    NoCredentialKey,
    /// The store failed (503).
    #[error(transparent)]
    Store(StoreError),
    /// Something inside the gateway failed that the client cannot fix (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AdminError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}
