//! Signature headers of every scheme: arbitrary header values and bodies never panic and never
//! verify.
//!
//! Input: the first byte picks the scheme; the rest is `signature \n timestamp \n id \n body`,
//! each header value set on every header of its kind (when it is a valid header value).
#![no_main]

use std::sync::Arc;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use relay_core::model::secret::SourceSecret;
use relay_core::ingest::signature::{
    GenericHmac, SCHEME_NAMES, SignatureEncoding, SignatureScheme, SignedRequest, scheme_by_name,
};
use relay_core::model::time::Timestamp;

const SIGNATURE: &[&str] = &[
    "x-hub-signature-256",
    "stripe-signature",
    "webhook-signature",
    "svix-signature",
    "x-shopify-hmac-sha256",
    "x-slack-signature",
    "x-signature",
];
const TIMESTAMP: &[&str] = &[
    "webhook-timestamp",
    "svix-timestamp",
    "x-slack-request-timestamp",
    "x-timestamp",
];
const ID: &[&str] = &["webhook-id", "svix-id"];

fn schemes() -> Vec<Arc<dyn SignatureScheme>> {
    let mut schemes: Vec<Arc<dyn SignatureScheme>> = SCHEME_NAMES
        .iter()
        .filter(|name| **name != "none")
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

fn set(headers: &mut HeaderMap, names: &[&'static str], value: Option<&[u8]>) {
    if let Some(value) = value.and_then(|v| HeaderValue::from_bytes(v).ok()) {
        for name in names {
            headers.insert(*name, value.clone());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let schemes = schemes();
    let scheme = &schemes[usize::from(selector) % schemes.len()];
    let mut parts = rest.splitn(4, |b| *b == b'\n');
    let mut headers = HeaderMap::new();
    set(&mut headers, SIGNATURE, parts.next());
    set(&mut headers, TIMESTAMP, parts.next());
    set(&mut headers, ID, parts.next());
    let body = parts.next().unwrap_or_default();
    let secrets = [
        SourceSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        SourceSecret::new("8f742231b10e8888abcd99yyyzzz85a5"),
    ];
    let request = SignedRequest {
        headers: &headers,
        body,
    };
    let now = Timestamp::from_millis(1_700_000_000_000);
    assert!(
        scheme.verify(&request, &secrets, now).is_err(),
        "{} verified a fuzzed request",
        scheme.name()
    );
});
