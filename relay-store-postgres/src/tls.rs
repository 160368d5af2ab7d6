//! TLS for `sslmode=require`: rustls (ring) verifying the server's certificate and name.
//!
//! The roots it trusts follow libpq's `sslrootcert` URL parameter:
//! - absent: the Mozilla list (webpki-roots) and the operating system's roots (the PEM
//!   bundle and directory OpenSSL reads, or `SSL_CERT_FILE` / `SSL_CERT_DIR`);
//! - `sslrootcert=system`: the operating system's roots only;
//! - `sslrootcert=<path>`: only the certificates in that PEM file (a private CA).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{PgStoreError, RootCertError};

/// The URL parameter naming the roots (libpq's name).
const PARAM: &str = "sslrootcert";

/// Which certificates the server's chain must lead to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Roots {
    /// The Mozilla list and the operating system's roots.
    Default,
    /// `sslrootcert=system`: the operating system's roots.
    System,
    /// `sslrootcert=<path>`: the certificates in this PEM file.
    File(PathBuf),
}

/// Takes `sslrootcert` out of a `postgres://` URL (the driver refuses parameters it does not
/// know), percent-decoded. The last one counts when it is repeated, like every parameter.
pub(crate) fn take_roots(url: &str) -> Result<(String, Roots), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), Roots::Default));
    };
    let mut roots = Roots::Default;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != PARAM {
            kept.push(pair);
            continue;
        }
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| format!("{PARAM} is not UTF-8 once percent-decoded"))?;
        roots = match value.as_ref() {
            "" => return Err(format!("{PARAM} is empty: give a PEM file or `system`")),
            "system" => Roots::System,
            path => Roots::File(PathBuf::from(path)),
        };
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, roots))
}

/// The trusted roots for `roots`.
pub(crate) fn root_store(roots: &Roots) -> Result<RootCertStore, RootCertError> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::Default => {
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            // Unreadable system certificates leave the Mozilla list: a warning, not a failure.
            let (system, errors) = system_roots();
            if !errors.is_empty() {
                tracing::warn!(?errors, "some system root certificates could not be loaded");
            }
            store.add_parsable_certificates(system);
        }
        Roots::System => {
            let (system, errors) = system_roots();
            let (added, _) = store.add_parsable_certificates(system);
            if added == 0 {
                return Err(RootCertError::NoSystemRoots(errors.join("; ")));
            }
        }
        Roots::File(path) => {
            for cert in file_certificates(path)? {
                store
                    .add(cert)
                    .map_err(|source| RootCertError::BadCertificate {
                        path: path.clone(),
                        source,
                    })?;
            }
        }
    }
    Ok(store)
}

/// The operating system's roots, and what could not be read of them.
fn system_roots() -> (Vec<CertificateDer<'static>>, Vec<String>) {
    let loaded = rustls_native_certs::load_native_certs();
    let errors = loaded.errors.iter().map(ToString::to_string).collect();
    (loaded.certs, errors)
}

/// Every certificate of the PEM file at `path` (at least one).
fn file_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, RootCertError> {
    let pem = std::fs::read(path).map_err(|source| RootCertError::Read {
        path: path.to_owned(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| RootCertError::Pem {
            path: path.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(RootCertError::NoCertificate(path.to_owned()));
    }
    Ok(certs)
}

/// A connector that verifies the server's certificate against `roots` and its name.
pub(crate) fn connector(roots: &Roots) -> Result<MakeRustlsConnect, PgStoreError> {
    let roots = root_store(roots)?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const BASE: &str = "postgres://u@db.example:5432/relay";

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn the_parameter_is_taken_out_of_the_url_and_decoded() {
        let cases = [
            (BASE.to_owned(), BASE.to_owned(), Roots::Default),
            (
                format!("{BASE}?sslmode=require"),
                format!("{BASE}?sslmode=require"),
                Roots::Default,
            ),
            (
                format!("{BASE}?sslmode=require&sslrootcert=%2Fetc%2Fca%20dir%2Froot.pem"),
                format!("{BASE}?sslmode=require"),
                Roots::File("/etc/ca dir/root.pem".into()),
            ),
            (
                format!("{BASE}?sslrootcert=/a.pem&sslmode=require&application_name=x"),
                format!("{BASE}?sslmode=require&application_name=x"),
                Roots::File("/a.pem".into()),
            ),
            (
                format!("{BASE}?sslrootcert=system"),
                BASE.to_owned(),
                Roots::System,
            ),
            (
                format!("{BASE}?sslrootcert=/a.pem&sslrootcert=/b.pem"),
                BASE.to_owned(),
                Roots::File("/b.pem".into()),
            ),
        ];
        for (url, kept, roots) in cases {
            assert_eq!(take_roots(&url).unwrap(), (kept, roots), "{url}");
        }
    }

    #[test]
    fn an_empty_or_undecodable_parameter_is_refused() {
        let empty = take_roots(&format!("{BASE}?sslrootcert=")).unwrap_err();
        assert!(empty.contains("sslrootcert is empty"), "{empty}");
        let bad = take_roots(&format!("{BASE}?sslrootcert=%FF")).unwrap_err();
        assert!(bad.contains("not UTF-8"), "{bad}");
    }

    #[test]
    fn a_pem_file_is_all_that_is_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, format!("{}{}", ca_pem(), ca_pem())).unwrap();
        let store = root_store(&Roots::File(path)).unwrap();
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn the_default_adds_the_system_roots_to_the_mozilla_list() {
        let store = root_store(&Roots::Default).unwrap();
        let (system, _) = system_roots();
        assert!(store.len() >= webpki_roots::TLS_SERVER_ROOTS.len());
        assert!(store.len() >= system.len());
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let error = root_store(&Roots::File("/nonexistent/relay/ca.pem".into())).unwrap_err();
        assert!(matches!(error, RootCertError::Read { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("cannot read \"/nonexistent/relay/ca.pem\""),
            "{message}"
        );
    }

    #[test]
    fn a_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key-only.pem");
        let key = rcgen::KeyPair::generate().unwrap();
        std::fs::write(&path, key.serialize_pem()).unwrap();
        let error = root_store(&Roots::File(path.clone())).unwrap_err();
        assert!(
            matches!(error, RootCertError::NoCertificate(_)),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("holds no certificate"),
            "{error}"
        );

        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let error = root_store(&Roots::File(path)).unwrap_err();
        assert!(matches!(error, RootCertError::Pem { .. }), "{error:?}");
    }

    #[test]
    fn a_certificate_rustls_cannot_use_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage.pem");
        // Valid base64 in a CERTIFICATE block, but not DER.
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let error = root_store(&Roots::File(path)).unwrap_err();
        assert!(
            matches!(error, RootCertError::BadCertificate { .. }),
            "{error:?}"
        );
    }
}
