//! The specs as stored: JSON with every secret sealed by the relay's keyring, bound to the
//! tenant, kind and name of its object.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ObjectKind;
use crate::control::credentials::{Keyring, SealError};
use crate::control::definition::{DestinationSpec, RouteSpec, SecretSpec, SourceSpec};
use crate::model::ids::TenantId;

/// What a sealed value starts with in a stored spec.
const SEALED: &str = "sealed:";

/// A spec the admin API manages.
pub(crate) trait ObjectSpec: Serialize + DeserializeOwned + Clone + Send + 'static {
    /// Its kind.
    const KIND: ObjectKind;
    /// The fields that hold secrets (for audit diffs).
    const SECRETS: &'static [&'static str];

    /// Its name.
    fn name(&self) -> &str;

    /// Applies `f` to every secret value, in place.
    fn map_secrets<E>(&mut self, f: impl FnMut(&str) -> Result<String, E>) -> Result<(), E>;
}

impl ObjectSpec for SourceSpec {
    const KIND: ObjectKind = ObjectKind::Source;
    const SECRETS: &'static [&'static str] = &["secrets"];

    fn name(&self) -> &str {
        &self.name
    }

    fn map_secrets<E>(&mut self, mut f: impl FnMut(&str) -> Result<String, E>) -> Result<(), E> {
        for secret in &mut self.secrets {
            match secret {
                SecretSpec::Plain(value) => *value = f(value)?,
                SecretSpec::Expiring(e) => e.value = f(&e.value)?,
            }
        }
        Ok(())
    }
}

impl ObjectSpec for DestinationSpec {
    const KIND: ObjectKind = ObjectKind::Destination;
    const SECRETS: &'static [&'static str] = &["signing_secret", "auth_header"];

    fn name(&self) -> &str {
        &self.name
    }

    fn map_secrets<E>(&mut self, mut f: impl FnMut(&str) -> Result<String, E>) -> Result<(), E> {
        for value in [&mut self.signing_secret, &mut self.auth_header]
            .into_iter()
            .flatten()
        {
            *value = f(value)?;
        }
        Ok(())
    }
}

impl ObjectSpec for RouteSpec {
    const KIND: ObjectKind = ObjectKind::Route;
    const SECRETS: &'static [&'static str] = &[];

    fn name(&self) -> &str {
        &self.name
    }

    fn map_secrets<E>(&mut self, _: impl FnMut(&str) -> Result<String, E>) -> Result<(), E> {
        Ok(())
    }
}

/// Why a stored spec cannot be read back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenSpecError {
    /// It has sealed secrets and the relay has no keyring.
    #[error("it has sealed secrets but no credential keyring is configured")]
    NoKeyring,
    /// A secret does not open (another key, or altered bytes).
    #[error("a sealed secret does not open: {0}")]
    Seal(#[from] SealError),
    /// A secret is not in the sealed form.
    #[error("a secret is stored unsealed or malformed")]
    Malformed,
    /// The JSON does not decode as the spec.
    #[error("stored spec: {0}")]
    Json(#[from] serde_json::Error),
}

fn context(tenant: &TenantId, kind: ObjectKind, name: &str) -> Vec<u8> {
    format!("relay/{kind}/{tenant}/{name}").into_bytes()
}

/// The spec as stored: JSON, secrets sealed. `None` when it has secrets and there is no
/// keyring to seal them with.
pub(crate) fn seal<S: ObjectSpec>(
    spec: &S,
    tenant: &TenantId,
    keyring: Option<&Keyring>,
) -> Option<String> {
    let mut sealed = spec.clone();
    let context = context(tenant, S::KIND, spec.name());
    sealed
        .map_secrets(|value| {
            let keyring = keyring.ok_or(())?;
            let bytes = keyring.seal(value.as_bytes(), &context);
            Ok::<_, ()>(format!("{SEALED}{}", STANDARD.encode(bytes)))
        })
        .ok()?;
    Some(serde_json::to_string(&sealed).unwrap_or_else(|_| unreachable!("specs serialize")))
}

/// The spec a stored JSON holds, secrets opened.
pub(crate) fn open<S: ObjectSpec>(
    json: &str,
    tenant: &TenantId,
    keyring: Option<&Keyring>,
) -> Result<S, OpenSpecError> {
    let mut spec: S = serde_json::from_str(json)?;
    let context = context(tenant, S::KIND, spec.name());
    spec.map_secrets(|value| {
        let encoded = value.strip_prefix(SEALED).ok_or(OpenSpecError::Malformed)?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| OpenSpecError::Malformed)?;
        let keyring = keyring.ok_or(OpenSpecError::NoKeyring)?;
        let plain = keyring.open(&bytes, &context)?;
        String::from_utf8(plain).map_err(|_| OpenSpecError::Malformed)
    })?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sealed_bound_to_their_object_and_open_again() {
        let keyring = Keyring::generate();
        let tenant = TenantId::default();
        let spec = DestinationSpec {
            auth_header: Some("Bearer crm-token".into()),
            ..serde_json::from_str(r#"{"name":"crm","url":"https://crm.example/"}"#).unwrap()
        };
        let stored = seal(&spec, &tenant, Some(&keyring)).unwrap();
        assert!(!stored.contains("crm-token"), "{stored}");
        let opened: DestinationSpec = open(&stored, &tenant, Some(&keyring)).unwrap();
        assert_eq!(opened, spec);
        // Moved to another object, the sealed value does not open.
        let moved = stored.replace("\"crm\"", "\"other\"");
        assert!(matches!(
            open::<DestinationSpec>(&moved, &tenant, Some(&keyring)),
            Err(OpenSpecError::Seal(_))
        ));
        assert!(matches!(
            open::<DestinationSpec>(&stored, &tenant, None),
            Err(OpenSpecError::NoKeyring)
        ));
        assert!(seal(&spec, &tenant, None).is_none());
        let plain = stored.replace("sealed:", "");
        assert!(open::<DestinationSpec>(&plain, &tenant, Some(&keyring)).is_err());
    }

    #[test]
    fn a_tenants_sealed_secret_does_not_open_as_another_tenants() {
        let keyring = Keyring::generate();
        let (acme, globex) = (TenantId::new("acme"), TenantId::new("globex"));
        let spec = DestinationSpec {
            auth_header: Some("Bearer acme-token".into()),
            ..serde_json::from_str(r#"{"name":"crm","url":"https://crm.example/"}"#).unwrap()
        };
        let stored = seal(&spec, &acme, Some(&keyring)).unwrap();
        assert_eq!(
            open::<DestinationSpec>(&stored, &acme, Some(&keyring)).unwrap(),
            spec
        );
        // Same keyring, same kind and name, another tenant: the context differs.
        assert!(matches!(
            open::<DestinationSpec>(&stored, &globex, Some(&keyring)),
            Err(OpenSpecError::Seal(_))
        ));
    }
}
