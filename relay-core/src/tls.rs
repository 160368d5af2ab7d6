//! The crypto provider behind Relay's HTTPS clients.
//!
//! Relay builds reqwest with rustls and no crypto provider of its own (reqwest's
//! `rustls-no-provider`): the whole tree uses rustls's *ring* provider, so there is one
//! cryptography library in the build and no C toolchain for aws-lc. reqwest takes the process's
//! default provider when a client is built and panics when there is none, so every client in
//! Relay is built through [`client_builder`] (or [`client`]), which installs ring first unless the
//! application chose a provider already.
//!
//! An application that builds reqwest clients of its own in the same build (Cargo unifies
//! reqwest's features) calls [`install_crypto_provider`] once at start, or installs the provider
//! of its choice with `rustls::crypto::CryptoProvider::install_default`.

/// Makes rustls's *ring* provider the process default, unless a default is installed already
/// (the application's choice is kept). Safe to call any number of times, from any thread.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // ring, as everywhere in Relay: rustls 0.23.48 deprecates its provider for lacking
        // post-quantum key exchange (aws-lc-rs has it); moving providers is a decision of its own.
        #[allow(deprecated)]
        let ring = rustls::crypto::ring::default_provider();
        // Another thread may install one between the check and here: theirs is as good.
        let _ = ring.install_default();
    }
}

/// `reqwest::Client::builder()` after [`install_crypto_provider`]: a builder whose `build` finds
/// a crypto provider.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

/// `reqwest::Client::new()` after [`install_crypto_provider`]: a client with reqwest's defaults.
///
/// # Panics
///
/// Like `reqwest::Client::new`, when the TLS backend cannot be set up (the system's root
/// certificates cannot be read).
pub fn client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_ring_as_the_process_default_and_builds_a_client() {
        let _client = client_builder().build().expect("a client with ring");
        let installed = rustls::crypto::CryptoProvider::get_default().expect("a default provider");
        #[allow(deprecated)]
        let ring = rustls::crypto::ring::default_provider();
        let names = |p: &rustls::crypto::CryptoProvider| {
            p.kx_groups
                .iter()
                .map(|g| format!("{:?}", g.name()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(installed), names(&ring));
        // A second call keeps the installed default.
        install_crypto_provider();
        let again = rustls::crypto::CryptoProvider::get_default().expect("still installed");
        assert!(std::sync::Arc::ptr_eq(installed, again));
    }
}
