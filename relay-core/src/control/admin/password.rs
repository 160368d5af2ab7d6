//! Password hashing with argon2id (PHC strings).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// The shortest password accepted for a user.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Hashing failed (the parameters are fixed, so this does not happen in practice).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes `password` with argon2id and a random salt, as a PHC string.
///
/// ```
/// use relay_core::control::admin::{hash_password, verify_password};
///
/// let hash = hash_password("correct horse battery").unwrap();
/// assert!(hash.starts_with("$argon2id$"));
/// assert!(verify_password("correct horse battery", &hash));
/// assert!(!verify_password("wrong", &hash));
/// ```
pub fn hash_password(password: &str) -> Result<String, HashError> {
    // A 16-byte salt from the operating system's generator (getrandom).
    PasswordHasher::<PasswordHash>::hash_password(&Argon2::default(), password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (in constant time; `false` for a
/// malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A real hash of a password nobody knows, verified against for unknown usernames so that
/// a login takes as long whether the user exists or not.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password(super::token::generate_password().expose()).unwrap_or_default()
    })
}
