//! `relay events list|show|tail`.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use super::args::{EventFilter, EventsCommand};
use super::client::{Gateway, OpsError, time_flag};
use super::output::{colors, counts, field, paint_state, table};

/// The largest page the API serves.
const API_PAGE: usize = 200;

/// Runs `relay events …` (`tail` until `stop` completes).
pub async fn run(
    command: EventsCommand,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), OpsError> {
    match command {
        EventsCommand::List {
            gateway,
            filter,
            query,
            limit,
        } => {
            let api = Gateway::new(&gateway)?;
            let events = list(&api, &filter, query, limit).await?;
            print_events(&events, gateway.json);
            Ok(())
        }
        EventsCommand::Show { gateway, id } => {
            let api = Gateway::new(&gateway)?;
            let event = api.get(&format!("/api/v1/events/{id}"), &[]).await?;
            if gateway.json {
                println!("{event}");
            } else {
                print!("{}", describe(&event, colors()));
            }
            Ok(())
        }
        EventsCommand::Tail {
            gateway,
            source,
            event_type,
            interval_ms,
        } => {
            let api = Gateway::new(&gateway)?;
            let filter = EventFilter {
                source,
                event_type,
                ..EventFilter::default()
            };
            tokio::select! {
                result = tail(&api, &filter, Duration::from_millis(interval_ms), gateway.json) => result,
                () = stop => Ok(()),
            }
        }
    }
}

/// The query of `GET /api/v1/events` for `filter`.
fn query(filter: &EventFilter) -> Result<Vec<(&'static str, Option<String>)>, OpsError> {
    Ok(vec![
        ("source", filter.source.clone()),
        ("event_type", filter.event_type.clone()),
        ("state", filter.state.map(|s| s.as_str().to_owned())),
        ("since", time_flag("since", filter.since.as_deref())?),
        ("until", time_flag("until", filter.until.as_deref())?),
    ])
}

/// Up to `limit` events matching `filter`, newest first, across pages.
async fn list(
    api: &Gateway,
    filter: &EventFilter,
    text: Option<String>,
    limit: usize,
) -> Result<Vec<Value>, OpsError> {
    if limit == 0 {
        return Err(OpsError::Usage("--limit must be at least 1".into()));
    }
    let mut params = query(filter)?;
    params.push(("q", text));
    let mut events = Vec::new();
    let mut cursor = None;
    while events.len() < limit {
        let page = (limit - events.len()).min(API_PAGE);
        let mut params = params.clone();
        params.push(("limit", Some(page.to_string())));
        params.push(("cursor", cursor.take()));
        let answer = api.get("/api/v1/events", &params).await?;
        events.extend(answer["items"].as_array().into_iter().flatten().cloned());
        match answer["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    Ok(events)
}

fn event_row(event: &Value, color: bool) -> Vec<String> {
    vec![
        field(event, "received_at"),
        field(event, "id"),
        field(event, "source"),
        field(event, "event_type"),
        paint_state(&field(event, "state"), color),
        counts(event),
    ]
}

const EVENT_COLUMNS: [&str; 6] = [
    "RECEIVED",
    "ID",
    "SOURCE",
    "TYPE",
    "STATE",
    "DELIVERED/PENDING/DEAD",
];

fn print_events(events: &[Value], json: bool) {
    if json {
        events.iter().for_each(|event| println!("{event}"));
    } else {
        // Colors would break the alignment: tables are plain.
        let rows: Vec<Vec<String>> = events.iter().map(|e| event_row(e, false)).collect();
        print!("{}", table(&EVENT_COLUMNS, &rows));
    }
}

/// An event's detail as text: summary, headers, payload, deliveries with their attempts.
fn describe(event: &Value, color: bool) -> String {
    let summary = &event["event"];
    let mut out = format!(
        "{}  {} {} from {}, received {}\nidempotency key: {}\n\nheaders:\n",
        field(summary, "id"),
        paint_state(&field(summary, "state"), color),
        field(summary, "event_type"),
        field(summary, "source"),
        field(summary, "received_at"),
        field(summary, "idempotency_key"),
    );
    for header in event["headers"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {}: {}\n",
            field(header, "name"),
            field(header, "value")
        ));
    }
    out.push_str("\npayload:\n");
    let body = match &event["payload"] {
        Value::Null => field(event, "body_text"),
        payload => serde_json::to_string_pretty(payload).unwrap_or_default(),
    };
    for line in body.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str("\ndeliveries:\n");
    for delivery in event["deliveries"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {} to {} (route {}): {} after {} attempt(s)\n",
            field(delivery, "id"),
            field(delivery, "destination"),
            field(delivery, "route"),
            paint_state(&field(delivery, "status"), color),
            field(delivery, "attempts"),
        ));
        for attempt in delivery["attempt_log"].as_array().into_iter().flatten() {
            out.push_str(&format!("    {}\n", attempt_line(attempt)));
        }
    }
    out
}

