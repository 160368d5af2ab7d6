//! The keyring sealing destination credentials: `RELAY_CREDENTIALS_KEY`, else the key file.

use std::path::{Path, PathBuf};

use relay_core::Relay;
use relay_core::control::credentials::{KeyError, Keyring};
use relay_core::control::manage::LoadDestinationError;

use crate::config::model::Delivery;

/// What the store is, as far as its credential key is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backing<'a> {
    /// Nothing outlives the process (`memory://`): a key kept in memory will do.
    Memory,
    /// A database file on this machine (`sqlite://`): the key file may sit beside it.
    File(&'a Path),
    /// A database that outlives this node and is shared with others (`postgres://`): every
    /// node needs the same key, so it must be given; one made up here would fit no other node.
    Shared,
}

/// Why the keyring cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The key material cannot be read, created or parsed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A shared database, and neither the environment nor the configuration names a key.
    #[error(
        "a postgres:// database needs the credential key all its nodes share: set RELAY_CREDENTIALS_KEY or \
         delivery.key_file"
    )]
    Required,
    /// The key does not open the credentials already saved in the shared database.
    #[error(
        "the credential key does not open the destinations saved in the database ({0}); every \
         node sharing a database needs the same key (RELAY_CREDENTIALS_KEY or delivery.key_file; after a \
         rotation keep the old key on a later line)"
    )]
    Mismatch(LoadDestinationError),
    /// The saved destinations cannot be read.
    #[error("reading the saved destinations: {0}")]
    Load(LoadDestinationError),
}

/// Where the key file is: `delivery.key_file`, else `relay.key` beside the database file;
/// `None` for a store without a file that nothing outlives. A shared database has no default:
/// [`KeysError::Required`].
pub fn key_file(delivery: &Delivery, backing: Backing<'_>) -> Result<Option<PathBuf>, KeysError> {
    match (&delivery.key_file, backing) {
        (Some(file), _) => Ok(Some(PathBuf::from(file))),
        (None, Backing::File(database)) => Ok(Some(database.with_file_name("relay.key"))),
        (None, Backing::Memory) => Ok(None),
        (None, Backing::Shared) => Err(KeysError::Required),
    }
}

/// The keyring from the environment, else from the key file (created on first run), else a
/// fresh one kept in memory (`memory://` only).
pub fn keyring(delivery: &Delivery, backing: Backing<'_>) -> Result<Keyring, KeysError> {
    if let Some(keyring) = Keyring::from_env()? {
        return Ok(keyring);
    }
    match key_file(delivery, backing)? {
        Some(path) => Ok(Keyring::load_or_create(&path)?),
        None => Ok(Keyring::generate()),
    }
}

/// Fails when the relay's keyring cannot open the credentials other nodes (or earlier runs)
/// saved in a shared database, rather than re-sealing them under a key those nodes lack.
pub async fn check_shared_key(relay: &Relay) -> Result<(), KeysError> {
    match relay.objects().saved_destinations().await {
        Ok(_) => Ok(()),
        Err(error @ LoadDestinationError::Credential { .. }) => Err(KeysError::Mismatch(error)),
        Err(error) => Err(KeysError::Load(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_sits_beside_the_database_unless_configured() {
        let default = Delivery::default();
        let file = |path: &'static str| Backing::File(Path::new(path));
        assert_eq!(
            key_file(&default, file("/var/lib/relay/relay.db")).unwrap(),
            Some(PathBuf::from("/var/lib/relay/relay.key"))
        );
        assert_eq!(
            key_file(&default, file("relay.db")).unwrap(),
            Some(PathBuf::from("relay.key"))
        );
        assert_eq!(key_file(&default, Backing::Memory).unwrap(), None);
        let configured = Delivery {
            key_file: Some("/etc/relay/key".into()),
            ..Delivery::default()
        };
        assert_eq!(
            key_file(&configured, file("relay.db")).unwrap(),
            Some(PathBuf::from("/etc/relay/key"))
        );
        assert_eq!(
            key_file(&configured, Backing::Shared).unwrap(),
            Some(PathBuf::from("/etc/relay/key"))
        );
    }

    #[test]
    fn a_shared_database_has_no_default_key_file() {
        assert!(matches!(
            key_file(&Delivery::default(), Backing::Shared),
            Err(KeysError::Required)
        ));
    }
}
