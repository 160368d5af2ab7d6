//! `relay replay`: stored events sent again, by id or by filters, a page at a time through
//! `POST /api/v1/events/replay`, with a progress bar (rate and ETA) and a resume file.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::args::ReplayArgs;
use super::client::{Gateway, OpsError, time_flag};

/// What a replay did (or, on a dry run, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Events matching the selection so far.
    pub events: u64,
    /// Deliveries scheduled.
    pub scheduled: u64,
    /// Deliveries skipped (their destination already has the event).
    pub skipped: u64,
}

/// The resume file: the selection it belongs to, where to go on, and the totals so far.
#[derive(Debug, Serialize, Deserialize)]
struct Progress {
    selection: Value,
    cursor: Option<String>,
    expected: Option<u64>,
    done: Totals,
}

/// Runs `relay replay`.
pub async fn run(args: ReplayArgs) -> Result<(), OpsError> {
    let api = Gateway::new(&args.gateway)?;
    let totals = if args.ids.is_empty() {
        by_filters(&api, &args).await?
    } else {
        by_ids(&api, &args).await?
    };
    let verb = if args.dry_run {
        "would schedule"
    } else {
        "scheduled"
    };
    if args.gateway.json {
        println!(
            "{}",
            json!({"dry_run": args.dry_run, "events": totals.events,
            "scheduled": totals.scheduled, "skipped": totals.skipped})
        );
    } else {
        println!(
            "{} events: {verb} {} deliveries, skipped {} (already delivered or in flight)",
            totals.events, totals.scheduled, totals.skipped
        );
    }
    Ok(())
}

/// The request's selection: the filters as the API takes them.
fn selection(args: &ReplayArgs) -> Result<Value, OpsError> {
    let filter = &args.filter;
    let mut selection = json!({ "force": args.force });
    let fields = [
        ("source", filter.source.clone()),
        ("event_type", filter.event_type.clone()),
        ("state", filter.state.map(|s| s.as_str().to_owned())),
        ("since", time_flag("since", filter.since.as_deref())?),
        ("until", time_flag("until", filter.until.as_deref())?),
        ("destination", args.destination.clone()),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            selection[name] = Value::String(value);
        }
    }
    Ok(selection)
}

/// Pages through the matching events: a dry run first to count (for the progress bar),
/// then the replay itself, saving progress after each page when `--resume` is given.
async fn by_filters(api: &Gateway, args: &ReplayArgs) -> Result<Totals, OpsError> {
    let mut selection = selection(args)?;
    let resume = args.resume.as_deref();
    let mut progress = match resume {
        Some(path) => load(path, &selection)?,
        None => None,
    }
    .unwrap_or(Progress {
        selection: selection.clone(),
        cursor: None,
        expected: None,
        done: Totals::default(),
    });
    if progress.expected.is_none() && !args.dry_run {
        progress.expected = Some(count(api, &selection, args.page).await?.events);
    }
    let bar = bar(progress.expected, progress.done.events, args.dry_run);
    selection["limit"] = json!(args.page);
    selection["dry_run"] = json!(args.dry_run);
    loop {
        let mut request = selection.clone();
        if let Some(cursor) = &progress.cursor {
            request["cursor"] = json!(cursor);
        }
        let page = api.post("/api/v1/events/replay", &request).await?;
        let number = |name: &str| page[name].as_u64().unwrap_or(0);
        progress.done.events += number("matched");
        progress.done.scheduled += number("scheduled");
        progress.done.skipped += number("skipped");
        bar.inc(number("matched"));
        progress.cursor = page["next_cursor"].as_str().map(str::to_owned);
        if progress.cursor.is_none() {
            break;
        }
        if let (Some(path), false) = (resume, args.dry_run) {
            save(path, &progress)?;
        }
    }
    bar.finish_and_clear();
    if let (Some(path), false) = (resume, args.dry_run) {
        remove(path)?;
    }
    Ok(progress.done)
}

/// A dry run over the selection: how many events match.
async fn count(api: &Gateway, selection: &Value, page: u64) -> Result<Totals, OpsError> {
    let mut totals = Totals::default();
    let mut request = selection.clone();
    request["dry_run"] = json!(true);
    request["limit"] = json!(page);
    loop {
        let answer = api.post("/api/v1/events/replay", &request).await?;
        totals.events += answer["matched"].as_u64().unwrap_or(0);
        match answer["next_cursor"].as_str() {
            Some(cursor) => request["cursor"] = json!(cursor),
            None => return Ok(totals),
        }
    }
}

