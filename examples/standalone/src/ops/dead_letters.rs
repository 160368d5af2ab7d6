//! `relay dead-letters list|replay|discard`.

use serde_json::{Value, json};

use super::args::{DeadLetterFilter, DeadLettersCommand, GatewayArgs};
use super::client::{Gateway, OpsError, time_flag};
use super::output::{field, table};

const API_PAGE: usize = 200;

/// Runs `relay dead-letters …`.
pub async fn run(command: DeadLettersCommand) -> Result<(), OpsError> {
    match command {
        DeadLettersCommand::List {
            gateway,
            filter,
            limit,
        } => {
            let api = Gateway::new(&gateway)?;
            let letters = list(&api, &filter, limit).await?;
            if gateway.json {
                letters.iter().for_each(|letter| println!("{letter}"));
            } else {
                let rows: Vec<Vec<String>> = letters.iter().map(row).collect();
                let header = [
                    "UPDATED",
                    "ID",
                    "EVENT",
                    "DESTINATION",
                    "ATTEMPTS",
                    "LAST ERROR",
                ];
                print!("{}", table(&header, &rows));
            }
            Ok(())
        }
        DeadLettersCommand::Replay {
            gateway,
            ids,
            filter,
        } => act(&gateway, "replay", &ids, &filter).await,
        DeadLettersCommand::Discard {
            gateway,
            ids,
            filter,
            all,
        } => {
            let unfiltered = filter.destination.is_none()
                && filter.source.is_none()
                && filter.event_id.is_none()
                && filter.since.is_none();
            if ids.is_empty() && unfiltered && !all {
                return Err(OpsError::Usage(
                    "discarding every dead letter needs --all (or give ids or filters)".into(),
                ));
            }
            act(&gateway, "discard", &ids, &filter).await
        }
    }
}

fn row(letter: &Value) -> Vec<String> {
    let error: String = field(letter, "last_error").chars().take(60).collect();
    vec![
        field(letter, "updated_at"),
        field(letter, "id"),
        field(letter, "event_id"),
        field(letter, "destination"),
        field(letter, "attempts"),
        error,
    ]
}

fn query(filter: &DeadLetterFilter) -> Result<Vec<(&'static str, Option<String>)>, OpsError> {
    Ok(vec![
        ("destination", filter.destination.clone()),
        ("source", filter.source.clone()),
        ("event_id", filter.event_id.clone()),
        ("since", time_flag("since", filter.since.as_deref())?),
    ])
}

async fn list(
    api: &Gateway,
    filter: &DeadLetterFilter,
    limit: usize,
) -> Result<Vec<Value>, OpsError> {
    if limit == 0 {
        return Err(OpsError::Usage("--limit must be at least 1".into()));
    }
    let params = query(filter)?;
    let mut letters = Vec::new();
    let mut cursor = None;
    while letters.len() < limit {
        let mut page = params.clone();
        page.push((
            "limit",
            Some((limit - letters.len()).min(API_PAGE).to_string()),
        ));
        page.push(("cursor", cursor.take()));
        let answer = api.get("/api/v1/dead-letters", &page).await?;
        letters.extend(answer["items"].as_array().into_iter().flatten().cloned());
        match answer["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    Ok(letters)
}

/// Replays or discards (`verb`) the dead letters `ids`, or those matching `filter`.
async fn act(
    gateway: &GatewayArgs,
    verb: &str,
    ids: &[String],
    filter: &DeadLetterFilter,
) -> Result<(), OpsError> {
    let api = Gateway::new(gateway)?;
    let mut count = 0;
    if ids.is_empty() {
        let mut body = json!({});
        for (name, value) in query(filter)? {
            if let Some(value) = value {
                body[name] = Value::String(value);
            }
        }
        let answer = api
            .post(&format!("/api/v1/dead-letters/{verb}"), &body)
            .await?;
        count += answer["count"].as_u64().unwrap_or(0);
    } else {
        let filtered = filter.destination.is_some()
            || filter.source.is_some()
            || filter.event_id.is_some()
            || filter.since.is_some();
        if filtered {
            return Err(OpsError::Usage(
                "give dead-letter ids or filters, not both".into(),
            ));
        }
        for id in ids {
            let answer = api
                .post(&format!("/api/v1/dead-letters/{id}/{verb}"), &json!({}))
                .await?;
            count += answer["count"].as_u64().unwrap_or(0);
        }
    }
    let done = if verb == "replay" {
        "replayed"
    } else {
        "discarded"
    };
    if gateway.json {
        println!("{}", json!({ done: count }));
    } else {
        println!("{done} {count} dead letters");
    }
    Ok(())
}
