//! HTTPS on the real `relay` binary, with certificates made by the test (a test CA and leaf
//! certificates it signs): a signed webhook ingested over TLS, HTTP/2 when offered, HSTS on
//! every response, a Secure session cookie; the certificate swapped on disk (and on SIGHUP)
//! serves new connections while a kept-alive connection goes on; a broken certificate file is
//! refused while the old one serves; slow handshakes and silent HTTP/2 clients are closed;
//! plain HTTP stays HTTP/1.1 without HSTS; `tls_cert` without `tls_key` (and the reverse) is a
//! configuration error.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SerialNumber};
use relay_tests::{eventually, github_signature};
use support::{free_port, terminate};
use tokio::io::{AsyncRead, AsyncReadExt};

const SECRET: &str = "tls-secret";

/// A certificate authority the test clients trust.
struct TestCa {
    pem: String,
    der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    fn new() -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "relay test CA");
        let cert = params.self_signed(&key).expect("CA certificate");
        Self {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `localhost` and 127.0.0.1: (chain PEM, key PEM, DER).
    fn leaf(&self, serial: u64) -> Leaf {
        let key = KeyPair::generate().expect("leaf key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("leaf params");
        params.serial_number = Some(SerialNumber::from(serial));
        params
            .distinguished_name
            .push(DnType::CommonName, format!("relay test {serial}"));
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        Leaf {
            chain: format!("{}{}", cert.pem(), self.pem),
            key: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }

    /// A client that trusts only this CA, and reports the server's certificate.
    fn client(&self) -> reqwest::Client {
        relay_core::tls::client_builder()
            .tls_certs_only([reqwest::Certificate::from_pem(self.pem.as_bytes()).expect("CA")])
            .tls_info(true)
            .build()
            .expect("client")
    }
}

struct Leaf {
    chain: String,
    key: String,
    der: Vec<u8>,
}

impl Leaf {
    /// Writes the key, then the chain (the order the gateway's docs ask for).
    fn install(&self, dir: &Path) {
        std::fs::write(dir.join("key.pem"), &self.key).expect("write key");
        std::fs::write(dir.join("cert.pem"), &self.chain).expect("write cert");
    }
}

fn write_config(dir: &Path, addr: SocketAddr, tls: &str) -> PathBuf {
    let config = dir.join("relay.toml");
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"
{tls}

[[sources]]
name = "github"
scheme = "github"
secrets = ["{SECRET}"]
"#,
        db = dir.join("relay.db").display(),
    );
    std::fs::write(&config, toml).expect("write config");
    config
}

fn tls_keys(dir: &Path) -> String {
    format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display()
    )
}

fn start(config: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn,relay::tls=info")
        .stdout(std::fs::File::create(log.with_extension("out")).expect("output file"))
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("start relay")
}

/// The DER of the certificate `response` was served with.
fn served_with(response: &reqwest::Response) -> Vec<u8> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("the TLS peer certificate")
        .to_vec()
}

async fn healthz(client: &reqwest::Client, addr: SocketAddr) -> reqwest::Response {
    let response = client
        .get(format!("https://localhost:{}/healthz", addr.port()))
        .send()
        .await
        .expect("HTTPS answers");
    assert_eq!(response.status(), 200);
    response
}