/// A progress bar on standard error (drawn only on a terminal): events, rate, ETA.
fn bar(expected: Option<u64>, done: u64, dry_run: bool) -> ProgressBar {
    let bar = match expected {
        Some(total) => ProgressBar::new(total),
        None => ProgressBar::no_length(),
    };
    let template = if dry_run {
        "{spinner} counting: {pos} events ({per_sec})"
    } else {
        "{bar:40} {pos}/{len} events ({per_sec}, ETA {eta})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_position(done);
    bar
}

/// Replays the given events one by one (`POST /api/v1/events/{id}/replay`).
async fn by_ids(api: &Gateway, args: &ReplayArgs) -> Result<Totals, OpsError> {
    let filters = &args.filter;
    let filtered = filters.source.is_some()
        || filters.event_type.is_some()
        || filters.state.is_some()
        || filters.since.is_some()
        || filters.until.is_some()
        || args.destination.is_some()
        || args.resume.is_some();
    if filtered {
        return Err(OpsError::Usage(
            "give event ids or filters (--source, --event-type, --state, --since, --until, \
             --destination, --resume), not both"
                .into(),
        ));
    }
    if args.dry_run {
        return Err(OpsError::Usage(
            "--dry-run counts the events matching filters; with ids there is nothing to count"
                .into(),
        ));
    }
    let mut totals = Totals::default();
    let bar = bar(Some(args.ids.len() as u64), 0, false);
    for id in &args.ids {
        let path = format!("/api/v1/events/{id}/replay");
        let answer = api.post(&path, &json!({ "force": args.force })).await?;
        let len = |name: &str| answer[name].as_array().map_or(0, Vec::len) as u64;
        totals.scheduled += len("scheduled");
        totals.skipped += len("skipped");
        totals.events += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(totals)
}

/// The progress saved in `path` for this selection; `None` when there is no file.
fn load(path: &Path, selection: &Value) -> Result<Option<Progress>, OpsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(resume_error(path, error)),
    };
    let progress: Progress = serde_json::from_str(&text)
        .map_err(|e| resume_error(path, format!("not a resume file: {e}")))?;
    if &progress.selection != selection {
        return Err(resume_error(
            path,
            format!(
                "it belongs to another selection ({}); remove it or use the same flags",
                progress.selection
            ),
        ));
    }
    Ok(Some(progress))
}

/// Writes `progress` to `path` atomically (a temporary file renamed over it).
fn save(path: &Path, progress: &Progress) -> Result<(), OpsError> {
    let mut temporary = PathBuf::from(path);
    temporary.as_mut_os_string().push(".tmp");
    let text = serde_json::to_string(progress).map_err(|e| resume_error(path, e))?;
    std::fs::write(&temporary, text).map_err(|e| resume_error(path, e))?;
    std::fs::rename(&temporary, path).map_err(|e| resume_error(path, e))
}

fn remove(path: &Path) -> Result<(), OpsError> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(resume_error(path, error))
        }
        _ => Ok(()),
    }
}

fn resume_error(path: &Path, reason: impl std::fmt::Display) -> OpsError {
    OpsError::Resume {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn progress_is_saved_and_refused_for_another_selection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replay.json");
        let selection = json!({"force": false, "source": "github"});
        assert!(load(&path, &selection).unwrap().is_none());
        let progress = Progress {
            selection: selection.clone(),
            cursor: Some("evt_0195".into()),
            expected: Some(10),
            done: Totals {
                events: 4,
                scheduled: 8,
                skipped: 0,
            },
        };
        save(&path, &progress).unwrap();
        let loaded = load(&path, &selection).unwrap().unwrap();
        assert_eq!(loaded.cursor.as_deref(), Some("evt_0195"));
        assert_eq!(loaded.done, progress.done);
        let other = json!({"force": true, "source": "github"});
        assert!(matches!(load(&path, &other), Err(OpsError::Resume { .. })));
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            load(&path, &selection),
            Err(OpsError::Resume { .. })
        ));
        remove(&path).unwrap();
        remove(&path).unwrap();
    }
}
