//! Destination credentials encrypted at rest.
//!
//! A destination's `Authorization` value and signing secret are sealed with
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) before they reach the store, so the
//! database file never holds them in plaintext. Every sealed value is framed with the id of the
//! key that sealed it, so keys can be rotated: a [`Keyring`] seals with its primary key and
//! opens with any key it holds.
//!
//! ```text
//!  1 byte   version (1)
//!  1 byte   key id length n (1..=64)
//!  n bytes  key id (ASCII letters, digits, `-`, `_`, `.`)
//! 24 bytes  random nonce
//!  …        ciphertext, then the 16-byte Poly1305 tag
//! ```
//!
//! The header and a caller-chosen context (e.g. which field of which destination) are
//! authenticated as associated data, so a sealed value cannot be moved to another field or
//! another destination, nor its key id changed, without opening failing.
//!
//! ```
//! use relay_core::control::credentials::{Keyring, SealError};
//!
//! let old = Keyring::new("2025-01", [7; 32]).unwrap();
//! let sealed = old.seal(b"Bearer s3cret", b"destination/default/slack/auth_header");
//! assert_eq!(Keyring::key_id_of(&sealed).unwrap(), "2025-01");
//! assert_eq!(old.open(&sealed, b"destination/default/slack/auth_header").unwrap(), b"Bearer s3cret");
//! // Another context (another field, another destination) does not open it.
//! assert_eq!(old.open(&sealed, b"destination/default/other/auth_header"), Err(SealError::Rejected));
//!
//! // Rotation: a new primary key seals, the old one still opens what it sealed.
//! let rotated = Keyring::new("2026-01", [9; 32]).unwrap().with_key("2025-01", [7; 32]).unwrap();
//! assert!(rotated.open(&sealed, b"destination/default/slack/auth_header").is_ok());
//! assert_eq!(Keyring::key_id_of(&rotated.seal(b"x", b"")).unwrap(), "2026-01");
//! ```

mod keyfile;

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

pub use keyfile::{KEY_ENV, KeyError};

/// The framing version written.
const VERSION: u8 = 1;
/// The longest key id.
pub const MAX_KEY_ID: usize = 64;
const NONCE: usize = 24;
const TAG: usize = 16;

/// A sealed value that cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Shorter than its framing says it must be.
    #[error("sealed value truncated ({0} bytes)")]
    Truncated(usize),
    /// Written by an unknown framing version.
    #[error("unknown sealed-value version {0}")]
    UnknownVersion(u8),
    /// The key id in the frame is not a valid key id.
    #[error("malformed key id in sealed value")]
    BadKeyId,
    /// Sealed under a key this keyring does not hold.
    #[error("sealed with key {0:?}, which the keyring does not hold")]
    UnknownKey(String),
    /// Authentication failed: wrong key, wrong context, or altered bytes.
    #[error("sealed value rejected (wrong key or context, or altered)")]
    Rejected,
}

