//! Verification cost per signature scheme at 1 KiB and 64 KiB bodies, beside a raw
//! HMAC-SHA256 of the same bytes (the floor any HMAC scheme pays).
//!
//! `cargo bench -p relay-core --bench signatures`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, HeaderName, HeaderValue};
use relay_core::ingest::signature::{
    GenericHmac, SignatureScheme, SignedRequest, hmac_sha256, scheme_by_name,
};
use relay_core::model::secret::SourceSecret;
use relay_core::model::time::Timestamp;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TIMESTAMP: i64 = 1_700_000_000;
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";

/// A scheme, and the headers a provider would send for `body`.
fn signed(name: &str, body: &[u8]) -> (Arc<dyn SignatureScheme>, HeaderMap) {
    let key = SECRET.as_bytes();
    let whsec_key = STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .expect("base64 secret");
    let ts = TIMESTAMP.to_string();
    let headers: Vec<(&str, String)> = match name {
        "github" => vec![(
            "x-hub-signature-256",
            format!("sha256={}", hex::encode(hmac_sha256(key, &[body]))),
        )],
        "stripe" => vec![(
            "stripe-signature",
            format!(
                "t={ts},v1={}",
                hex::encode(hmac_sha256(key, &[ts.as_bytes(), b".", body]))
            ),
        )],
        "standard_webhooks" | "svix" => {
            let prefix = if name == "svix" { "svix" } else { "webhook" };
            let signature = STANDARD.encode(hmac_sha256(
                &whsec_key,
                &[ID.as_bytes(), b".", ts.as_bytes(), b".", body],
            ));
            vec![
                (leak(format!("{prefix}-id")), ID.to_owned()),
                (leak(format!("{prefix}-timestamp")), ts.clone()),
                (
                    leak(format!("{prefix}-signature")),
                    format!("v1,{signature}"),
                ),
            ]
        }
        "shopify" => vec![(
            "x-shopify-hmac-sha256",
            STANDARD.encode(hmac_sha256(key, &[body])),
        )],
        "slack" => vec![
            ("x-slack-request-timestamp", ts.clone()),
            (
                "x-slack-signature",
                format!(
                    "v0={}",
                    hex::encode(hmac_sha256(key, &[b"v0:", ts.as_bytes(), b":", body]))
                ),
            ),
        ],
        "generic_hmac" => vec![("x-signature", hex::encode(hmac_sha256(key, &[body])))],
        other => panic!("no signer for {other}"),
    };
    let scheme = match name {
        "generic_hmac" => Arc::new(GenericHmac::new(HeaderName::from_static("x-signature")))
            as Arc<dyn SignatureScheme>,
        other => scheme_by_name(other).expect("a known scheme"),
    };
    let mut map = HeaderMap::new();
    for (header, value) in headers {
        map.insert(
            HeaderName::from_static(header),
            HeaderValue::from_str(&value).expect("header value"),
        );
    }
    (scheme, map)
}

/// Header names must be `'static` for `from_static`; a handful leak once per bench run.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

fn verification(c: &mut Criterion) {
    let secrets = [SourceSecret::new(SECRET)];
    let now = Timestamp::from_millis(TIMESTAMP * 1_000);
    for size in [1024usize, 64 * 1024] {
        let body: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        let mut group = c.benchmark_group(format!("verify_{}KiB", size / 1024));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function("raw_hmac_sha256", |b| {
            b.iter(|| hmac_sha256(black_box(SECRET.as_bytes()), &[black_box(&body)]));
        });
        for name in [
            "github",
            "stripe",
            "standard_webhooks",
            "svix",
            "shopify",
            "slack",
            "generic_hmac",
        ] {
            let (scheme, headers) = signed(name, &body);
            let request = SignedRequest {
                headers: &headers,
                body: &body,
            };
            assert_eq!(scheme.verify(&request, &secrets, now), Ok(()), "{name}");
            group.bench_with_input(BenchmarkId::from_parameter(name), &request, |b, request| {
                b.iter(|| scheme.verify(black_box(request), &secrets, now));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, verification);
criterion_main!(benches);
