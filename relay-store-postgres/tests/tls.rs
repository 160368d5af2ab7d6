//! `sslmode=require` against a real PostgreSQL over TLS. The test server speaks plaintext, so
//! a TLS-terminating proxy on loopback stands in front of it: it answers the driver's
//! `SSLRequest` with `S`, completes the handshake with a certificate of a private CA made
//! here, and relays the decrypted protocol to the server. The store trusts that CA only
//! through `sslrootcert`. Skipped loudly without `RELAY_TEST_POSTGRES_URL` (fails with
//! `RELAY_REQUIRE_BACKENDS=1`); the refusals that need no server always run.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use relay_store_postgres::{PgOptions, PgStore, PgStoreError, RootCertError};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use common::TestSchema;

/// The `SSLRequest` message: length 8, then the code 1234.5679.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// A private CA: its PEM, and a server certificate for `127.0.0.1` it signed.
struct Ca {
    pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivateKeyDer<'static>,
}

impl Ca {
    fn new() -> Self {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        Self {
            pem: ca.pem(),
            server_chain: vec![server.der().clone(), ca.der().clone()],
            server_key: PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).unwrap(),
        }
    }

    fn write(&self, dir: &Path) -> String {
        let path = dir.join("root.pem");
        std::fs::write(&path, &self.pem).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

/// The TLS-terminating proxy in front of `upstream`; counts completed handshakes.
struct Proxy {
    addr: SocketAddr,
    handshakes: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(ca: &Ca, upstream: String) -> Self {
        // ring, as everywhere in Relay: rustls 0.23.48 deprecates its provider for lacking
        // post-quantum key exchange (aws-lc-rs has it); moving providers is a decision of its own.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(ca.server_chain.clone(), ca.server_key.clone_key())
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&handshakes);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let _ = relay(client, acceptor, &upstream, &counter).await;
                });
            }
        });
        Self { addr, handshakes }
    }
}

async fn relay(
    mut client: TcpStream,
    acceptor: TlsAcceptor,
    upstream: &str,
    handshakes: &AtomicUsize,
) -> std::io::Result<()> {
    let mut request = [0u8; 8];
    client.read_exact(&mut request).await?;
    if request != SSL_REQUEST {
        return Err(std::io::Error::other(
            "the driver did not ask for TLS first",
        ));
    }
    client.write_all(b"S").await?;
    let mut tls = acceptor.accept(client).await?;
    handshakes.fetch_add(1, Ordering::SeqCst);
    let mut server = TcpStream::connect(upstream).await?;
    tokio::io::copy_bidirectional(&mut tls, &mut server).await?;
    Ok(())
}

/// The `host:port` of a `postgres://[user@]host:port/…` URL, and the URL with another one.
fn split_authority(url: &str) -> (String, impl Fn(SocketAddr) -> String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, rest) = match rest.split_once('@') {
        Some((user, rest)) => (format!("{user}@"), rest),
        None => (String::new(), rest),
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:5432")
    };
    let (scheme, tail) = (scheme.to_owned(), tail.to_owned());
    let with = move |addr: SocketAddr| format!("{scheme}://{user}{addr}{tail}");
    (authority, with)
}

/// `url` with `params` appended to its query.
fn with_params(url: &str, params: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

/// Every message of an error's chain, joined.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(" / ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[tokio::test]
async fn a_store_connects_over_tls_trusting_the_sslrootcert_ca() {
    let Some(schema) = TestSchema::new("a_store_connects_over_tls_trusting_the_sslrootcert_ca")
    else {
        return;
    };
    let ca = Ca::new();
    let dir = tempfile::tempdir().unwrap();
    let root = ca.write(dir.path());
    let (upstream, through) = split_authority(&schema.url);
    let proxy = Proxy::start(&ca, upstream).await;
    let url = with_params(
        &through(proxy.addr),
        &format!("sslmode=require&sslrootcert={root}"),
    );

    let store = PgStore::connect(&url, schema.options()).await.unwrap();
    assert!(proxy.handshakes.load(Ordering::SeqCst) >= 1);
    // The schema was migrated over the TLS connections: the tables are there.
    let tables: i64 = schema
        .admin()
        .await
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            &[&schema.name],
        )
        .await
        .unwrap()
        .get(0);
    assert!(tables > 0, "no table in {}", schema.name);
    drop(store);
}

#[tokio::test]
async fn a_server_signed_by_another_ca_is_refused() {
    let Some(schema) = TestSchema::new("a_server_signed_by_another_ca_is_refused") else {
        return;
    };
    let ca = Ca::new();
    let (upstream, through) = split_authority(&schema.url);
    let proxy = Proxy::start(&ca, upstream).await;
    let other = Ca::new();
    let dir = tempfile::tempdir().unwrap();
    let other_root = other.write(dir.path());
    let base = with_params(&through(proxy.addr), "sslmode=require");
    // Neither the Mozilla list nor the system's roots know the private CA; nor does another CA.
    for url in [
        base.clone(),
        with_params(&base, &format!("sslrootcert={other_root}")),
    ] {
        let error = PgStore::connect(&url, schema.options()).await.unwrap_err();
        let text = chain(&error);
        // UnknownIssuer, or BadSignature for the other CA (rcgen gives both the same name).
        assert!(text.contains("invalid peer certificate"), "{url}: {text}");
    }
    assert_eq!(proxy.handshakes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_missing_sslrootcert_file_fails_before_connecting() {
    // Nothing listens on port 1: the file is read (and refused) before any connection.
    let url = "postgres://relay@127.0.0.1:1/relay?sslmode=require&sslrootcert=/nonexistent/relay/root.pem";
    let error = PgStore::connect(url, PgOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            PgStoreError::RootCert(RootCertError::Read { ref path, .. })
                if path == Path::new("/nonexistent/relay/root.pem")
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("sslrootcert: cannot read \"/nonexistent/relay/root.pem\": "),
        "{error}"
    );
}

#[tokio::test]
async fn sslrootcert_without_sslmode_require_is_refused() {
    let url = "postgres://relay@127.0.0.1:1/relay?sslrootcert=/etc/ssl/root.pem";
    let error = PgStore::connect(url, PgOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, PgStoreError::InvalidUrl { ref reason, .. } if reason == "sslrootcert needs sslmode=require"),
        "{error:?}"
    );
}

#[test]
fn the_url_is_split_around_its_authority() {
    let (authority, with) = split_authority("postgres://postgres@127.0.0.1:5432/postgres");
    assert_eq!(authority, "127.0.0.1:5432");
    assert_eq!(
        with("127.0.0.1:7".parse().unwrap()),
        "postgres://postgres@127.0.0.1:7/postgres"
    );
    let (authority, with) = split_authority("postgresql://localhost?sslmode=disable");
    assert_eq!(authority, "localhost:5432");
    assert_eq!(
        with("127.0.0.1:7".parse().unwrap()),
        "postgresql://127.0.0.1:7?sslmode=disable"
    );
}
