//! The admin API client the bulk commands share: base URL, API key, JSON in and out, and
//! errors that say which call failed and why.

use reqwest::Method;
use serde_json::Value;

use super::args::GatewayArgs;

/// Why a bulk command failed. Exit codes: 2 for bad flags, 3 when the gateway refuses the
/// key, 1 otherwise.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The flags make no sense together, or a value is malformed.
    #[error("{0}")]
    Usage(String),
    /// The gateway could not be reached or answered something that is not the API.
    #[error("{0}")]
    Connect(String),
    /// The gateway refused the key (401) or its role (403).
    #[error("{call} answered {status}: {message}")]
    Refused {
        /// `METHOD path`.
        call: String,
        /// 401 or 403.
        status: u16,
        /// The API's error message.
        message: String,
    },
    /// The gateway answered with another error (404, 422, 503…).
    #[error("{call} answered {status}: {message}")]
    Api {
        /// `METHOD path`.
        call: String,
        /// The status code.
        status: u16,
        /// The API's error message, with the fields it names.
        message: String,
    },
    /// The resume file could not be read or written.
    #[error("resume file {path}: {reason}")]
    Resume {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// A running gateway's admin API.
pub struct Gateway {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Gateway {
    /// A client for `args.url` with `args.token`.
    pub fn new(args: &GatewayArgs) -> Result<Self, OpsError> {
        let mut client = relay_core::tls::client_builder().no_proxy();
        if let Some(path) = &args.ca_file {
            let usage = |e: String| OpsError::Usage(format!("--ca-file {}: {e}", path.display()));
            let pem = std::fs::read(path).map_err(|e| usage(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| usage(e.to_string()))?;
            client = client.tls_certs_merge(certs);
        }
        let base = args.url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(OpsError::Usage(format!(
                "--url {base:?}: an http:// or https:// URL"
            )));
        }
        Ok(Self {
            client: client.build().map_err(|e| OpsError::Usage(e.to_string()))?,
            base,
            token: args.token.clone(),
        })
    }

    /// `GET path?query` (pairs with a `None` value are left out).
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, Option<String>)],
    ) -> Result<Value, OpsError> {
        let pairs: Vec<(&str, &String)> = (query.iter())
            .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v)))
            .collect();
        self.call(Method::GET, path, |r| r.query(&pairs)).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, OpsError> {
        self.call(Method::POST, path, |r| r.json(body)).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<Value, OpsError> {
        let call = format!("{method} {path}");
        let request = (self.client)
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        let response = build(request).send().await.map_err(|e| {
            OpsError::Connect(format!(
                "{call}: cannot reach {}: {}",
                self.base,
                e.without_url()
            ))
        })?;
        let status = response.status().as_u16();
        let text = (response.text().await)
            .map_err(|e| OpsError::Connect(format!("{call}: {}", e.without_url())))?;
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                OpsError::Connect(format!(
                    "{call}: not the admin API's JSON (status {status}): {}",
                    excerpt(&text)
                ))
            })?
        };
        match status {
            200..=299 => Ok(value),
            401 | 403 => Err(OpsError::Refused {
                call,
                status,
                message: message(&value),
            }),
            _ => Err(OpsError::Api {
                call,
                status,
                message: message(&value),
            }),
        }
    }
}

/// An API error's message with the fields it names.
fn message(error: &Value) -> String {
    let mut text = (error["message"].as_str())
        .or_else(|| error["error"].as_str())
        .unwrap_or("no message")
        .to_owned();
    for field in error["fields"].as_array().into_iter().flatten() {
        let name = field["field"].as_str().unwrap_or("?");
        let why = field["message"].as_str().unwrap_or("invalid");
        text.push_str(&format!("; {name}: {why}"));
    }
    text
}

fn excerpt(text: &str) -> String {
    text.chars().take(200).collect()
}

/// `value` as an RFC 3339 time: given as one, or an age (`2h`, `1d 12h`) before now.
pub fn time_flag(flag: &str, value: Option<&str>) -> Result<Option<String>, OpsError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if humantime::parse_rfc3339_weak(value).is_ok() {
        return Ok(Some(value.to_owned()));
    }
    let age = humantime::parse_duration(value).map_err(|_| {
        OpsError::Usage(format!(
            "--{flag} {value:?}: an RFC 3339 time (2026-12-01T00:00:00Z) or an age (2h, 1d)"
        ))
    })?;
    let at = std::time::SystemTime::now()
        .checked_sub(age)
        .ok_or_else(|| OpsError::Usage(format!("--{flag} {value:?}: too long ago")))?;
    Ok(Some(humantime::format_rfc3339_seconds(at).to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn times_are_passed_on_and_ages_become_times() {
        let given = time_flag("since", Some("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!(given.as_deref(), Some("2026-12-01T00:00:00Z"));
        let age = time_flag("since", Some("2h")).unwrap().unwrap();
        let at = humantime::parse_rfc3339(&age).unwrap();
        let ago = std::time::SystemTime::now().duration_since(at).unwrap();
        assert!((7190..=7210).contains(&ago.as_secs()), "{ago:?}");
        assert!(matches!(
            time_flag("until", Some("yesterday")),
            Err(OpsError::Usage(_))
        ));
        assert_eq!(time_flag("since", None).unwrap(), None);
    }

    #[test]
    fn api_errors_name_their_fields() {
        let error = serde_json::json!({"error": "invalid", "message": "invalid request",
            "fields": [{"field": "since", "message": "not an RFC 3339 time"}]});
        assert_eq!(
            message(&error),
            "invalid request; since: not an RFC 3339 time"
        );
        assert_eq!(
            message(&serde_json::json!({"error": "not_found"})),
            "not_found"
        );
    }
}
