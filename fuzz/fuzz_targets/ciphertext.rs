//! Opening sealed credentials (key id framing + XChaCha20-Poly1305): arbitrary bytes never
//! panic and never open; what was sealed opens to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relay_core::control::credentials::Keyring;

fuzz_target!(|data: &[u8]| {
    let keyring = Keyring::new("k1", [7u8; 32])
        .and_then(|k| k.with_key("k2", [9u8; 32]))
        .expect("valid keys");
    let _ = Keyring::key_id_of(data);
    assert!(keyring.open(data, b"context").is_err(), "forged bytes opened");
    let sealed = keyring.seal(data, b"context");
    assert_eq!(keyring.open(&sealed, b"context").expect("opens"), data);
    assert!(keyring.open(&sealed, b"other context").is_err());
});
