//! How the bulk commands print: aligned tables, or one JSON object per line with `--json`;
//! colors only on a terminal and without `NO_COLOR`.

use std::io::IsTerminal as _;

use serde_json::Value;

/// Whether standard output gets colors.
pub fn colors() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// `text` in the color an event or delivery state reads in (green delivered, yellow
/// pending, red dead letters), when `color`.
pub fn paint_state(text: &str, color: bool) -> String {
    let code = match text {
        "delivered" => "32",
        "pending" | "in_flight" => "33",
        "dead_lettered" | "discarded" => "31",
        _ => "2",
    };
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// Columns padded to their widest cell, two spaces apart; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(i) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            text.push_str(cell);
            if i < last {
                let pad = widths[i] - cell.chars().count() + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.push('\n');
        text
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// A JSON string field, or `-`.
pub fn field(value: &Value, name: &str) -> String {
    match &value[name] {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// An event's deliveries as `delivered/pending/dead` counts.
pub fn counts(event: &Value) -> String {
    let count = |name: &str| event["counts"][name].as_u64().unwrap_or(0);
    format!(
        "{}/{}/{}",
        count("delivered"),
        count("pending") + count("in_flight"),
        count("dead_lettered")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_their_columns() {
        let rows = vec![
            vec!["evt_1".to_owned(), "github".to_owned(), "push".to_owned()],
            vec![
                "evt_22".to_owned(),
                "stripe".to_owned(),
                "charge.succeeded".to_owned(),
            ],
        ];
        let text = table(&["ID", "SOURCE", "TYPE"], &rows);
        assert_eq!(
            text,
            "ID      SOURCE  TYPE\nevt_1   github  push\nevt_22  stripe  charge.succeeded\n"
        );
    }

    #[test]
    fn states_are_colored_only_when_asked() {
        assert_eq!(paint_state("delivered", false), "delivered");
        assert_eq!(
            paint_state("dead_lettered", true),
            "\x1b[31mdead_lettered\x1b[0m"
        );
    }

    #[test]
    fn counts_read_delivered_pending_dead() {
        let event = serde_json::json!({"counts": {"delivered": 2, "pending": 1, "in_flight": 1, "dead_lettered": 0}});
        assert_eq!(counts(&event), "2/2/0");
        assert_eq!(field(&event, "missing"), "-");
    }
}
