//! Secrets: redacted in `Debug`, compared in constant time, rotatable with expiries.

use std::fmt;

use crate::model::time::Timestamp;

/// A secret value (a signing key, a credential). Its `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into().into_boxed_str())
    }

    /// The secret value. Call this only where the value is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// One verification secret of a source, valid until an optional expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSecret {
    /// The secret.
    pub secret: Secret,
    /// After this instant the secret no longer verifies.
    pub expires_at: Option<Timestamp>,
}

impl SourceSecret {
    /// A secret without expiry.
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self {
            secret: secret.into(),
            expires_at: None,
        }
    }

    /// A secret that stops verifying at `expires_at`.
    pub fn expiring(secret: impl Into<Secret>, expires_at: Timestamp) -> Self {
        Self {
            secret: secret.into(),
            expires_at: Some(expires_at),
        }
    }

    /// Whether the secret still verifies at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|expiry| now < expiry)
    }
}

/// Compares two byte strings in constant time (for equal lengths).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        let source_secret = SourceSecret::new("hunter2");
        assert!(!format!("{source_secret:?}").contains("hunter2"));
    }

    #[test]
    fn expiry_is_exclusive() {
        let s = SourceSecret::expiring("k", Timestamp::from_millis(10));
        assert!(s.is_active(Timestamp::from_millis(9)));
        assert!(!s.is_active(Timestamp::from_millis(10)));
        assert!(SourceSecret::new("k").is_active(Timestamp::from_millis(i64::MAX)));
    }

    #[test]
    fn constant_time_eq_checks_length_and_content() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
