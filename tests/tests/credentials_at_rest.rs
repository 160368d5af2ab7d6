//! Destination credentials are sealed at rest: after a real delivery on the SQLite store, no
//! file of the database (main file, WAL, shared memory) contains a credential in plaintext;
//! the saved destination opens again with the key file, not without it; a rotation re-seals.

use std::path::Path;
use std::sync::Arc;

use relay_core::Relay;
use relay_core::control::credentials::{KeyError, Keyring, SealError};
use relay_core::control::manage::LoadDestinationError;
use relay_core::deliver::destination::{DestinationSettings, HttpDestinationSpec};
use relay_core::deliver::sign_standard_webhook;
use relay_core::model::event::DeliveryStatus;
use relay_core::model::ids::TenantId;
use relay_core::model::secret::Secret;
use relay_core::route::EventRoute;
use relay_core::store::Store;
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::pipeline::Pipeline;
use relay_tests::{Receiver, loopback};

const AUTH: &str = "Bearer plaintext-token-7f3a9c51d2";
const SIGNING: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn spec(url: &str) -> HttpDestinationSpec {
    HttpDestinationSpec {
        name: "crm".into(),
        url: url.to_owned(),
        signing_secret: Some(SIGNING.into()),
        auth_header: Some(AUTH.into()),
        settings: DestinationSettings {
            timeout_ms: Some(5_000),
            ..Default::default()
        },
    }
}

/// Every byte of every file in `dir` whose name starts with `relay.db`. A file SQLite removes
/// between the listing and the read (a journal, say) holds nothing any more and is passed over.
fn database_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("relay.db") {
            match std::fs::read(&path) {
                Ok(contents) => bytes.extend(contents),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => panic!("read {}: {error}", path.display()),
            }
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn open_store(dir: &Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(dir.join("relay.db"), SqliteOptions::default()).expect("sqlite"))
}

/// The same file opened beside its owner (which holds it exclusively), to read it back.
fn open_beside(dir: &Path) -> Arc<dyn Store> {
    let options = SqliteOptions::default().exclusive(false);
    Arc::new(SqliteStore::open(dir.join("relay.db"), options).expect("sqlite"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_is_in_the_database_file_in_plaintext() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("relay.key");
    let receiver = Receiver::ok().await;
    let keyring = Keyring::load_or_create(&key_file).expect("key file");
    let key_id = keyring.primary_id().to_owned();
    let relay = Relay::builder()
        .store(open_store(dir.path()))
        .keyring(keyring)
        .allow_cidrs(loopback())
        .destination(spec(&receiver.url).build().expect("destination"))
        .route(EventRoute::new("all").to(["crm"]));
    let p = Pipeline::start(relay);
    p.relay
        .objects()
        .save_destination(spec(&receiver.url))
        .await
        .expect("saved");
    let event = p.send("at-rest").await;
    p.wait_for(event, "crm", "delivered", |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;

    // The credentials were used...
    let request = &receiver.received()[0];
    assert_eq!(request.headers["authorization"], AUTH);
    let id = request.headers["webhook-id"].to_str().expect("ASCII");
    let ts: i64 = request.headers["webhook-timestamp"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("number");
    let expected = sign_standard_webhook(&Secret::new(SIGNING), id, ts, &request.body);
    assert_eq!(request.headers["webhook-signature"], expected.as_str());
    p.stop().await;

    // ...and the database holds them sealed only.
    let bytes = database_bytes(dir.path());
    assert!(
        contains(&bytes, receiver.url.as_bytes()),
        "the destination was saved"
    );
    assert!(
        contains(&bytes, key_id.as_bytes()),
        "sealed values carry the key id"
    );
    for secret in [
        AUTH,
        "plaintext-token-7f3a9c51d2",
        SIGNING,
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ] {
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "{secret:?} is in the database file"
        );
    }

    // Reopened with the key file, the destination reads back whole.
    let reopened = Relay::builder()
        .store(open_beside(dir.path()))
        .keyring(Keyring::load_or_create(&key_file).expect("key file"))
        .build()
        .expect("relay");
    assert_eq!(
        reopened
            .objects()
            .saved_destinations()
            .await
            .expect("loaded"),
        [spec(&receiver.url)]
    );

    // Without the key it does not.
    let stranger = Relay::builder()
        .store(open_beside(dir.path()))
        .keyring(Keyring::generate())
        .build()
        .expect("relay");
    match stranger.objects().saved_destinations().await {
        Err(LoadDestinationError::Credential {
            source: SealError::UnknownKey(id),
            ..
        }) => assert_eq!(id, key_id),
        other => panic!("opened without the key: {other:?}"),
    }
    let keyless = Relay::builder()
        .store(open_beside(dir.path()))
        .build()
        .expect("relay");
    assert!(matches!(
        keyless.objects().saved_destinations().await,
        Err(LoadDestinationError::NoKeyring(_))
    ));
}

#[tokio::test]
async fn a_rotation_reseals_under_the_new_key() {
    let old = Keyring::new("2025", [1; 32]).expect("key");
    let relay = Relay::builder().keyring(old).build().expect("relay");
    relay
        .objects()
        .save_destination(spec("https://crm.example.com/hooks"))
        .await
        .expect("saved");
    let store = relay.store().clone();

    let rotated = Keyring::new("2026", [2; 32])
        .and_then(|k| k.with_key("2025", [1; 32]))
        .expect("keys");
    let relay = Relay::builder()
        .store(Arc::clone(&store))
        .keyring(rotated)
        .build()
        .expect("relay");
    assert_eq!(
        relay
            .objects()
            .reseal_destinations()
            .await
            .expect("resealed"),
        1
    );
    let records = store
        .destination_records(&TenantId::default())
        .await
        .expect("records");
    for sealed in [&records[0].signing_secret, &records[0].auth_header] {
        let sealed = sealed.as_deref().expect("sealed");
        assert_eq!(Keyring::key_id_of(sealed), Ok("2026"));
    }
    let only_new = Relay::builder()
        .store(store)
        .keyring(Keyring::new("2026", [2; 32]).expect("key"))
        .build()
        .expect("relay");
    assert_eq!(
        only_new
            .objects()
            .saved_destinations()
            .await
            .expect("loaded"),
        [spec("https://crm.example.com/hooks")]
    );
}

#[test]
fn saving_needs_a_keyring_and_a_public_address() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let keyless = Relay::builder().build().expect("relay");
        assert!(
            keyless
                .objects()
                .save_destination(spec("https://crm.example.com/"))
                .await
                .is_err()
        );
        let relay = Relay::builder()
            .keyring(Keyring::generate())
            .build()
            .expect("relay");
        for url in [
            "http://169.254.169.254/",
            "http://localhost:8080/",
            "http://[::ffff:10.0.0.1]/",
        ] {
            assert!(
                relay.objects().save_destination(spec(url)).await.is_err(),
                "{url}"
            );
        }
        assert!(
            relay
                .objects()
                .saved_destinations()
                .await
                .expect("loaded")
                .is_empty()
        );
    });
    assert!(matches!(Keyring::parse(""), Err(KeyError::Empty)));
}
