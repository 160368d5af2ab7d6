//! TLS termination: the certificate chain and key of `server.tls_cert` / `server.tls_key`,
//! read at start and read again when either file changes on disk (polled every few seconds)
//! or on SIGHUP.
//!
//! A reload changes the certificate for new connections only; connections already open keep
//! theirs. A new pair that cannot be used (unreadable, not PEM, a key that does not match the
//! certificate) is refused and logged, and the previous one stays in use. Write the key before
//! the certificate, or replace both files by renaming: a certificate read with the old key is
//! refused, and the pair is read again when the key changes too.

use crate::config::model::TlsFiles;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// How often the certificate and key files are checked for changes.
const POLL_EVERY: Duration = Duration::from_secs(2);

/// The protocols offered in ALPN, preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Why a certificate and key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate file holds no PEM certificate, or a broken one.
    #[error("{}: not a PEM certificate chain: {reason}", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key file holds no PEM private key, or a broken one.
    #[error("{}: not a PEM private key (PKCS#8, PKCS#1 or SEC1): {reason}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The certificate and key do not make a usable pair (a key of another certificate, an
    /// unsupported key type).
    #[error("{} with {}: {source}", cert.display(), key.display())]
    Rejected {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why.
        source: rustls::Error,
    },
}

/// The TLS settings new connections are accepted with; cheap to clone.
#[derive(Clone)]
pub struct Tls {
    current: watch::Receiver<Arc<ServerConfig>>,
}

impl Tls {
    /// Reads `files` (an error if they cannot be used) and starts following them: the
    /// returned task reads them again when they change or on SIGHUP.
    pub fn start(files: TlsFiles) -> Result<(Self, JoinHandle<()>), TlsError> {
        let seen = Stamp::of(&files);
        let config = load(&files)?;
        let (sender, current) = watch::channel(config);
        let task = tokio::spawn(follow(files, sender, seen));
        Ok((Self { current }, task))
    }

    /// An acceptor with the certificate in use now.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.current.borrow()))
    }
}

/// Reads the certificate chain and key of `files` into a server configuration offering
/// HTTP/2 and HTTP/1.1.
pub fn load(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let cert_pem = read(&files.cert)?;
    let key_pem = read(&files.key)?;
    let certificate = |reason: String| TlsError::Certificate {
        path: files.cert.clone(),
        reason,
    };
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| certificate(e.to_string()))?;
    if chain.is_empty() {
        return Err(certificate("no CERTIFICATE block".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Key {
        path: files.key.clone(),
        reason: e.to_string(),
    })?;
    let rejected = |source| TlsError::Rejected {
        cert: files.cert.clone(),
        key: files.key.clone(),
        source,
    };
    // ring, as everywhere in Relay: rustls 0.23.48 deprecates its provider for lacking
    // post-quantum key exchange (aws-lc-rs has it); moving providers is a decision of its own.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(rejected)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(rejected)?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// What identifies a version of the two files: their modification times and sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp([Option<(SystemTime, u64)>; 2]);

impl Stamp {
    fn of(files: &TlsFiles) -> Self {
        let one = |path: &Path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        };
        Self([one(&files.cert), one(&files.key)])
    }
}

/// Reads `files` again whenever their stamp changes or SIGHUP arrives, until the server stops.
async fn follow(files: TlsFiles, sender: watch::Sender<Arc<ServerConfig>>, mut seen: Stamp) {
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut hangups = Hangups::new();
    loop {
        let asked = tokio::select! {
            _ = poll.tick() => false,
            () = hangups.recv() => true,
        };
        let stamp = Stamp::of(&files);
        if !asked && stamp == seen {
            continue;
        }
        seen = stamp;
        match load(&files) {
            Ok(config) => {
                sender.send_replace(config);
                tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded; new connections use it");
            }
            Err(error) => {
                tracing::warn!(%error, "TLS certificate not reloaded; the previous one stays in use");
            }
        }
    }
}

/// SIGHUP, on Unix; never elsewhere or when the signal cannot be listened to.
struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signal = signal(SignalKind::hangup())
                .inspect_err(
                    |error| tracing::warn!(%error, "cannot listen to SIGHUP for TLS reloads"),
                )
                .ok();
            Self { signal }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
            self.signal = None;
        }
        std::future::pending::<()>().await;
    }
}
