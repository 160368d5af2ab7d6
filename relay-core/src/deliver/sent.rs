//! What an attempt keeps of the request it sent: method, URL, headers (signatures and
//! credentials redacted) and the body only when a transformer changed it.

use crate::deliver::destination::{Destination, Target};
use crate::model::attempt_detail::{AttemptDetail, REDACTED, redacted_headers};
use crate::model::event::Event;
use crate::transform::Transformed;

/// The request part of an attempt's detail for `outbound`, signed and about to go to
/// `destination`. The destination's `Authorization` (added by the transport) is listed as
/// [`REDACTED`]; the body is kept only when it differs from `event`'s.
pub(super) fn request_detail(
    destination: &Destination,
    outbound: &Transformed,
    event: &Event,
) -> AttemptDetail {
    let mut request_headers = redacted_headers(&outbound.headers);
    let (method, url) = match destination.target() {
        Target::Http { url, auth_header } => {
            if auth_header.is_some() {
                let name = http::header::AUTHORIZATION.as_str();
                request_headers.retain(|(n, _)| n != name);
                request_headers.push((name.to_owned(), REDACTED.to_owned()));
            }
            (Some("POST".to_owned()), Some(url.to_string()))
        }
        Target::Agent { agent, .. } => (None, Some(format!("agent:{agent}"))),
        Target::Handler(_) => (None, None),
    };
    // The identity transformer hands the event's own bytes on: no comparison needed then.
    let (sent, received) = (&outbound.body, &event.body);
    let same =
        (sent.as_ptr() == received.as_ptr() && sent.len() == received.len()) || sent == received;
    AttemptDetail {
        method,
        url,
        request_headers,
        request_body: (!same).then(|| sent.clone()),
        ..AttemptDetail::default()
    }
}
