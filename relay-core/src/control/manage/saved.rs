//! Saving HTTP destinations in the store, their credentials sealed, and loading them back.

use crate::control::credentials::SealError;
use crate::control::manage::Objects;
use crate::deliver::destination::{
    DestinationError, DestinationSettings, HttpDestinationSpec, Target,
};
use crate::deliver::guard::BlockedAddress;
use crate::model::ids::TenantId;
use crate::model::secret::Secret;
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::store::{DestinationRecord, StoreError};

/// Why a destination could not be saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveDestinationError {
    /// The URL is not a usable `http`/`https` URL.
    #[error(transparent)]
    Invalid(#[from] DestinationError),
    /// The URL points at an address the SSRF guard refuses.
    #[error(transparent)]
    Blocked(#[from] BlockedAddress),
    /// It has credentials, and the relay has no keyring to seal them with.
    #[error("destination {0:?} has credentials but no credential keyring is configured")]
    NoKeyring(String),
    /// The store could not save it.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why saved destinations could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadDestinationError {
    /// The store could not list them.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A destination has sealed credentials and the relay has no keyring.
    #[error("destination {0:?} has sealed credentials but no credential keyring is configured")]
    NoKeyring(String),
    /// A sealed credential cannot be opened (wrong or missing key, or altered bytes).
    #[error("destination {destination:?}, {field}: {source}")]
    Credential {
        /// The destination.
        destination: String,
        /// `signing_secret` or `auth_header`.
        field: &'static str,
        /// Why.
        #[source]
        source: SealError,
    },
    /// The stored settings do not decode.
    #[error("destination {destination:?}: stored settings: {reason}")]
    Settings {
        /// The destination.
        destination: String,
        /// Why.
        reason: String,
    },
}

/// The associated data a credential is sealed with: it binds the value to one field of one
/// destination of one tenant.
fn context(tenant: &TenantId, name: &str, field: &str) -> Vec<u8> {
    format!("relay/destination/{tenant}/{name}/{field}").into_bytes()
}

impl Relay {
    fn open_record(
        &self,
        tenant: &TenantId,
        record: DestinationRecord,
    ) -> Result<HttpDestinationSpec, LoadDestinationError> {
        let name = record.name;
        let open = |field: &'static str, sealed: Option<Vec<u8>>| {
            let Some(sealed) = sealed else {
                return Ok(None);
            };
            let keyring = self
                .keyring()
                .ok_or_else(|| LoadDestinationError::NoKeyring(name.clone()))?;
            let credential = |source| LoadDestinationError::Credential {
                destination: name.clone(),
                field,
                source,
            };
            let plain = keyring
                .open(&sealed, &context(tenant, &name, field))
                .map_err(credential)?;
            String::from_utf8(plain)
                .map(|text| Some(Secret::new(text)))
                .map_err(|_| credential(SealError::Rejected))
        };
        let settings: DestinationSettings =
            serde_json::from_str(&record.settings).map_err(|e| LoadDestinationError::Settings {
                destination: name.clone(),
                reason: e.to_string(),
            })?;
        Ok(HttpDestinationSpec {
            signing_secret: open("signing_secret", record.signing_secret)?,
            auth_header: open("auth_header", record.auth_header)?,
            url: record.url,
            settings,
            name,
        })
    }
}

impl Objects<'_> {
    /// Saves an HTTP destination for the default tenant and makes it live: the URL must pass
    /// the SSRF guard, the credentials are sealed with the relay's
    /// [`keyring`](crate::RelayBuilder::keyring) (the store never sees them in plaintext), and
    /// the destination replaces any of the same name in the catalog.
    ///
    /// ```
    /// use relay_core::{Relay, control::credentials::Keyring};
    /// use relay_core::deliver::destination::HttpDestinationSpec;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let relay = Relay::builder().keyring(Keyring::generate()).build().unwrap();
    /// let spec = HttpDestinationSpec {
    ///     name: "crm".into(),
    ///     url: "https://crm.example.com/hooks".into(),
    ///     signing_secret: None,
    ///     auth_header: Some("Bearer crm-token".into()),
    ///     settings: Default::default(),
    /// };
    /// relay.objects().save_destination(spec.clone()).await.unwrap();
    /// assert!(relay.catalog().destination("crm").is_some());
    /// assert_eq!(relay.objects().saved_destinations().await.unwrap(), [spec]);
    ///
    /// let internal = HttpDestinationSpec { name: "db".into(), url: "http://10.0.0.5/".into(), auth_header: None, ..Default::default() };
    /// assert!(relay.objects().save_destination(internal).await.is_err());
    /// # }
    /// ```
    pub async fn save_destination(
        &self,
        spec: HttpDestinationSpec,
    ) -> Result<(), SaveDestinationError> {
        let destination = spec.build()?;
        if let Target::Http { url, .. } = destination.target() {
            self.relay.guard().check_url(url)?;
        }
        let tenant = TenantId::default();
        let seal = |field: &str, secret: &Option<Secret>| -> Result<_, SaveDestinationError> {
            let Some(secret) = secret else {
                return Ok(None);
            };
            let keyring = self
                .relay
                .keyring()
                .ok_or_else(|| SaveDestinationError::NoKeyring(spec.name.clone()))?;
            let context = context(&tenant, &spec.name, field);
            Ok(Some(keyring.seal(secret.expose().as_bytes(), &context)))
        };
        let record = DestinationRecord {
            name: spec.name.clone(),
            url: spec.url.clone(),
            signing_secret: seal("signing_secret", &spec.signing_secret)?,
            auth_header: seal("auth_header", &spec.auth_header)?,
            settings: serde_json::to_string(&spec.settings)
                .unwrap_or_else(|_| unreachable!("settings always serialize")),
            updated_at: Timestamp::now(),
        };
        self.relay.store().put_destination(&tenant, record).await?;
        self.relay
            .change_base(|base| base.with_destination(destination));
        self.relay.wake_workers();
        Ok(())
    }

    /// The default tenant's saved destinations, credentials opened.
    pub async fn saved_destinations(
        &self,
    ) -> Result<Vec<HttpDestinationSpec>, LoadDestinationError> {
        let tenant = TenantId::default();
        let records = self.relay.store().destination_records(&tenant).await?;
        records
            .into_iter()
            .map(|record| self.relay.open_record(&tenant, record))
            .collect()
    }

    /// Re-seals every saved credential under the keyring's primary key (after a rotation has
    /// put a new key first); returns how many destinations were saved again.
    pub async fn reseal_destinations(&self) -> Result<usize, ResealError> {
        let saved = self.saved_destinations().await?;
        let count = saved.len();
        for spec in saved {
            self.save_destination(spec).await?;
        }
        Ok(count)
    }
}

/// Why re-sealing stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResealError {
    /// A saved destination could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadDestinationError),
    /// It could not be saved again.
    #[error(transparent)]
    Save(#[from] SaveDestinationError),
}