/// Waits (at most 30 s) until `GET /healthz` over HTTPS answers 200; kills the gateway and
/// panics if it does not.
async fn wait_https(
    client: &reqwest::Client,
    addr: SocketAddr,
    relay: &mut Child,
    log: &Path,
) -> reqwest::Response {
    let up = eventually(Duration::from_secs(30), || {
        let request = client
            .get(format!("https://localhost:{}/healthz", addr.port()))
            .send();
        async move { request.await.ok().filter(|r| r.status().is_success()) }
    })
    .await;
    match up {
        Some(up) => up,
        None => {
            let _ = relay.kill();
            panic!(
                "relay did not come up over HTTPS: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

/// A new client (so a new connection) and the certificate it was served.
async fn fresh_certificate(ca: &TestCa, addr: SocketAddr) -> Vec<u8> {
    served_with(&healthz(&ca.client(), addr).await)
}

/// Whether new connections get the certificate `der` within 15 s.
async fn served_soon(ca: &TestCa, addr: SocketAddr, der: &[u8]) -> bool {
    eventually(Duration::from_secs(15), move || async move {
        (fresh_certificate(ca, addr).await == der).then_some(())
    })
    .await
    .is_some()
}

/// How many times `needle` is in the log.
fn logged(log: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.matches(needle).count()
}

/// Waits (at most 15 s) until `needle` is in the log more than `before` times.
async fn wait_for_log(log: &Path, needle: &str, before: usize) {
    let seen = eventually(Duration::from_secs(15), move || async move {
        (logged(log, needle) > before).then_some(())
    })
    .await;
    assert!(seen.is_some(), "no new {needle:?} in the log");
}

const RELOADED: &str = "TLS certificate reloaded";
const REFUSED: &str = "TLS certificate not reloaded";

// Multi-threaded: the clients' connections must answer the server's HTTP/2 GOAWAY while the
// test thread waits for the process to stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_ingest_http2_hsts_and_certificate_reloads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new();
    let first = ca.leaf(1);
    first.install(dir.path());
    let addr = free_port();
    let config = write_config(dir.path(), addr, &tls_keys(dir.path()));
    let log = dir.path().join("relay.log");
    let mut relay = start(&config, &log);

    let kept = ca.client();
    let up = wait_https(&kept, addr, &mut relay, &log).await;
    assert_eq!(
        up.version(),
        reqwest::Version::HTTP_2,
        "h2 offered, h2 served"
    );
    assert_eq!(
        up.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    assert_eq!(served_with(&up), first.der);

    // A signed webhook over HTTPS is accepted.
    let body = r#"{"ref":"refs/heads/main"}"#;
    let ingest = kept
        .post(format!("https://localhost:{}/webhooks/github", addr.port()))
        .header("x-github-event", "push")
        .header("x-github-delivery", "tls-1")
        .header(
            "x-hub-signature-256",
            github_signature(SECRET, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .expect("ingest answers");
    assert_eq!(ingest.status(), 200);
    assert!(ingest.headers().contains_key("strict-transport-security"));
    let answer: serde_json::Value = ingest.json().await.expect("JSON");
    assert_eq!(answer["status"], "accepted", "{answer}");

    // The dashboard's session cookie is Secure.
    let output = std::fs::read_to_string(log.with_extension("out")).expect("relay's output");
    let password = output
        .split("with password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the bootstrap password");
    let login = kept
        .post(format!(
            "https://localhost:{}/api/v1/auth/login",
            addr.port()
        ))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .expect("login answers");
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().expect("text");
    assert!(cookie.ends_with("; Secure"), "{cookie}");

    // A client that offers only HTTP/1.1 gets it.
    let h1 = relay_core::tls::client_builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.pem.as_bytes()).expect("CA")])
        .http1_only()
        .build()
        .expect("client");
    let response = h1
        .get(format!("https://localhost:{}/healthz", addr.port()))
        .send()
        .await
        .expect("HTTP/1.1 over TLS answers");
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );

    // The files change on disk: new connections get the new certificate...
    let second = ca.leaf(2);
    second.install(dir.path());
    assert!(
        served_soon(&ca, addr, &second.der).await,
        "the new certificate was not picked up"
    );
    // ...while the connection kept alive since before goes on with the old one.
    let still = healthz(&kept, addr).await;
    assert_eq!(
        served_with(&still),
        first.der,
        "the kept connection was not replaced"
    );

    // A broken certificate file is refused; the last good one keeps serving.
    let refused = logged(&log, REFUSED);
    std::fs::write(
        dir.path().join("cert.pem"),
        "-----BEGIN CERTIFICATE-----\nbroken\n",
    )
    .expect("write broken cert");
    wait_for_log(&log, REFUSED, refused).await;
    assert_eq!(fresh_certificate(&ca, addr).await, second.der);

    // SIGHUP reads the files again even when their modification times and sizes say nothing
    // changed (so the poll misses the change).
    let reloaded = logged(&log, RELOADED);
    second.install(dir.path());
    wait_for_log(&log, RELOADED, reloaded).await;
    let third = same_size_leaf(&ca, &second);
    replace_keeping_stamp(&dir.path().join("key.pem"), &third.key);
    replace_keeping_stamp(&dir.path().join("cert.pem"), &third.chain);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        fresh_certificate(&ca, addr).await,
        second.der,
        "no reload without a visible change"
    );
    let status = Command::new("kill")
        .args(["-HUP", &relay.id().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(status.success());
    assert!(
        served_soon(&ca, addr, &third.der).await,
        "SIGHUP did not reload the certificate"
    );
    assert_eq!(served_with(&healthz(&kept, addr).await), first.der);

    drop(kept);
    assert!(terminate(&mut relay).success());
}

/// A leaf whose chain and key PEM have the sizes of `like`'s.
fn same_size_leaf(ca: &TestCa, like: &Leaf) -> Leaf {
    (3..1000)
        .map(|serial| ca.leaf(serial))
        .find(|leaf| leaf.chain.len() == like.chain.len() && leaf.key.len() == like.key.len())
        .expect("a leaf of the same size")
}

/// Replaces `path` with `text` (written aside, then renamed over it) with the same
/// modification time as before.
fn replace_keeping_stamp(path: &Path, text: &str) {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("mtime");
    let aside = path.with_extension("new");
    std::fs::write(&aside, text).expect("write");
    let file = std::fs::File::options()
        .write(true)
        .open(&aside)
        .expect("open");
    file.set_modified(modified)
        .expect("set the modification time");
    drop(file);
    std::fs::rename(&aside, path).expect("rename");
}

#[tokio::test]
async fn a_broken_certificate_at_start_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("cert.pem"), "not a certificate").expect("write");
    std::fs::write(dir.path().join("key.pem"), "not a key").expect("write");
    let config = write_config(dir.path(), free_port(), &tls_keys(dir.path()));
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--config")
        .arg(&config)
        .output()
        .expect("run relay");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("TLS:") && stderr.contains("cert.pem"),
        "{stderr}"
    );

    std::fs::remove_file(dir.path().join("cert.pem")).expect("remove");
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--config")
        .arg(&config)
        .output()
        .expect("run relay");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cert.pem: cannot read"), "{stderr}");
}

