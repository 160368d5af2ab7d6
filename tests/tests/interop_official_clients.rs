//! Signatures produced by each provider's official client library verify under Relay's schemes,
//! and Relay's outbound Standard Webhooks signatures verify under the official libraries.
//!
//! Needs the libraries installed by `scripts/interop/setup.sh`, found through:
//! - `RELAY_INTEROP_PYTHON`: a Python with `stripe`, `standardwebhooks`, `svix`, `slack-sdk`;
//! - `RELAY_INTEROP_NODE_MODULES`: a `node_modules` folder with `@octokit/webhooks-methods`.
//!
//! Without them each test prints `SKIPPED: …` and passes, unless `RELAY_REQUIRE_BACKENDS=1`, in
//! which case it fails. `interop_gateway` sends such requests to a running gateway; this file
//! checks the schemes directly, timestamps and rotation included.
//!
//! Run with: `scripts/interop/setup.sh && eval "$(scripts/interop/setup.sh --print-env)" &&
//! cargo test -p relay-tests --test interop_official_clients`

use std::path::Path;
use std::time::Duration;

use http::HeaderMap;
use relay_core::deliver::sign_standard_webhook;
use relay_core::ingest::signature::{
    GitHub, SignatureScheme, SignedRequest, Slack, StandardWebhooks, Stripe, Svix, VerifyError,
};
use relay_core::model::secret::{Secret, SourceSecret};
use relay_core::model::time::Timestamp;
use relay_tests::interop::{
    InteropError, NODE_MODULES_VAR, PYTHON_VAR, backend, octokit_sign, python_sign, python_verify,
};

/// Bodies every library signs: JSON with non-ASCII text, form-encoded text, and a larger one.
fn bodies() -> Vec<String> {
    vec![
        r#"{"id":"evt_1","type":"invoice.paid","data":{"note":"café ✓ 日本"}}"#.to_owned(),
        "token=xyz&team_id=T1&text=hello%20world&response_url=https%3A%2F%2Fexample.com".to_owned(),
        format!(
            r#"{{"type":"big","items":[{}]}}"#,
            vec!["1"; 5000].join(",")
        ),
    ]
}

/// The headers, or a panic naming the library call that failed.
fn signed(result: Result<HeaderMap, InteropError>) -> HeaderMap {
    result.unwrap_or_else(|e| panic!("{e}"))
}

/// Verifies `body` under `scheme`, then checks that a body with one flipped bit fails.
fn assert_verifies_and_tamper_fails(
    scheme: &dyn SignatureScheme,
    headers: &HeaderMap,
    body: &str,
    secrets: &[SourceSecret],
    now: Timestamp,
) {
    let request = SignedRequest {
        headers,
        body: body.as_bytes(),
    };
    assert_eq!(
        scheme.verify(&request, secrets, now),
        Ok(()),
        "{} rejected the official library's signature: {headers:?}",
        scheme.name()
    );
    let mut tampered = body.as_bytes().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let request = SignedRequest {
        headers,
        body: &tampered,
    };
    assert_eq!(
        scheme.verify(&request, secrets, now),
        Err(VerifyError::Mismatch),
        "{} accepted a tampered body",
        scheme.name()
    );
}

/// A fresh random `whsec_` secret as Svix issues them (24 random bytes, base64).
fn random_whsec(padded: bool) -> String {
    use base64::Engine as _;
    let bytes: [u8; 25] = rand::random();
    // 25 bytes need one `=` of padding, so the unpadded form really differs.
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let encoded = if padded {
        encoded
    } else {
        encoded.trim_end_matches('=').to_owned()
    };
    format!("whsec_{encoded}")
}

