//! Bearer credentials: API keys (`rk_<id>_<secret>`) and session tokens. Only SHA-256
//! digests of their secret parts are stored; they carry 256 bits of randomness, so a fast
//! digest is as safe as a slow password hash here.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use crate::model::secret::Secret;

const KEY_PREFIX: &str = "rk_";
const ID_HEX_LEN: usize = 16;

/// A freshly generated API key: its public id and the whole token (shown once).
#[derive(Debug)]
pub struct NewApiKey {
    /// The public id (`key_…`).
    pub id: String,
    /// The token the client sends as `Authorization: Bearer …`.
    pub token: Secret,
    /// SHA-256 of the token's secret part, for the store.
    pub secret_hash: Vec<u8>,
}

pub(super) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// A new webhook signing secret: `whsec_` and 32 random bytes in base64, the Standard
/// Webhooks form (other schemes take the whole string as their HMAC key).
///
/// ```
/// let secret = relay_core::control::admin::generate_signing_secret();
/// assert!(secret.starts_with("whsec_") && secret.len() == 6 + 44);
/// ```
pub fn generate_signing_secret() -> String {
    use base64::engine::general_purpose::STANDARD;
    format!("whsec_{}", STANDARD.encode(random_bytes::<32>()))
}

/// SHA-256 of `bytes`.
pub(super) fn digest(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// Generates an API key.
///
/// ```
/// use relay_core::control::admin::{generate_api_key, parse_api_key};
///
/// let key = generate_api_key();
/// let (id, hash) = parse_api_key(key.token.expose()).unwrap();
/// assert_eq!((id, hash), (key.id.clone(), key.secret_hash.clone()));
/// assert!(parse_api_key("rk_nothex_x").is_none());
/// ```
pub fn generate_api_key() -> NewApiKey {
    let id = hex::encode(random_bytes::<{ ID_HEX_LEN / 2 }>());
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    NewApiKey {
        id: format!("key_{id}"),
        secret_hash: digest(secret.as_bytes()),
        token: Secret::new(format!("{KEY_PREFIX}{id}_{secret}")),
    }
}

/// Splits a presented API key into its public id (`key_…`) and the digest of its secret
/// part; `None` when it is not shaped like one.
pub fn parse_api_key(token: &str) -> Option<(String, Vec<u8>)> {
    let rest = token.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_at_checked(ID_HEX_LEN)?;
    let secret = secret.strip_prefix('_')?;
    let well_formed = id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && !secret.is_empty()
        && secret.len() <= 128;
    well_formed.then(|| (format!("key_{id}"), digest(secret.as_bytes())))
}

/// A new session token (URL-safe text) and its digest for the store.
pub fn generate_session_token() -> (Secret, Vec<u8>) {
    let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let hash = digest(token.as_bytes());
    (Secret::new(token), hash)
}

/// A password for a bootstrapped admin: 24 URL-safe characters (144 bits).
pub fn generate_password() -> Secret {
    Secret::new(URL_SAFE_NO_PAD.encode(random_bytes::<18>()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_are_unique_and_parse_back() {
        let (a, b) = (generate_api_key(), generate_api_key());
        assert_ne!(a.id, b.id);
        assert_ne!(a.token.expose(), b.token.expose());
        assert!(a.token.expose().starts_with("rk_"));
        assert_eq!(parse_api_key(a.token.expose()).unwrap().0, a.id);
        let tampered = format!("{}x", a.token.expose());
        assert_ne!(parse_api_key(&tampered).unwrap().1, a.secret_hash);
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            "",
            "rk_",
            "rk_0123456789abcdef",
            "rk_0123456789abcdef_",
            "Bearer x",
            "rk_0123456789ABCDEF_abc",
            "rk_0123456789abcde_abc",
        ] {
            assert!(parse_api_key(bad).is_none(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in ".{0,200}") {
            let _ = parse_api_key(&text);
        }
    }
}
