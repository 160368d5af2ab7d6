//! The edge: actix-web's `http` 0.2 request parts in, relay-core's `http` 1.x types through
//! the pipeline, relay-core's [`Reply`] back out as an actix-web response.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self as actix_header, HeaderMap as ActixHeaderMap};
use relay_core::ingest::Reply;

use crate::error::ConvertError;

/// The request headers as relay-core's `http` 1.x [`http::HeaderMap`].
pub(crate) fn request_headers(headers: &ActixHeaderMap) -> Result<http::HeaderMap, ConvertError> {
    let mut converted = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        converted.append(
            http::HeaderName::from_bytes(name.as_str().as_bytes())?,
            http::HeaderValue::from_bytes(value.as_bytes())?,
        );
    }
    Ok(converted)
}

/// The declared `Content-Length`, if any and well formed.
pub(crate) fn content_length(headers: &ActixHeaderMap) -> Option<u64> {
    headers
        .get(actix_header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// relay-core's reply as an actix-web response, status, headers and body unchanged.
pub(crate) fn response(reply: Reply) -> Result<HttpResponse, ConvertError> {
    let status =
        StatusCode::from_u16(reply.status).map_err(|_| ConvertError::ReplyStatus(reply.status))?;
    let mut response = HttpResponse::with_body(status, reply.body);
    let headers = response.headers_mut();
    for (name, value) in &reply.headers {
        headers.append(
            actix_header::HeaderName::from_bytes(name.as_str().as_bytes())?,
            actix_header::HeaderValue::from_bytes(value.as_bytes())?,
        );
    }
    Ok(response.map_into_boxed_body())
}

/// The request URI (path and query) as relay-core's `http` 1.x [`http::Uri`].
pub(crate) fn uri(uri: &actix_web::http::Uri) -> Result<http::Uri, ConvertError> {
    let text = uri.path_and_query().map_or("/", |p| p.as_str());
    Ok(http::Uri::try_from(text)?)
}

/// `path` with the query of `uri` (the request as the control plane sees it under a scope).
pub(crate) fn uri_at(path: &str, uri: &actix_web::http::Uri) -> Result<http::Uri, ConvertError> {
    let text = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    Ok(http::Uri::try_from(text)?)
}

/// A control-plane answer as an actix-web response, status, headers and body unchanged.
pub(crate) fn reply(reply: relay_admin::Reply) -> Result<HttpResponse, ConvertError> {
    let (parts, body) = reply.into_parts();
    response(Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use relay_core::ingest::IngestOutcome;

    use super::*;

    #[test]
    fn every_header_crosses_both_ways_byte_for_byte() {
        let mut headers = ActixHeaderMap::new();
        let raw: &[(&str, &[u8])] = &[
            ("x-hub-signature-256", b"sha256=ab"),
            ("x-multi", b"one"),
            ("x-multi", b"two"),
            ("x-opaque", b"caf\xc3\xa9 \xff\tend"),
        ];
        for (name, value) in raw {
            headers.append(
                actix_header::HeaderName::from_static(name),
                actix_header::HeaderValue::from_bytes(value).unwrap(),
            );
        }
        let converted = request_headers(&headers).unwrap();
        assert_eq!(converted.len(), 4);
        let multi: Vec<&[u8]> = converted
            .get_all("x-multi")
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        assert_eq!(multi, [b"one".as_slice(), b"two"]);
        assert_eq!(converted["x-opaque"].as_bytes(), b"caf\xc3\xa9 \xff\tend");
    }

    #[test]
    fn content_length_is_read_only_when_well_formed() {
        let mut headers = ActixHeaderMap::new();
        assert_eq!(content_length(&headers), None);
        let length = |value: &'static str, headers: &mut ActixHeaderMap| {
            headers.insert(
                actix_header::CONTENT_LENGTH,
                actix_header::HeaderValue::from_static(value),
            );
            content_length(headers)
        };
        assert_eq!(length("65", &mut headers), Some(65));
        assert_eq!(length("-1", &mut headers), None);
        assert_eq!(length("lots", &mut headers), None);
    }

    #[test]
    fn the_reply_is_relay_cores_unchanged() {
        let reply = IngestOutcome::RateLimited {
            retry_after_secs: 7,
        }
        .into_reply();
        let response = response(reply.clone()).unwrap();
        assert_eq!(response.status().as_u16(), 429);
        assert_eq!(response.headers().len(), reply.headers.len());
        let header = |name: &str| response.headers().get(name).unwrap().as_bytes().to_vec();
        assert_eq!(header("retry-after"), b"7");
        assert_eq!(header("content-type"), b"application/json");
        let body = response.into_body().try_into_bytes().unwrap();
        assert_eq!(body, reply.body);
    }
}
