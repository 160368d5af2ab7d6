//! The keyring sealing destination credentials: `RELAY_CREDENTIALS_KEY`, else the key file.

use std::path::{Path, PathBuf};

use relay_core::credentials::{KeyError, Keyring};

use crate::config::model::Delivery;

/// Where the key file is: `delivery.key_file`, else `relay.key` beside the database file;
/// `None` for a store without a file (nothing outlives the process, so neither need the key).
pub fn key_file(delivery: &Delivery, database: Option<&Path>) -> Option<PathBuf> {
    match (&delivery.key_file, database) {
        (Some(file), _) => Some(PathBuf::from(file)),
        (None, Some(database)) => Some(database.with_file_name("relay.key")),
        (None, None) => None,
    }
}

/// The keyring from the environment, else from the key file (created on first run), else a
/// fresh one kept in memory.
pub fn keyring(delivery: &Delivery, database: Option<&Path>) -> Result<Keyring, KeyError> {
    if let Some(keyring) = Keyring::from_env()? {
        return Ok(keyring);
    }
    match key_file(delivery, database) {
        Some(path) => Keyring::load_or_create(&path),
        None => Ok(Keyring::generate()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_sits_beside_the_database_unless_configured() {
        let default = Delivery::default();
        assert_eq!(
            key_file(&default, Some(Path::new("/var/lib/relay/relay.db"))),
            Some(PathBuf::from("/var/lib/relay/relay.key"))
        );
        assert_eq!(
            key_file(&default, Some(Path::new("relay.db"))),
            Some(PathBuf::from("relay.key"))
        );
        assert_eq!(key_file(&default, None), None);
        let configured = Delivery {
            key_file: Some("/etc/relay/key".into()),
            ..Delivery::default()
        };
        assert_eq!(
            key_file(&configured, Some(Path::new("relay.db"))),
            Some(PathBuf::from("/etc/relay/key"))
        );
    }
}
