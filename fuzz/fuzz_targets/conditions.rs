//! Route conditions: an arbitrary JSONPath, operator and value compile or are refused, and a
//! compiled condition evaluates against an arbitrary JSON payload without panicking.
//!
//! Input: `path \n value-json \n payload-json`; the first byte picks the operator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relay_core::route::{Condition, ConditionSpec, Op};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let op = Op::ALL[usize::from(selector) % Op::ALL.len()];
    let mut parts = rest.splitn(3, |b| *b == b'\n');
    let path = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let value = parts
        .next()
        .and_then(|v| serde_json::from_slice::<Value>(v).ok());
    let payload = parts
        .next()
        .and_then(|p| serde_json::from_slice::<Value>(p).ok());
    if let Ok(condition) = Condition::compile(ConditionSpec::new(path, op, value)) {
        let _ = condition.matches(payload.as_ref());
        let _ = condition.matches(None);
    }
});