/// One attempt: when, the answer (status or error) and how long it took.
fn attempt_line(attempt: &Value) -> String {
    let answer = match (&attempt["status_code"], &attempt["error"]) {
        (Value::Number(status), _) => format!("HTTP {status}"),
        (_, Value::String(error)) => error.clone(),
        _ => "no answer".to_owned(),
    };
    let mut line = format!("{} {answer}", field(attempt, "started_at"));
    if let Some(ms) = attempt["latency_ms"].as_u64() {
        line.push_str(&format!(" in {ms} ms"));
    }
    line
}

/// Prints new events as they arrive, oldest first, after the latest ten.
async fn tail(
    api: &Gateway,
    filter: &EventFilter,
    every: Duration,
    json: bool,
) -> Result<(), OpsError> {
    let color = !json && colors();
    let mut seen: HashSet<String> = HashSet::new();
    let mut latest: Option<String> = None;
    let mut first = true;
    loop {
        let mut params = query(filter)?;
        params.push(("since", latest.clone()));
        let limit = if first { 10 } else { usize::MAX };
        let mut fresh = Vec::new();
        let mut cursor = None;
        loop {
            let mut page = params.clone();
            page.push(("limit", Some(limit.min(API_PAGE).to_string())));
            page.push(("cursor", cursor.take()));
            let answer = api.get("/api/v1/events", &page).await?;
            fresh.extend(answer["items"].as_array().into_iter().flatten().cloned());
            match answer["next_cursor"].as_str() {
                Some(next) if fresh.len() < limit => cursor = Some(next.to_owned()),
                _ => break,
            }
        }
        first = false;
        fresh.retain(|event| !seen.contains(&field(event, "id")));
        for event in fresh.iter().rev() {
            if json {
                println!("{event}");
            } else {
                println!("{}", event_row(event, color).join("  "));
            }
        }
        // The next poll starts at the newest time printed (inclusive): remember the ids
        // seen at that instant so they are not printed twice.
        if let Some(newest) = fresh.first().map(|e| field(e, "received_at"))
            && latest.as_deref() != Some(newest.as_str())
        {
            seen.clear();
            latest = Some(newest);
        }
        let at_latest =
            |event: &&Value| latest.as_deref() == Some(field(event, "received_at").as_str());
        seen.extend(fresh.iter().filter(at_latest).map(|e| field(e, "id")));
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_as_text_with_its_attempts() {
        let event = serde_json::json!({
            "event": {"id": "evt_1", "state": "delivered", "event_type": "push", "source": "github",
                      "received_at": "2026-12-07T01:00:00Z", "idempotency_key": "d-1"},
            "headers": [{"name": "x-hub-signature-256", "value": "[redacted]"}],
            "payload": {"ref": "main"},
            "deliveries": [{"id": "msg_1", "destination": "ci", "route": "pushes", "status": "delivered",
                            "attempts": 2, "attempt_log": [
                                {"started_at": "2026-12-07T01:00:01Z", "status_code": 500, "latency_ms": 12},
                                {"started_at": "2026-12-07T01:00:03Z", "error": "timeout"}]}],
        });
        let text = describe(&event, false);
        assert!(
            text.starts_with("evt_1  delivered push from github, received 2026-12-07T01:00:00Z\n"),
            "{text}"
        );
        assert!(
            text.contains("  x-hub-signature-256: [redacted]\n"),
            "{text}"
        );
        assert!(text.contains("    \"ref\": \"main\"\n"), "{text}");
        assert!(
            text.contains("  msg_1 to ci (route pushes): delivered after 2 attempt(s)\n"),
            "{text}"
        );
        assert!(
            text.contains("    2026-12-07T01:00:01Z HTTP 500 in 12 ms\n"),
            "{text}"
        );
        assert!(
            text.contains("    2026-12-07T01:00:03Z timeout\n"),
            "{text}"
        );
    }
}
