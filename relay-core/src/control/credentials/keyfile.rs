//! Where the keys come from: the environment, or a key file created (mode 0600) on first run.
//!
//! Both hold one key per line, `ID:BASE64` (32 bytes of key, standard base64); the first line
//! is the primary key, later lines are older keys kept to open what they sealed; blank lines
//! and `#` comments are skipped. In the environment, entries may also be separated by commas.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::Keyring;

/// The environment variable [`Keyring::from_env`] reads.
pub const KEY_ENV: &str = "RELAY_CREDENTIALS_KEY";

/// Key material that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
    #[error("invalid key id {0:?}")]
    BadId(String),
    /// Two keys share an id.
    #[error("key id {0:?} appears twice")]
    Duplicate(String),
    /// An entry is not `ID:BASE64` of 32 bytes (the reason never quotes the key).
    #[error("key entry {entry}: {reason}")]
    Malformed {
        /// The entry's 1-based position.
        entry: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// No key at all.
    #[error("no key found")]
    Empty,
    /// The key file cannot be read or created.
    #[error("key file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key file can be read by other users.
    #[error("key file {} has mode {mode:o}; it must not be readable by group or others (chmod 600)", path.display())]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// A fresh random key and an id for it.
pub(super) fn fresh_key() -> (String, [u8; 32]) {
    let id = format!("key-{:016x}", rand::random::<u64>());
    (id, rand::random())
}

impl Keyring {
    /// Parses `ID:BASE64` entries (see the module documentation).
    ///
    /// ```
    /// use relay_core::control::credentials::Keyring;
    /// let text = "# rotated 2026-01\nnew:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nold:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n";
    /// let ring = Keyring::parse(text).unwrap();
    /// assert_eq!(ring.key_ids().collect::<Vec<_>>(), ["new", "old"]);
    /// assert!(Keyring::parse("new:c2hvcnQ=").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let entries = text
            .split(['\n', ','])
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'));
        let mut ring: Option<Keyring> = None;
        for (index, entry) in entries.enumerate() {
            let malformed = |reason| KeyError::Malformed {
                entry: index + 1,
                reason,
            };
            let (id, encoded) = entry
                .split_once(':')
                .ok_or_else(|| malformed("expected ID:BASE64"))?;
            let bytes = BASE64
                .decode(encoded.trim())
                .map_err(|_| malformed("the key is not valid base64"))?;
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| malformed("the key must be 32 bytes"))?;
            let id = id.trim();
            ring = Some(match ring {
                None => Keyring::new(id, key)?,
                Some(ring) => ring.with_key(id, key)?,
            });
        }
        ring.ok_or(KeyError::Empty)
    }

    /// The keyring in [`KEY_ENV`], if it is set.
    pub fn from_env() -> Result<Option<Self>, KeyError> {
        match std::env::var(KEY_ENV) {
            Ok(value) if !value.trim().is_empty() => Self::parse(&value).map(Some),
            _ => Ok(None),
        }
    }

    /// The keyring in the key file at `path`; on first run (no such file) a fresh key is
    /// generated and written there with mode 0600. A file that group or others can read is
    /// refused.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        let (id, key) = fresh_key();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                let text = format!(
                    "# Relay credential key: keep it secret and back it up; without it the stored\n\
                     # destination credentials cannot be read. First line seals; later ones still open.\n\
                     {id}:{}\n",
                    BASE64.encode(key)
                );
                file.write_all(text.as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
                tracing::info!(path = %path.display(), key_id = %id, "generated a credential key");
                return Keyring::new(&id, key);
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(io(error)),
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions {
                    path: path.to_owned(),
                    mode,
                });
            }
        }
        Self::parse(&std::fs::read_to_string(path).map_err(io)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_run_creates_a_private_key_file_and_later_runs_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.key");
        let first = Keyring::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let sealed = first.seal(b"token", b"");
        let again = Keyring::load_or_create(&path).unwrap();
        assert_eq!(again.primary_id(), first.primary_id());
        assert_eq!(again.open(&sealed, b"").unwrap(), b"token");
    }

    #[cfg(unix)]
    #[test]
    fn a_readable_key_file_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.key");
        Keyring::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Keyring::load_or_create(&path),
            Err(KeyError::Permissions { mode: 0o644, .. })
        ));
    }

    #[test]
    fn malformed_entries_name_their_position_not_their_value() {
        let key = BASE64.encode([5u8; 32]);
        assert!(Keyring::parse(&format!("a:{key}, b:{key}")).is_ok());
        for (text, entry) in [
            ("nocolon".to_owned(), 1),
            (format!("a:{key}\nb:%%%"), 2),
            (format!("a:{key}\nb:c2hvcnQ="), 2),
        ] {
            match Keyring::parse(&text) {
                Err(error @ KeyError::Malformed { entry: got, .. }) => {
                    assert_eq!(got, entry, "{text}");
                    assert!(!error.to_string().contains(&key));
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            Keyring::parse("# only a comment\n"),
            Err(KeyError::Empty)
        ));
        assert!(matches!(
            Keyring::parse(&format!("a:{key}\na:{key}")),
            Err(KeyError::Duplicate(_))
        ));
    }
}
