//! Property tests over every scheme: arbitrary headers and bodies never panic and never verify;
//! a correctly signed request stops verifying when one bit of its body changes.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::deliver::sign_standard_webhook;
use crate::model::secret::{Secret, SourceSecret};
use crate::model::time::Timestamp;

const NOW_SECS: i64 = 1_700_000_000;
const NOW: Timestamp = Timestamp::from_millis(NOW_SECS * 1000);

const SIGNATURE_HEADERS: &[&str] = &[
    "x-hub-signature-256",
    "stripe-signature",
    "webhook-signature",
    "svix-signature",
    "x-shopify-hmac-sha256",
    "x-slack-signature",
    "x-signature",
];
const TIMESTAMP_HEADERS: &[&str] = &[
    "webhook-timestamp",
    "svix-timestamp",
    "x-slack-request-timestamp",
    "x-timestamp",
];
const ID_HEADERS: &[&str] = &["webhook-id", "svix-id"];

/// Every scheme that checks signatures: the named ones but `none`, and three generic ones.
fn verifying_schemes() -> Vec<Arc<dyn SignatureScheme>> {
    let mut schemes: Vec<Arc<dyn SignatureScheme>> = SCHEME_NAMES
        .iter()
        .filter(|name| super::scheme_needs_secrets(name))
        .filter_map(|name| scheme_by_name(name))
        .collect();
    let header = HeaderName::from_static("x-signature");
    schemes.push(Arc::new(GenericHmac::new(header.clone())));
    schemes.push(Arc::new(
        GenericHmac::new(header.clone())
            .encoding(SignatureEncoding::Base64)
            .prefix("sha256="),
    ));
    schemes.push(Arc::new(
        GenericHmac::new(header).timestamp_header(HeaderName::from_static("x-timestamp")),
    ));
    schemes
}

fn secrets() -> Vec<SourceSecret> {
    vec![
        SourceSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        SourceSecret::new("8f742231b10e8888abcd99yyyzzz85a5"),
        SourceSecret::new(""),
    ]
}

/// Header values shaped like each provider's signature, with random digests, or plain noise.
fn signature_value() -> impl Strategy<Value = Option<HeaderValue>> {
    let digest = any::<[u8; 32]>();
    prop_oneof![
        Just(None),
        "[ -~]{0,120}".prop_map(|s| HeaderValue::from_str(&s).ok()),
        vec(any::<u8>(), 0..120).prop_map(|b| HeaderValue::from_bytes(&b).ok()),
        digest.prop_map(|d| HeaderValue::from_str(&hex::encode(d)).ok()),
        digest.prop_map(|d| HeaderValue::from_str(&format!("sha256={}", hex::encode(d))).ok()),
        digest.prop_map(|d| HeaderValue::from_str(&format!("v0={}", hex::encode(d))).ok()),
        digest.prop_map(|d| HeaderValue::from_str(&BASE64.encode(d)).ok()),
        digest.prop_map(|d| HeaderValue::from_str(&format!("sha256={}", BASE64.encode(d))).ok()),
        vec(digest, 0..4).prop_map(|ds| {
            let list: Vec<String> = ds
                .iter()
                .map(|d| format!("v1,{}", BASE64.encode(d)))
                .collect();
            HeaderValue::from_str(&list.join(" ")).ok()
        }),
        vec(digest, 0..4).prop_map(|ds| {
            let mut header = format!("t={NOW_SECS}");
            for d in ds {
                header.push_str(&format!(",v1={}", hex::encode(d)));
            }
            HeaderValue::from_str(&header).ok()
        }),
    ]
}

fn timestamp_value() -> impl Strategy<Value = Option<HeaderValue>> {
    prop_oneof![
        Just(None),
        Just(HeaderValue::from_str(&NOW_SECS.to_string()).ok()),
        any::<i64>().prop_map(|t| HeaderValue::from_str(&t.to_string()).ok()),
        "[ -~]{0,24}".prop_map(|s| HeaderValue::from_str(&s).ok()),
        vec(any::<u8>(), 0..24).prop_map(|b| HeaderValue::from_bytes(&b).ok()),
    ]
}

fn id_value() -> impl Strategy<Value = Option<HeaderValue>> {
    prop_oneof![
        Just(None),
        Just(Some(HeaderValue::from_static(
            "msg_p5jXN8AQM9LWM0D4loKWxJek"
        ))),
        "[ -~]{0,40}".prop_map(|s| HeaderValue::from_str(&s).ok()),
        vec(any::<u8>(), 0..40).prop_map(|b| HeaderValue::from_bytes(&b).ok()),
    ]
}