#[test]
fn github_octokit_signatures_verify() {
    let Some(node_modules) = backend(NODE_MODULES_VAR, "github (@octokit/webhooks-methods)") else {
        return;
    };
    let now = Timestamp::now();
    for secret in ["It's a Secret to Everybody", "s3cr3t-ünïcode"] {
        // Rotation: the signing secret is the second of two active ones.
        let secrets = [SourceSecret::new("old secret"), SourceSecret::new(secret)];
        for body in bodies() {
            let headers = signed(octokit_sign(&node_modules, secret, &body));
            assert_verifies_and_tamper_fails(&GitHub, &headers, &body, &secrets, now);
        }
    }
    // GitHub's documented example, through octokit.
    let headers = signed(octokit_sign(
        &node_modules,
        "It's a Secret to Everybody",
        "Hello, World!",
    ));
    assert_eq!(
        headers["x-hub-signature-256"],
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

#[test]
fn stripe_library_signatures_verify() {
    let Some(python) = backend(PYTHON_VAR, "stripe (stripe-python)") else {
        return;
    };
    let now = Timestamp::now();
    let secret = "whsec_5d9dd0f0a2a5f0b6e1a14c6f8f1c5f6a";
    let secrets = [SourceSecret::new(secret)];
    for body in bodies() {
        let headers = signed(python_sign(
            &python,
            "stripe",
            secret,
            now.as_secs(),
            "",
            &body,
        ));
        assert_verifies_and_tamper_fails(&Stripe::new(), &headers, &body, &secrets, now);
    }
    let body = &bodies()[0];
    let stale = signed(python_sign(
        &python,
        "stripe",
        secret,
        now.as_secs() - 301,
        "",
        body,
    ));
    let request = SignedRequest {
        headers: &stale,
        body: body.as_bytes(),
    };
    assert_eq!(
        Stripe::new().verify(&request, &secrets, now),
        Err(VerifyError::Stale)
    );
    assert_eq!(
        Stripe::new()
            .tolerance(Duration::from_secs(600))
            .verify(&request, &secrets, now),
        Ok(())
    );
}

#[test]
fn standard_webhooks_library_signatures_verify_both_ways() {
    let Some(python) = backend(PYTHON_VAR, "standard_webhooks (standardwebhooks)") else {
        return;
    };
    standard_webhooks_both_ways(
        &python,
        "standard_webhooks",
        &StandardWebhooks::new(),
        "webhook",
    );
}

#[test]
fn svix_library_signatures_verify_both_ways() {
    let Some(python) = backend(PYTHON_VAR, "svix (svix)") else {
        return;
    };
    standard_webhooks_both_ways(&python, "svix", &Svix::new(), "svix");
}

fn standard_webhooks_both_ways(
    python: &Path,
    library: &str,
    scheme: &dyn SignatureScheme,
    prefix: &str,
) {
    let now = Timestamp::now();
    for secret in [
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
        random_whsec(true),
        random_whsec(false),
    ] {
        let secrets = [SourceSecret::new(secret.as_str())];
        for (i, body) in bodies().into_iter().enumerate() {
            let msg_id = format!("msg_interop_{i}");
            // The library signs, Relay verifies.
            let headers = signed(python_sign(
                python,
                library,
                &secret,
                now.as_secs(),
                &msg_id,
                &body,
            ));
            assert_verifies_and_tamper_fails(scheme, &headers, &body, &secrets, now);

            // Relay signs (outbound), the library verifies.
            let signature = sign_standard_webhook(
                &Secret::new(secret.as_str()),
                &msg_id,
                now.as_secs(),
                body.as_bytes(),
            );
            let (id_header, timestamp_header, signature_header) = (
                format!("{prefix}-id"),
                format!("{prefix}-timestamp"),
                format!("{prefix}-signature"),
            );
            let timestamp = now.as_secs().to_string();
            let ours = [
                (id_header.as_str(), msg_id.as_str()),
                (timestamp_header.as_str(), timestamp.as_str()),
                (signature_header.as_str(), signature.as_str()),
            ];
            let verdict = python_verify(python, library, &secret, &ours, &body);
            assert!(
                verdict.is_ok(),
                "{library} rejected Relay's signature: {verdict:?}"
            );
            let mut tampered = body.clone();
            tampered.push(' ');
            let verdict = python_verify(python, library, &secret, &ours, &tampered);
            assert!(verdict.is_err(), "{library} accepted a tampered body");
        }
    }
}

#[test]
fn slack_sdk_signatures_verify() {
    let Some(python) = backend(PYTHON_VAR, "slack (slack-sdk)") else {
        return;
    };
    let now = Timestamp::now();
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let secrets = [SourceSecret::new(secret)];
    for body in bodies() {
        let headers = signed(python_sign(
            &python,
            "slack",
            secret,
            now.as_secs(),
            "",
            &body,
        ));
        assert_verifies_and_tamper_fails(&Slack::new(), &headers, &body, &secrets, now);
    }
    // Slack's documented example, through slack-sdk.
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let headers = signed(python_sign(
        &python,
        "slack",
        secret,
        1_531_420_618,
        "",
        body,
    ));
    assert_eq!(
        headers["x-slack-signature"],
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    );
}
