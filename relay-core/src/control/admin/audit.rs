//! The audit trail ([`Access::audit`]): field-level diffs in which secrets never appear, appended by every
//! admin operation that changes something.

use serde_json::{Map, Value};

use super::Access;
use super::{AdminError, AuditEntry, FieldChange, Principal};
use crate::model::ids::AuditId;
use crate::model::time::Timestamp;

/// What a secret field shows in a diff instead of its value.
pub const REDACTED: &str = "[redacted]";

impl FieldChange {
    /// A field that was set.
    pub fn added(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self {
            field: field.into(),
            before: None,
            after: Some(value.into()),
        }
    }

    /// A secret field that was set or changed: both sides show [`REDACTED`].
    pub fn secret(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            before: None,
            after: Some(Value::from(REDACTED)),
        }
    }
}

/// The field-level differences between two JSON views of an object, with dotted paths
/// (`retry.max_attempts`) and indexes (`destinations[1]`). Fields named in `secrets` (at
/// any depth) are compared but reported as [`REDACTED`] on both sides, so no secret value
/// can reach the audit log.
///
/// ```
/// use relay_core::control::admin::diff;
/// use serde_json::json;
///
/// let before = json!({"url": "https://a.example/", "auth_header": "Bearer one", "retry": {"max_attempts": 3}});
/// let after = json!({"url": "https://b.example/", "auth_header": "Bearer two", "retry": {"max_attempts": 5}});
/// let changes = diff(&before, &after, &["auth_header"]);
/// let text = serde_json::to_string(&changes).unwrap();
/// assert!(text.contains("retry.max_attempts") && text.contains("https://b.example/"));
/// assert!(text.contains("[redacted]") && !text.contains("Bearer"));
/// ```
pub fn diff(before: &Value, after: &Value, secrets: &[&str]) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    walk("", before, after, secrets, false, &mut changes);
    changes
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn shown(value: Option<&Value>, secret: bool) -> Option<Value> {
    match value {
        None | Some(Value::Null) => None,
        Some(_) if secret => Some(Value::from(REDACTED)),
        Some(v) => Some(v.clone()),
    }
}

fn walk(
    path: &str,
    before: &Value,
    after: &Value,
    secrets: &[&str],
    secret: bool,
    out: &mut Vec<FieldChange>,
) {
    if before == after {
        return;
    }
    let empty = Map::new();
    match (before, after) {
        (Value::Object(_) | Value::Null, Value::Object(_) | Value::Null) if !secret => {
            let (b, a) = (
                before.as_object().unwrap_or(&empty),
                after.as_object().unwrap_or(&empty),
            );
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let hidden = secrets.contains(&key.as_str());
                let (bv, av) = (
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                );
                walk(&join(path, key), bv, av, secrets, hidden, out);
            }
        }
        (Value::Array(b), Value::Array(a)) if !secret => {
            for i in 0..b.len().max(a.len()) {
                let (bv, av) = (
                    b.get(i).unwrap_or(&Value::Null),
                    a.get(i).unwrap_or(&Value::Null),
                );
                walk(&format!("{path}[{i}]"), bv, av, secrets, false, out);
            }
        }
        _ => out.push(FieldChange {
            field: path.to_owned(),
            before: shown(Some(before), secret),
            after: shown(Some(after), secret),
        }),
    }
}

impl Access<'_> {
    /// Appends an audit entry for an action by `by`.
    pub async fn audit(
        &self,
        by: &Principal,
        action: &str,
        object_kind: &str,
        object_id: &str,
        changes: Vec<FieldChange>,
    ) -> Result<(), AdminError> {
        let entry = AuditEntry {
            id: AuditId::new(),
            tenant: by.tenant.clone(),
            at: Timestamp::now(),
            actor: by.actor.clone(),
            action: action.to_owned(),
            object_kind: object_kind.to_owned(),
            object_id: object_id.to_owned(),
            changes,
            client: by.client,
        };
        Ok(self.relay.store().append_audit(entry).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn nested_changes_have_paths() {
        let before = json!({"a": 1, "list": ["x", "y"], "nested": {"k": true}});
        let after = json!({"a": 2, "list": ["x"], "nested": {"k": true, "new": "v"}});
        let fields: Vec<String> = diff(&before, &after, &[])
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(fields, ["a", "list[1]", "nested.new"]);
    }

    #[test]
    fn a_secret_object_is_redacted_whole() {
        let before = json!({"secrets": [{"value": "s3cret-one"}]});
        let after = json!({"secrets": [{"value": "s3cret-one"}, {"value": "s3cret-two"}]});
        let changes = diff(&before, &after, &["secrets"]);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "secrets");
        assert_eq!(changes[0].after, Some(json!(REDACTED)));
    }

    proptest! {
        #[test]
        fn secret_values_never_appear(secret in "[a-zA-Z0-9]{8,24}", other in "[a-z]{1,8}") {
            let before = json!({"name": other, "signing_secret": null, "deep": {"token": "old-token-value"}});
            let after = json!({"name": "n", "signing_secret": secret, "deep": {"token": secret}});
            let text = serde_json::to_string(&diff(&before, &after, &["signing_secret", "token"])).unwrap();
            prop_assert!(!text.contains(&secret));
            prop_assert!(!text.contains("old-token-value"));
        }
    }
}
