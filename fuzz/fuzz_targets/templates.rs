//! Templates: an arbitrary string as a template body value and as a header value compiles or
//! is refused, and a compiled template renders an arbitrary payload without panicking.
//!
//! Input: `template \n payload-json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relay_core::transform::Template;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |b| *b == b'\n');
    let text = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let payload = parts
        .next()
        .and_then(|p| serde_json::from_slice::<Value>(p).ok());
    let bodies = [
        json!(text),
        json!({ "text": text, "nested": [text, { "deeper": text }] }),
        serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
    ];
    for body in &bodies {
        if let Ok(template) = Template::compile(body) {
            let _ = template.render(payload.as_ref());
            let _ = template.render(None);
            if let Ok(template) = template.header("x-fuzz", &text) {
                let _ = template.render(payload.as_ref());
            }
        }
    }
});