/// Whether `id` is a valid key id: 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
pub fn valid_key_id(id: &str) -> bool {
    (1..=MAX_KEY_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

struct Entry {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The keys credentials are sealed with: a primary key that seals, and older keys that still
/// open what they sealed. Its `Debug` output shows key ids only.
pub struct Keyring {
    keys: Vec<Entry>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Keyring")
            .field("primary", &ids.first())
            .field("key_ids", &ids)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// A keyring whose primary key is `key`, named `id`.
    pub fn new(id: &str, key: [u8; 32]) -> Result<Self, KeyError> {
        Self { keys: Vec::new() }.with_key(id, key)
    }

    /// Adds an older key that opens (but no longer seals) values sealed under `id`.
    pub fn with_key(mut self, id: &str, key: [u8; 32]) -> Result<Self, KeyError> {
        if !valid_key_id(id) {
            return Err(KeyError::BadId(id.to_owned()));
        }
        if self.keys.iter().any(|k| k.id == id) {
            return Err(KeyError::Duplicate(id.to_owned()));
        }
        self.keys.push(Entry {
            id: id.to_owned(),
            cipher: XChaCha20Poly1305::new(&Key::from(key)),
        });
        Ok(self)
    }

    /// A keyring with one fresh random key under a random id.
    pub fn generate() -> Self {
        let (id, key) = keyfile::fresh_key();
        Self {
            keys: vec![Entry {
                cipher: XChaCha20Poly1305::new(&Key::from(key)),
                id,
            }],
        }
    }

    /// The id of the key that seals.
    pub fn primary_id(&self) -> &str {
        self.keys.first().map_or("", |k| k.id.as_str())
    }

    /// The ids of every key held, the primary first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    /// Seals `plaintext` under the primary key, binding `context` to it.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let Some(primary) = self.keys.first() else {
            unreachable!("a keyring always holds its primary key");
        };
        let mut frame = Vec::with_capacity(2 + primary.id.len() + NONCE + plaintext.len() + TAG);
        frame.push(VERSION);
        frame.push(primary.id.len() as u8);
        frame.extend_from_slice(primary.id.as_bytes());
        let header_len = frame.len();
        let nonce: [u8; NONCE] = rand::random();
        frame.extend_from_slice(&nonce);
        let aad = associated_data(&frame[..header_len], context);
        let sealed = primary
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 encrypts any message length"));
        frame.extend_from_slice(&sealed);
        frame
    }

    /// Opens a value sealed with `context` under any key held.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        let frame = Frame::parse(sealed)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == frame.key_id)
            .ok_or_else(|| SealError::UnknownKey(frame.key_id.to_owned()))?;
        let aad = associated_data(frame.header, context);
        key.cipher
            .decrypt(
                frame.nonce,
                Payload {
                    msg: frame.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Rejected)
    }

    /// The id of the key a value was sealed under (to find values to re-seal after a
    /// rotation).
    pub fn key_id_of(sealed: &[u8]) -> Result<&str, SealError> {
        Frame::parse(sealed).map(|f| f.key_id)
    }
}

struct Frame<'a> {
    header: &'a [u8],
    key_id: &'a str,
    nonce: &'a XNonce,
    ciphertext: &'a [u8],
}

impl<'a> Frame<'a> {
    fn parse(sealed: &'a [u8]) -> Result<Self, SealError> {
        let truncated = || SealError::Truncated(sealed.len());
        let (&version, rest) = sealed.split_first().ok_or_else(truncated)?;
        if version != VERSION {
            return Err(SealError::UnknownVersion(version));
        }
        let (&id_len, rest) = rest.split_first().ok_or_else(truncated)?;
        let id_len = usize::from(id_len);
        if rest.len() < id_len + NONCE + TAG {
            return Err(truncated());
        }
        let (id, rest) = rest.split_at(id_len);
        let key_id = std::str::from_utf8(id)
            .ok()
            .filter(|id| valid_key_id(id))
            .ok_or(SealError::BadKeyId)?;
        let (nonce, ciphertext) = rest.split_at(NONCE);
        let nonce = <&XNonce>::try_from(nonce).map_err(|_| truncated())?;
        Ok(Self {
            header: &sealed[..2 + id_len],
            key_id,
            nonce,
            ciphertext,
        })
    }
}

