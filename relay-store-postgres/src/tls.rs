//! TLS for `sslmode=require`: rustls (ring) verifying the server against the Mozilla roots.

use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::PgStoreError;

/// A connector that verifies the server's certificate and name.
pub(crate) fn connector() -> Result<MakeRustlsConnect, PgStoreError> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // ring, as everywhere in Relay: rustls 0.23.48 deprecates its provider for lacking
    // post-quantum key exchange (aws-lc-rs has it); moving providers is a decision of its own.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
