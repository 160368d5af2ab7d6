//! `form_to_email`: an HTML form POST as a transactional email.

use std::fmt::Write as _;

use http::header::CONTENT_TYPE;
use serde_json::{Value, json};

use super::{TransformError, TransformInput, Transformed, Transformer, require_json};

/// The longest address accepted as `reply_to`.
const MAX_ADDRESS_LEN: usize = 254;

/// Turns a form submission (`application/x-www-form-urlencoded`, or a flat JSON object) into
/// the generic transactional-email shape most email APIs accept:
///
/// ```json
/// {"to": "sales@example.com", "from": "forms@example.com", "reply_to": "ada@example.com",
///  "subject": "New contact request", "text": "New submission on contact-form:\n\nname: Ada…"}
/// ```
///
/// `to`, `from` and `subject` are fixed when it is constructed. `reply_to` is the form's
/// `email` field when it looks like a single address (one `@`, no spaces, line breaks, commas
/// or angle brackets), else `null`. `text` lists every field as `name: value`, in the order the
/// form sent them (JSON objects: by key), multi-line values indented on following lines.
///
/// ```
/// use relay_core::transform::FormToEmail;
/// let t = FormToEmail::new("sales@example.com", "forms@example.com", "New contact request");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormToEmail {
    to: String,
    from: String,
    subject: String,
}

impl FormToEmail {
    /// Emails every submission to `to`, from `from`, with this subject.
    pub fn new(to: impl Into<String>, from: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            to: to.into(),
            from: from.into(),
            subject: subject.into(),
        }
    }

    /// The form's fields in order.
    fn fields(input: &TransformInput<'_>) -> Result<Vec<(String, String)>, TransformError> {
        let is_form = input
            .event
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if is_form
            && let Ok(pairs) =
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(&input.event.body)
        {
            return Ok(pairs);
        }
        match require_json("form_to_email", input)? {
            Value::Object(object) => Ok(object
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect()),
            _ => Err(TransformError(
                "form_to_email: the payload is not a form or a JSON object".into(),
            )),
        }
    }
}

/// `Some(address)` when `text` is one plausible email address.
fn single_address(text: &str) -> Option<&str> {
    let text = text.trim();
    let ok = text.len() <= MAX_ADDRESS_LEN
        && text.matches('@').count() == 1
        && !text.starts_with('@')
        && !text.ends_with('@')
        && !text.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>' | '"')
        });
    ok.then_some(text)
}

impl Transformer for FormToEmail {
    fn transform(&self, input: &TransformInput<'_>) -> Result<Transformed, TransformError> {
        let fields = Self::fields(input)?;
        let mut text = format!("New submission on {}:\n", input.event.source);
        for (name, value) in &fields {
            let value = value.replace("\r\n", "\n").replace('\r', "\n");
            let mut lines = value.lines();
            let _ = write!(text, "\n{name}: {}", lines.next().unwrap_or(""));
            for line in lines {
                let _ = write!(text, "\n  {line}");
            }
        }
        text.push('\n');
        let reply_to = fields
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("email"))
            .and_then(|(_, value)| single_address(value));
        Transformed::json(&json!({
            "to": self.to,
            "from": self.from,
            "reply_to": reply_to,
            "subject": self.subject,
            "text": text,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_support::{body_json, event};
    use http::{HeaderMap, HeaderName, HeaderValue};

    fn run(content_type: Option<&str>, body: &str) -> Result<Transformed, TransformError> {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        }
        let (event, payload) = event("form", headers, body.to_owned());
        FormToEmail::new(
            "sales@example.com",
            "Relay <forms@example.com>",
            "New contact request",
        )
        .transform(&TransformInput {
            event: &event,
            payload: &payload,
            destination: "email",
        })
    }

    #[test]
    fn golden_contact_form() {
        let request = include_str!("fixtures/contact_form.http");
        let (head, body) = request.split_once("\n\n").unwrap();
        let mut headers = HeaderMap::new();
        for line in head.lines().skip(1) {
            let (name, value) = line.split_once(':').unwrap();
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value.trim()).unwrap(),
            );
        }
        let (event, payload) = event("form", headers, body.trim_end().to_owned());
        let out = FormToEmail::new(
            "sales@example.com",
            "Relay <forms@example.com>",
            "New contact request",
        )
        .transform(&TransformInput {
            event: &event,
            payload: &payload,
            destination: "email",
        })
        .unwrap();
        assert_eq!(out.headers[CONTENT_TYPE], "application/json");
        assert_eq!(
            body_json(&out),
            json!({
                "to": "sales@example.com",
                "from": "Relay <forms@example.com>",
                "reply_to": "ada@example.com",
                "subject": "New contact request",
                "text": "New submission on test:\n\
                         \n\
                         name: Ada Lovelace\n\
                         email: ada@example.com\n\
                         company: Analytical Engines Ltd\n\
                         phone: +44 20 7946 0958\n\
                         message: Hello!\n\
                         \x20 We would like a demo of Relay for our team (12 people).\n\
                         \x20 Thanks, Ada\n\
                         consent: on\n"
            })
        );
    }

    #[test]
    fn reply_to_only_for_one_plain_address() {
        let form = Some("application/x-www-form-urlencoded");
        let reply = |body: &str| body_json(&run(form, body).unwrap())["reply_to"].clone();
        assert_eq!(reply("email=a%40b.c"), json!("a@b.c"));
        assert_eq!(reply("Email=+a%40b.c+"), json!("a@b.c"));
        assert_eq!(reply("email=a%40b.c%0D%0ABcc%3A+x%40y.z"), Value::Null);
        assert_eq!(reply("email=a%40b.c%2Cx%40y.z"), Value::Null);
        assert_eq!(reply("email=nobody"), Value::Null);
        assert_eq!(reply("name=x"), Value::Null);
    }

    #[test]
    fn json_objects_work_and_other_payloads_fail() {
        let out =
            body_json(&run(Some("application/json"), r#"{"b": 2, "a": "x", "n": null}"#).unwrap());
        assert_eq!(out["text"], "New submission on test:\n\na: x\nb: 2\nn: \n");
        assert!(run(None, "[1]").unwrap_err().0.contains("not a form"));
        assert!(
            run(Some("text/plain"), "hello")
                .unwrap_err()
                .0
                .contains("not JSON")
        );
    }
}
