//! `calendar_to_database`: a Google Calendar push notification as a flat database row.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::{TransformError, TransformInput, Transformed, Transformer};
use crate::model::payload::GOOG_META_KEY;
use crate::model::time::Timestamp;

/// Turns a Google Calendar push notification into a flat row, ready for an insert:
///
/// ```json
/// {"event_id": "…", "channel_id": "4ba78bf0-…", "channel_token": "398348u3tu83ut8uu38",
///  "resource_id": "ret08u3rv24htgh289g", "resource_uri": "https://www.googleapis.com/…",
///  "resource_state": "exists", "message_number": 10,
///  "expiration": "2013-11-19T01:13:52Z", "received_at": "2024-05-14T09:22:10.123Z"}
/// ```
///
/// Google sends the notification in `X-Goog-*` headers with an empty body; the payload carries
/// them under `$.__goog_meta` (see [`goog_meta`](crate::model::payload::goog_meta)), which is what
/// this reads. `message_number` is a number; `expiration` (from `X-Goog-Channel-Expiration`,
/// an HTTP date) and `received_at` are RFC 3339 UTC; an expiration that is not an HTTP date is
/// kept as written. Absent optional headers are `null`. A notification without
/// `X-Goog-Channel-ID` or `X-Goog-Resource-State` is a [`TransformError`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CalendarToDatabase;

impl CalendarToDatabase {
    /// The name it is registered under.
    pub const NAME: &'static str = "calendar_to_database";
}

impl Transformer for CalendarToDatabase {
    fn transform(&self, input: &TransformInput<'_>) -> Result<Transformed, TransformError> {
        let meta = input
            .payload
            .json()
            .and_then(|doc| doc.get(GOOG_META_KEY))
            .ok_or_else(|| {
                TransformError(format!(
                    "{}: not a Google push notification (no X-Goog-* headers)",
                    Self::NAME
                ))
            })?;
        let text = |key: &str| meta.get(key).and_then(Value::as_str);
        let required = |key: &str, header: &str| {
            text(key).map(str::to_owned).ok_or_else(|| {
                TransformError(format!("{}: missing the {header} header", Self::NAME))
            })
        };
        let message_number = match meta.get("message_number") {
            Some(Value::Number(n)) => Value::Number(n.clone()),
            Some(Value::String(s)) => {
                return Err(TransformError(format!(
                    "{}: X-Goog-Message-Number {s:?} is not a number",
                    Self::NAME
                )));
            }
            _ => Value::Null,
        };
        let expiration =
            text("channel_expiration").map(|raw| match httpdate::parse_http_date(raw) {
                Ok(time) => rfc3339(system_millis(time), false),
                Err(_) => raw.to_owned(),
            });
        Transformed::json(&json!({
            "event_id": input.event.id.to_string(),
            "channel_id": required("channel_id", "X-Goog-Channel-ID")?,
            "channel_token": text("channel_token"),
            "resource_id": text("resource_id"),
            "resource_uri": text("resource_uri"),
            "resource_state": required("resource_state", "X-Goog-Resource-State")?,
            "message_number": message_number,
            "expiration": expiration,
            "received_at": rfc3339(input.event.received_at.as_millis(), true),
        }))
    }
}

/// Milliseconds since the epoch (times before it clamp to the epoch).
fn system_millis(time: SystemTime) -> i64 {
    Timestamp::from_system_time(time).as_millis()
}

/// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` for milliseconds since the epoch (proleptic Gregorian).
fn rfc3339(millis: i64, with_millis: bool) -> String {
    let secs = millis.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if with_millis {
        format!(
            "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{:03}Z",
            millis.rem_euclid(1000)
        )
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_support::{body_json, event};
    use http::{HeaderMap, HeaderName, HeaderValue};

    /// The headers of a request written as in Google's documentation.
    pub(crate) fn headers_of(http: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in http.lines().skip(1).take_while(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').unwrap();
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value.trim()).unwrap(),
            );
        }
        headers
    }

    fn run(http: &str) -> (String, Result<Transformed, TransformError>) {
        let (event, payload) = event("exists", headers_of(http), bytes::Bytes::new());
        let out = CalendarToDatabase.transform(&TransformInput {
            event: &event,
            payload: &payload,
            destination: "db",
        });
        (event.id.to_string(), out)
    }

    #[test]
    fn golden_exists_notification() {
        let (id, out) = run(include_str!("fixtures/google_calendar_exists.http"));
        assert_eq!(
            body_json(&out.unwrap()),
            json!({
                "event_id": id,
                "channel_id": "4ba78bf0-6a47-11e2-bcfd-0800200c9a66",
                "channel_token": "398348u3tu83ut8uu38",
                "resource_id": "ret08u3rv24htgh289g",
                "resource_uri": "https://www.googleapis.com/calendar/v3/calendars/my_calendar@gmail.com/events",
                "resource_state": "exists",
                "message_number": 10,
                "expiration": "2013-11-19T01:13:52Z",
                "received_at": "2024-05-14T09:22:10.123Z"
            })
        );
    }

    #[test]
    fn sync_message_and_missing_optionals() {
        let (_, out) = run(include_str!("fixtures/google_calendar_sync.http"));
        let row = body_json(&out.unwrap());
        assert_eq!(
            (
                row["resource_state"].as_str(),
                row["message_number"].as_u64()
            ),
            (Some("sync"), Some(1))
        );

        let minimal = "POST / HTTP/1.1\nX-Goog-Channel-ID: c\nX-Goog-Resource-State: not_exists\nX-Goog-Channel-Expiration: soon\n";
        let row = body_json(&run(minimal).1.unwrap());
        assert_eq!(row["message_number"], Value::Null);
        assert_eq!(row["channel_token"], Value::Null);
        assert_eq!(row["expiration"], "soon");
    }

    #[test]
    fn non_google_requests_are_errors() {
        let (_, out) = run("POST / HTTP/1.1\nContent-Type: application/json\n");
        assert!(out.unwrap_err().0.contains("no X-Goog-* headers"));
        let (_, out) = run("POST / HTTP/1.1\nX-Goog-Resource-State: sync\n");
        assert_eq!(
            out.unwrap_err().0,
            "calendar_to_database: missing the X-Goog-Channel-ID header"
        );
        let (_, out) = run(
            "POST / HTTP/1.1\nX-Goog-Channel-ID: c\nX-Goog-Resource-State: sync\nX-Goog-Message-Number: ten\n",
        );
        assert!(out.unwrap_err().0.contains("not a number"));
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0, false), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000, true), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_715_678_530_123, true), "2024-05-14T09:22:10.123Z");
        assert_eq!(rfc3339(-1_000, false), "1969-12-31T23:59:59Z");
    }
}
