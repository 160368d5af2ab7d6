//! Byte-exact encoding of header maps for stores (values need not be UTF-8).

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

use super::StoreError;

/// Encodes headers as `[u32 name len][name][u32 value len][value]…` (little-endian).
pub fn encode_headers(headers: &HeaderMap) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.len() * 48);
    for (name, value) in headers {
        for part in [name.as_str().as_bytes(), value.as_bytes()] {
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
            out.extend_from_slice(part);
        }
    }
    out
}

/// Decodes [`encode_headers`]' output; anything truncated or invalid is [`StoreError::Corrupt`].
pub fn decode_headers(mut bytes: &[u8]) -> Result<HeaderMap, StoreError> {
    fn take<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8], StoreError> {
        let corrupt = || StoreError::Corrupt("truncated header block".into());
        let (len, rest) = bytes.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(corrupt());
        }
        let (part, rest) = rest.split_at(len);
        *bytes = rest;
        Ok(part)
    }
    let mut headers = HeaderMap::new();
    while !bytes.is_empty() {
        let name = HeaderName::from_bytes(take(&mut bytes)?)
            .map_err(|e| StoreError::Corrupt(format!("header name: {e}")))?;
        let value = HeaderValue::from_bytes(take(&mut bytes)?)
            .map_err(|e| StoreError::Corrupt(format!("header value: {e}")))?;
        headers.append(name, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips_repeated_and_non_utf8_values() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        headers.append("x-bin", HeaderValue::from_bytes(b"\xfe\xff").unwrap());
        assert_eq!(decode_headers(&encode_headers(&headers)).unwrap(), headers);
        assert!(decode_headers(&[]).unwrap().is_empty());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_headers(&bytes);
        }

        #[test]
        fn truncation_is_an_error(cut in 1usize..20) {
            let mut headers = HeaderMap::new();
            headers.insert("x-long-header", HeaderValue::from_static("some value"));
            let encoded = encode_headers(&headers);
            let cut = cut.min(encoded.len());
            prop_assert!(decode_headers(&encoded[..encoded.len() - cut]).is_err());
        }
    }
}
