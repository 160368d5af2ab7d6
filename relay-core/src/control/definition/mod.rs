//! Sources, destinations and routes described as data: the `[[sources]]`, `[[destinations]]`
//! and `[[routes]]` of the standalone gateway's configuration file, and the bodies of the
//! admin API's create and update requests. Each spec is checked field by field: everything
//! wrong is reported as a [`Problem`] with the key it is about, not just the first thing.
//!
//! ```
//! use relay_core::control::definition::{Problem, SourceSpec, literal};
//!
//! let spec: SourceSpec = serde_json::from_value(serde_json::json!({
//!     "name": "github", "scheme": "github", "secrets": ["It's a Secret to Everybody"],
//!     "event_type": "header:x-github-event"
//! })).unwrap();
//! let mut problems = Vec::new();
//! let source = spec.build("sources[0]", &literal, &mut problems).expect("valid");
//! assert_eq!(relay_core::ingest::source::Source::name(&source), "github");
//!
//! let bad: SourceSpec = serde_json::from_value(serde_json::json!({
//!     "name": "forms", "scheme": "generic_hmac", "secrets": ["s"], "encoding": "rot13"
//! })).unwrap();
//! assert!(bad.build("sources[1]", &literal, &mut problems).is_none());
//! assert_eq!(problems[0].key, "sources[1].signature_header");
//! ```

mod destination;
mod route;
mod source;

pub use destination::{DestinationKind, DestinationSpec};
pub use route::{Names, RouteSpec};
pub use source::{ExpiringSecret, RateLimitSpec, SecretSpec, SourceSpec};

/// One thing wrong with a spec: the key it is about and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, e.g. `routes[0].destinations[1]` or `retry.max_attempts`.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl Problem {
    /// A problem with `key`.
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// Turns a secret as written (`key` is where, for problems) into its value, or records why
/// it cannot. The configuration file reads `env:NAME` from the environment; the admin API
/// takes values literally ([`literal`]).
pub type Resolve<'a> = dyn Fn(&str, &str, &mut Vec<Problem>) -> Option<String> + 'a;

/// The [`Resolve`] that takes every value as written.
pub fn literal(_key: &str, value: &str, _problems: &mut Vec<Problem>) -> Option<String> {
    Some(value.to_owned())
}

/// Names must be non-empty, at most 128 characters, and made of ASCII letters, digits, `-`,
/// `_` and `.` (they appear in URLs and metric labels).
pub fn check_name(key: &str, name: &str, problems: &mut Vec<Problem>) {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !valid {
        problems.push(Problem::new(
            key,
            "must be 1 to 128 ASCII letters, digits, '-', '_' or '.'",
        ));
    }
}

#[cfg(test)]
mod tests;