#[test]
fn one_of_tls_cert_and_tls_key_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("tls_cert = \"cert.pem\"", "server.tls_key: missing"),
        ("tls_key = \"key.pem\"", "server.tls_cert: missing"),
    ];
    for (keys, expected) in cases {
        let config = write_config(dir.path(), free_port(), keys);
        for args in [&["config", "check"][..], &["--config"][..]] {
            let output = Command::new(env!("CARGO_BIN_EXE_relay"))
                .args(args)
                .arg(&config)
                .output()
                .expect("run relay");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?} {keys}: {stderr}");
            assert!(stderr.contains(expected), "{args:?} {keys}: {stderr}");
        }
    }
    let config = write_config(
        dir.path(),
        free_port(),
        "trusted_proxies = [\"10.0.0.0/33\"]",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["config", "check"])
        .arg(&config)
        .output()
        .expect("run relay");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("server.trusted_proxies[0]"), "{stderr}");
}

/// Waits (at most 10 s) for the server to close `stream`: a read that ends or fails.
async fn closed_by_server(mut stream: impl AsyncRead + Unpin) -> bool {
    let mut buf = [0_u8; 64];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_handshakes_and_silent_http2_clients_are_closed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new();
    ca.leaf(1).install(dir.path());
    let addr = free_port();
    let keys = format!("{}\nrequest_timeout_ms = 1000", tls_keys(dir.path()));
    let config = write_config(dir.path(), addr, &keys);
    let log = dir.path().join("relay.log");
    let mut relay = start(&config, &log);
    wait_https(&ca.client(), addr, &mut relay, &log).await;

    // A client that opens TCP and never starts the TLS handshake.
    let silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let started = std::time::Instant::now();
    assert!(
        closed_by_server(silent).await,
        "a silent TCP client was kept"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the deadline"
    );

    // A client that completes TLS, chooses HTTP/2, and never sends its preface.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(ca.der.clone()))
        .expect("CA root");
    // ring, as everywhere in Relay: rustls 0.23.48 deprecates its provider for lacking
    // post-quantum key exchange (aws-lc-rs has it); moving providers is a decision of its own.
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client))
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    assert!(
        closed_by_server(tls).await,
        "a silent HTTP/2 client was kept"
    );

    assert!(terminate(&mut relay).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_stays_http1_without_hsts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = write_config(dir.path(), addr, "");
    let mut relay = support::start(&config, addr, &[]).await;
    let response = relay_core::tls::client()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("HTTP answers");
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert!(!response.headers().contains_key("strict-transport-security"));
    let h2c = relay_core::tls::client_builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let refused = h2c.get(format!("http://{addr}/healthz")).send().await;
    assert!(
        refused.is_err(),
        "HTTP/2 without TLS was served: {refused:?}"
    );
    assert!(terminate(&mut relay).success());
}