/// The header, then the context, each length-prefixed so that no two pairs run together.
fn associated_data(header: &[u8], context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + header.len() + context.len());
    for part in [header, context] {
        aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ring() -> Keyring {
        Keyring::new("k1", [1; 32]).unwrap()
    }

    #[test]
    fn frame_layout_and_errors() {
        let sealed = ring().seal(b"hello", b"ctx");
        assert_eq!(sealed[0], VERSION);
        assert_eq!(sealed[1], 2);
        assert_eq!(&sealed[2..4], b"k1");
        assert_eq!(sealed.len(), 4 + NONCE + 5 + TAG);
        assert!(!sealed.windows(5).any(|w| w == b"hello"));
        assert_ne!(
            ring().seal(b"hello", b"ctx"),
            sealed,
            "fresh nonce every time"
        );

        let other = Keyring::new("k2", [1; 32]).unwrap();
        assert_eq!(
            other.open(&sealed, b"ctx"),
            Err(SealError::UnknownKey("k1".into()))
        );
        let wrong_key = Keyring::new("k1", [2; 32]).unwrap();
        assert_eq!(wrong_key.open(&sealed, b"ctx"), Err(SealError::Rejected));
        let mut bumped = sealed.clone();
        bumped[0] = 2;
        assert_eq!(
            ring().open(&bumped, b"ctx"),
            Err(SealError::UnknownVersion(2))
        );
        let mut renamed = sealed.clone();
        renamed[2] = b'!';
        assert_eq!(ring().open(&renamed, b"ctx"), Err(SealError::BadKeyId));
        assert_eq!(ring().open(&[], b"ctx"), Err(SealError::Truncated(0)));
        assert_eq!(
            ring().open(&sealed[..20], b"ctx"),
            Err(SealError::Truncated(20))
        );
    }

    #[test]
    fn key_ids_are_checked_and_debug_hides_keys() {
        assert!(matches!(Keyring::new("", [0; 32]), Err(KeyError::BadId(_))));
        assert!(matches!(
            Keyring::new("a b", [0; 32]),
            Err(KeyError::BadId(_))
        ));
        assert!(matches!(
            Keyring::new(&"x".repeat(65), [0; 32]),
            Err(KeyError::BadId(_))
        ));
        assert!(matches!(
            ring().with_key("k1", [3; 32]),
            Err(KeyError::Duplicate(_))
        ));
        let debug = format!("{:?}", Keyring::new("visible-id", [0xAB; 32]).unwrap());
        assert!(debug.contains("visible-id"), "{debug}");
        assert!(
            !debug.to_lowercase().contains("ab, ab") && !debug.contains("171"),
            "{debug}"
        );
        let generated = Keyring::generate();
        assert!(valid_key_id(generated.primary_id()));
    }

    proptest! {
        #[test]
        fn round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..512),
                       context in proptest::collection::vec(any::<u8>(), 0..64)) {
            let ring = ring();
            let sealed = ring.seal(&plaintext, &context);
            prop_assert_eq!(ring.open(&sealed, &context), Ok(plaintext));
        }

        #[test]
        fn any_flipped_bit_is_an_error(plaintext in proptest::collection::vec(any::<u8>(), 0..128),
                                        bit in any::<proptest::sample::Index>()) {
            let ring = ring();
            let mut sealed = ring.seal(&plaintext, b"ctx");
            let bit = bit.index(sealed.len() * 8);
            sealed[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(ring.open(&sealed, b"ctx").is_err());
        }

        #[test]
        fn any_truncation_is_an_error(plaintext in proptest::collection::vec(any::<u8>(), 0..128),
                                      cut in any::<proptest::sample::Index>()) {
            let ring = ring();
            let sealed = ring.seal(&plaintext, b"ctx");
            let keep = cut.index(sealed.len());
            prop_assert!(ring.open(&sealed[..keep], b"ctx").is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let ring = ring();
            let _ = Keyring::key_id_of(&bytes);
            prop_assert!(ring.open(&bytes, b"ctx").is_err());
        }

        #[test]
        fn well_framed_garbage_is_rejected(id_len in 1usize..8, body in proptest::collection::vec(any::<u8>(), 40..200)) {
            let mut frame = vec![VERSION, id_len as u8];
            frame.extend(std::iter::repeat_n(b'k', id_len));
            frame.extend_from_slice(&body);
            let ring = Keyring::new(&"k".repeat(id_len), [1; 32]).unwrap();
            prop_assert_eq!(ring.open(&frame, b"ctx"), Err(SealError::Rejected));
        }
    }
}
