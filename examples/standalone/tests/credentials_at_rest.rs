//! The gateway seals destination credentials at rest: run the real `relay` binary with an
//! `auth_header` and a signing secret, deliver one event, stop it, then search every file of
//! its database for the credentials. The key file was created beside it with mode 0600.

mod support;

use std::time::Duration;

use relay_tests::{Receiver, eventually};
use support::{free_port, start, terminate};

const AUTH: &str = "Bearer standalone-token-51c0ffee";
const SIGNING: &str = "whsec_c3RhbmRhbG9uZS1zaWduaW5nLWtleQ==";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_holds_no_credential_in_plaintext() {
    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("relay.db");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "demo"
scheme = "none"

[[destinations]]
name = "app"
url = "{url}"
auth_header = "env:RELAY_TEST_AUTH"
signing_secret = "{SIGNING}"

[[routes]]
name = "all"
destinations = ["app"]
"#,
        db = db.display(),
        url = receiver.url,
    );
    std::fs::write(&config, toml).expect("write config");

    let mut gateway = start(
        &config,
        addr,
        &[("RELAY_TEST_AUTH", AUTH), ("RELAY_CREDENTIALS_KEY", "")],
    )
    .await;
    let answer = relay_core::tls::client()
        .post(format!("http://{addr}/webhooks/demo"))
        .header("idempotency-key", "one")
        .header("content-type", "application/json")
        .body(r#"{"hello":"world"}"#)
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(answer.status(), 200);
    eventually(Duration::from_secs(20), || {
        let n = receiver.count();
        async move { (n > 0).then_some(()) }
    })
    .await
    .expect("delivered");
    assert_eq!(receiver.received()[0].headers["authorization"], AUTH);
    terminate(&mut gateway);

    let key_file = dir.path().join("relay.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file)
            .expect("key file created beside the database")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key_id = std::fs::read_to_string(&key_file)
        .expect("key file")
        .lines()
        .find(|l| !l.starts_with('#'))
        .and_then(|l| l.split_once(':'))
        .map(|(id, _)| id.to_owned())
        .expect("a key line");

    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("read dir") {
        let path = entry.expect("entry").path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("relay.db"))
        {
            bytes.extend(std::fs::read(&path).expect("read"));
        }
    }
    assert!(contains(&bytes, &receiver.url), "the destination is saved");
    assert!(
        contains(&bytes, &key_id),
        "its credentials are sealed under the key file's key"
    );
    for secret in [
        AUTH,
        "standalone-token-51c0ffee",
        SIGNING,
        "c3RhbmRhbG9uZS1zaWduaW5nLWtleQ",
    ] {
        assert!(
            !contains(&bytes, secret),
            "{secret:?} is in the database in plaintext"
        );
    }
}
