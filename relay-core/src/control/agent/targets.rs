//! [`AgentTargets`]: where an agent forwards each destination's attempts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::frames::{normalise_target, target_allowed};

/// Why a list of forward URLs was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetsError {
    /// No URL at all.
    #[error("name at least one URL to forward to")]
    Empty,
    /// A value that is neither `URL` nor `DESTINATION=URL` with an http(s) URL.
    #[error("{0:?} is not an http(s) URL or DESTINATION=URL")]
    Malformed(String),
    /// Two bare URLs (each would be the default).
    #[error(
        "two default URLs ({0:?} and {1:?}): give one, or name each destination (DESTINATION=URL)"
    )]
    TwoDefaults(String, String),
    /// A destination named twice.
    #[error("destination {0:?} is given two URLs")]
    Twice(String),
}

/// Where an agent forwards: a local URL per destination (`--forward billing=http://…`), and a
/// default for every other destination bound to it (a bare `--forward http://…`). URLs are
/// kept normalised.
///
/// ```
/// use relay_core::control::agent::AgentTargets;
/// let targets = AgentTargets::parse([
///     "http://localhost:3000/hooks",
///     "billing=http://localhost:4000/hooks",
/// ]).unwrap();
/// assert_eq!(targets.for_destination("billing"), Some("http://localhost:4000/hooks"));
/// assert_eq!(targets.for_destination("crm"), Some("http://localhost:3000/hooks"));
/// assert!(AgentTargets::parse(["billing=ftp://x/"]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentTargets {
    /// The URL for destinations not named in `destinations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The URL of each named destination.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub destinations: BTreeMap<String, String>,
}

impl AgentTargets {
    /// Only a default URL (already normalised).
    pub fn single(url: impl Into<String>) -> Self {
        Self {
            default: Some(url.into()),
            destinations: BTreeMap::new(),
        }
    }

    /// Parses `--forward` values (or the agent's `X-Relay-Agent-Target` header values): each
    /// is `URL` (the default) or `DESTINATION=URL`, the URL `http://` or `https://`.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, TargetsError> {
        let mut targets = Self::default();
        for value in values {
            let value = value.trim();
            let (destination, url) =
                if value.starts_with("http://") || value.starts_with("https://") {
                    (None, value)
                } else {
                    match value.split_once('=') {
                        Some((name, url)) if !name.trim().is_empty() => (Some(name.trim()), url),
                        _ => return Err(TargetsError::Malformed(value.to_owned())),
                    }
                };
            let url =
                normalise_target(url).ok_or_else(|| TargetsError::Malformed(value.to_owned()))?;
            match destination {
                None => {
                    if let Some(earlier) = targets.default.replace(url.clone()) {
                        return Err(TargetsError::TwoDefaults(earlier, url));
                    }
                }
                Some(name) => {
                    if targets.destinations.insert(name.to_owned(), url).is_some() {
                        return Err(TargetsError::Twice(name.to_owned()));
                    }
                }
            }
        }
        if targets.is_empty() {
            return Err(TargetsError::Empty);
        }
        Ok(targets)
    }

    /// Whether it names no URL.
    pub fn is_empty(&self) -> bool {
        self.default.is_none() && self.destinations.is_empty()
    }

    /// The URL attempts of `destination` go to.
    pub fn for_destination(&self, destination: &str) -> Option<&str> {
        (self.destinations.get(destination))
            .or(self.default.as_ref())
            .map(String::as_str)
    }

    /// Whether `url` is one of its URLs (what an agent forwards to, and nothing else).
    pub fn contains(&self, url: &str) -> bool {
        let Some(url) = normalise_target(url) else {
            return false;
        };
        self.default.as_deref() == Some(url.as_str())
            || self.destinations.values().any(|u| *u == url)
    }

    /// The values it is written as (`URL` and `DESTINATION=URL`), what [`Self::parse`] reads.
    pub fn values(&self) -> Vec<String> {
        (self.default.iter().cloned())
            .chain((self.destinations.iter()).map(|(name, url)| format!("{name}={url}")))
            .collect()
    }

    /// Why `destination`, whose allow list is `allowed`, cannot be delivered through these
    /// targets: no URL for it, or one outside the list.
    pub fn refusal(&self, destination: &str, allowed: &[String]) -> Option<String> {
        match self.for_destination(destination) {
            None => Some(format!(
                "no URL for destination {destination:?}: add --forward {destination}=URL or a default --forward URL"
            )),
            Some(url) if !target_allowed(allowed, url) => Some(format!(
                "{url} is outside the allow_targets of destination {destination:?}"
            )),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_urls_or_named_urls() {
        let targets = AgentTargets::parse(["billing=http://127.0.0.1:4000/hooks"]).unwrap();
        assert_eq!(targets.for_destination("crm"), None);
        assert!(targets.contains("http://127.0.0.1:4000/hooks"));
        assert!(!targets.contains("http://127.0.0.1:4000/other"));
        assert_eq!(
            AgentTargets::parse(targets.values().iter().map(String::as_str)).unwrap(),
            targets
        );
        let refusals = [
            (vec![], TargetsError::Empty),
            (vec!["nope"], TargetsError::Malformed("nope".into())),
            (
                vec!["=http://a/"],
                TargetsError::Malformed("=http://a/".into()),
            ),
            (
                vec!["http://a/", "http://b/"],
                TargetsError::TwoDefaults("http://a/".into(), "http://b/".into()),
            ),
            (
                vec!["x=http://a/", "x=http://b/"],
                TargetsError::Twice("x".into()),
            ),
        ];
        for (values, expected) in refusals {
            assert_eq!(AgentTargets::parse(values).unwrap_err(), expected);
        }
    }

    #[test]
    fn refusals_name_the_destination() {
        let targets = AgentTargets::parse(["crm=http://127.0.0.1:5000/in"]).unwrap();
        let allowed = vec!["http://127.0.0.1:5000/".to_owned()];
        assert_eq!(targets.refusal("crm", &allowed), None);
        assert!(
            targets
                .refusal("billing", &allowed)
                .unwrap()
                .contains("no URL")
        );
        let narrow = vec!["http://127.0.0.1:6000/".to_owned()];
        assert!(targets.refusal("crm", &narrow).unwrap().contains("outside"));
    }
}
