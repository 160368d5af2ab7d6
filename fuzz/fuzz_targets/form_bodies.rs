//! Normalising inbound bodies: arbitrary bytes as a form body, as JSON and untyped never panic.
#![no_main]

use bytes::Bytes;
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use relay_core::model::payload::Payload;

fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    for content_type in [
        Some("application/x-www-form-urlencoded"),
        Some("application/json"),
        None,
    ] {
        let mut headers = HeaderMap::new();
        if let Some(content_type) = content_type {
            headers.insert(http::header::CONTENT_TYPE, content_type.parse().expect("valid"));
        }
        let _ = Payload::parse(&headers, &body);
    }
});