fn insert_all(headers: &mut HeaderMap, names: &[&'static str], value: &Option<HeaderValue>) {
    if let Some(value) = value {
        for name in names {
            headers.insert(*name, value.clone());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_requests_never_verify(
        signature in signature_value(),
        timestamp in timestamp_value(),
        id in id_value(),
        body in vec(any::<u8>(), 0..512),
    ) {
        let mut headers = HeaderMap::new();
        insert_all(&mut headers, SIGNATURE_HEADERS, &signature);
        insert_all(&mut headers, TIMESTAMP_HEADERS, &timestamp);
        insert_all(&mut headers, ID_HEADERS, &id);
        let request = SignedRequest { headers: &headers, body: &body };
        for scheme in verifying_schemes() {
            let result = scheme.verify(&request, &secrets(), NOW);
            prop_assert!(result.is_err(), "{} verified {:?}", scheme.name(), headers);
        }
        prop_assert_eq!(NoSignature.verify(&request, &secrets(), NOW), Ok(()));
    }

    #[test]
    fn arbitrary_secrets_and_clocks_never_verify_noise(
        secret in "[ -~]{0,64}",
        now in any::<i64>(),
        signature in signature_value(),
        body in vec(any::<u8>(), 0..256),
    ) {
        let mut headers = HeaderMap::new();
        insert_all(&mut headers, SIGNATURE_HEADERS, &signature);
        let ts = HeaderValue::from_str(&Timestamp::from_millis(now).as_secs().to_string()).ok();
        insert_all(&mut headers, TIMESTAMP_HEADERS, &ts);
        insert_all(&mut headers, ID_HEADERS, &Some(HeaderValue::from_static("msg_1")));
        let request = SignedRequest { headers: &headers, body: &body };
        let secrets = [SourceSecret::new(secret)];
        for scheme in verifying_schemes() {
            let result = scheme.verify(&request, &secrets, Timestamp::from_millis(now));
            prop_assert!(result.is_err(), "{} verified {:?}", scheme.name(), headers);
        }
    }

    #[test]
    fn a_signed_request_fails_after_any_one_bit_flip_of_its_body(
        secret in "[!-~]{1,40}",
        body in vec(any::<u8>(), 1..256),
        bit in any::<prop::sample::Index>(),
    ) {
        let secrets = [
            SourceSecret::new(format!("whsec_{}", BASE64.encode(&secret))),
            SourceSecret::new(secret.clone()),
        ];
        let mut flipped = body.clone();
        let bit = bit.index(body.len() * 8);
        flipped[bit / 8] ^= 1 << (bit % 8);
        let signed = signed_requests(&secret, &body);
        prop_assert_eq!(signed.len(), verifying_schemes().len());
        for (scheme, headers) in signed {
            let request = SignedRequest { headers: &headers, body: &body };
            prop_assert_eq!(scheme.verify(&request, &secrets, NOW), Ok(()), "{}", scheme.name());
            let tampered = SignedRequest { headers: &headers, body: &flipped };
            prop_assert_eq!(
                scheme.verify(&tampered, &secrets, NOW),
                Err(VerifyError::Mismatch),
                "{}",
                scheme.name()
            );
        }
    }
}

/// Each scheme of [`verifying_schemes`] (same order) with headers it accepts for `body`:
/// `secret` as text, and `whsec_<base64 of secret>` for Standard Webhooks / Svix. The
/// signatures are computed here from the providers' definitions, independently of the schemes.
fn signed_requests(secret: &str, body: &[u8]) -> Vec<(Arc<dyn SignatureScheme>, HeaderMap)> {
    let key = secret.as_bytes();
    let ts = NOW_SECS.to_string();
    let named = sign_named_schemes(secret, body);
    let mut out: Vec<(Arc<dyn SignatureScheme>, HeaderMap)> = Vec::new();
    let generic_values = [
        hex::encode(hmac_sha256(key, &[body])),
        format!("sha256={}", BASE64.encode(hmac_sha256(key, &[body]))),
        hex::encode(hmac_sha256(key, &[ts.as_bytes(), b".", body])),
    ];
    let mut generic = generic_values.into_iter();
    for scheme in verifying_schemes() {
        let headers = if scheme.name() == "generic_hmac" {
            let mut headers = HeaderMap::new();
            let value = generic.next().unwrap_or_default();
            headers.insert("x-signature", HeaderValue::from_str(&value).expect("ascii"));
            headers.insert("x-timestamp", HeaderValue::from_str(&ts).expect("ascii"));
            headers
        } else {
            named.clone()
        };
        out.push((scheme, headers));
    }
    out
}

/// Headers that every named scheme accepts for `body`.
fn sign_named_schemes(secret: &str, body: &[u8]) -> HeaderMap {
    let key = secret.as_bytes();
    let ts = NOW_SECS.to_string();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).expect("ascii"));
    };
    set(
        "x-hub-signature-256",
        format!("sha256={}", hex::encode(hmac_sha256(key, &[body]))),
    );
    set(
        "stripe-signature",
        format!(
            "t={ts},v1={}",
            hex::encode(hmac_sha256(key, &[ts.as_bytes(), b".", body]))
        ),
    );
    let whsec = Secret::new(format!("whsec_{}", BASE64.encode(secret)));
    let sw = sign_standard_webhook(&whsec, "msg_1", NOW_SECS, body);
    set("webhook-id", "msg_1".into());
    set("webhook-timestamp", ts.clone());
    set("webhook-signature", sw.clone());
    set("svix-id", "msg_1".into());
    set("svix-timestamp", ts.clone());
    set("svix-signature", sw);
    set(
        "x-shopify-hmac-sha256",
        BASE64.encode(hmac_sha256(key, &[body])),
    );
    set("x-slack-request-timestamp", ts.clone());
    set(
        "x-slack-signature",
        format!(
            "v0={}",
            hex::encode(hmac_sha256(key, &[b"v0:", ts.as_bytes(), b":", body]))
        ),
    );
    headers
}
