//! [`AttemptDetail`]'s stored JSON, written straight into one pre-sized `String`: the same
//! text `serde_json` writes for it (the stored format is unchanged), without serde's
//! per-field machinery. It runs once per attempt, on the delivery path.

use std::fmt::Write as _;

use super::AttemptDetail;

/// `detail` as compact JSON, byte for byte what `serde_json::to_string(detail)` writes.
pub(super) fn write(detail: &AttemptDetail) -> String {
    let mut out = String::with_capacity(estimate(detail));
    out.push('{');
    let mut first = true;
    let mut key = |out: &mut String, name: &str| {
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
    };
    if let Some(micros) = detail.latency_us {
        key(&mut out, "latency_us");
        // Writing to a `String` cannot fail.
        let _ = write!(out, "{micros}");
    }
    if let Some(method) = &detail.method {
        key(&mut out, "method");
        string(&mut out, method);
    }
    if let Some(url) = &detail.url {
        key(&mut out, "url");
        string(&mut out, url);
    }
    if !detail.request_headers.is_empty() {
        key(&mut out, "request_headers");
        pairs(&mut out, &detail.request_headers);
    }
    if !detail.response_headers.is_empty() {
        key(&mut out, "response_headers");
        pairs(&mut out, &detail.response_headers);
    }
    out.push('}');
    out
}

/// Room for the JSON of `detail` when nothing needs escaping (one allocation then).
fn estimate(detail: &AttemptDetail) -> usize {
    let listed = |pairs: &[(String, String)]| {
        pairs
            .iter()
            .map(|(n, v)| n.len() + v.len() + 8)
            .sum::<usize>()
    };
    96 + detail.method.as_ref().map_or(0, String::len)
        + detail.url.as_ref().map_or(0, String::len)
        + listed(&detail.request_headers)
        + listed(&detail.response_headers)
}

/// `[["name","value"],...]`.
fn pairs(out: &mut String, pairs: &[(String, String)]) {
    out.push('[');
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        string(out, name);
        out.push(',');
        string(out, value);
        out.push(']');
    }
    out.push(']');
}

/// `text` as a JSON string, escaped as `serde_json` escapes: `"` and `\` with a backslash,
/// control characters as `\b`, `\t`, `\n`, `\f`, `\r` or `\u00XX`; everything else as it is.
fn string(out: &mut String, text: &str) {
    out.push('"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Every byte escaped is ASCII: `start..i` ends on a character boundary.
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_serde(detail: &AttemptDetail) {
        let expected = serde_json::to_string(detail).unwrap();
        assert_eq!(write(detail), expected);
    }

    #[test]
    fn writes_what_serde_json_writes() {
        same_as_serde(&AttemptDetail::default());
        same_as_serde(&AttemptDetail {
            latency_us: Some(0),
            ..AttemptDetail::default()
        });
        same_as_serde(&AttemptDetail {
            url: Some("agent:eu".into()),
            response_headers: vec![("server".into(), "x".into())],
            ..AttemptDetail::default()
        });
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        same_as_serde(&AttemptDetail {
            latency_us: Some(u64::MAX),
            method: Some("POST".into()),
            url: Some("http://127.0.0.1:9/hook?q=\"1\"&p=\\".into()),
            request_headers: vec![
                ("webhook-id".into(), "msg_1".into()),
                ("x-odd".into(), every_ascii.clone()),
                ("x-unicode".into(), "é ü \u{2028} \u{1F600} \u{7f}".into()),
                (every_ascii, String::new()),
            ],
            response_headers: vec![("set-cookie".into(), "[redacted]".into())],
            request_body: None,
        });
    }

    #[test]
    fn reads_back_through_serde() {
        let detail = AttemptDetail {
            latency_us: Some(17),
            method: Some("POST".into()),
            url: Some("http://h/\u{1}".into()),
            request_headers: vec![("a".into(), "\"\\\n\u{0}".into())],
            response_headers: vec![],
            request_body: None,
        };
        let back: AttemptDetail = serde_json::from_str(&write(&detail)).unwrap();
        assert_eq!(back, detail);
    }
}
