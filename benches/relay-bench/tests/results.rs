//! The dated results files in `benches/results/` stay readable by a script: every
//! `YYYY-MM-DD-<topic>.md` holds exactly one fenced block with the info string `csv results`,
//! whose header is [`HEADER`] and whose rows have 11 cells each, an ISO date equal to the file's,
//! a hex commit or none, a numeric value, a numeric baseline value and ratio where present, and a
//! state of `quiet`, `disturbed` or nothing. The format is described in
//! `benches/results/README.md`. Std-only parsing: a small RFC 4180 line reader, no CSV crate.

use std::path::{Path, PathBuf};

/// The header line every `results` block starts with.
const HEADER: &str =
    "date,commit,benchmark,store,measurement,value,unit,baseline,baseline_value,ratio,state";

/// The cells of [`HEADER`], by position.
const DATE: usize = 0;
const COMMIT: usize = 1;
const BENCHMARK: usize = 2;
const MEASUREMENT: usize = 4;
const VALUE: usize = 5;
const UNIT: usize = 6;
const BASELINE_VALUE: usize = 8;
const RATIO: usize = 9;
const STATE: usize = 10;
const CELLS: usize = 11;

/// `benches/results/`.
fn results_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../results")
}

/// The cells of one CSV line (RFC 4180: a quoted cell may hold commas, `""` is a quote).
fn cells(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cell.push('"');
                } else {
                    quoted = false;
                    if chars.peek().is_some_and(|next| *next != ',') {
                        return Err(format!("text after a closing quote in `{line}`"));
                    }
                }
            }
            '"' if at_start => quoted = true,
            '"' => return Err(format!("a quote inside an unquoted cell in `{line}`")),
            ',' if !quoted => {
                cells.push(std::mem::take(&mut cell));
                at_start = true;
                continue;
            }
            c => cell.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err(format!("an unterminated quote in `{line}`"));
    }
    cells.push(cell);
    Ok(cells)
}

/// Whether `text` is a calendar date written `YYYY-MM-DD`.
fn is_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return false;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Whether `text` is a plain decimal number (`18205`, `0.21`, `-3`, `1e3`): no thousands
/// separator, unit or percent sign, and finite.
fn is_number(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && text.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Whether `text` is an abbreviated or full commit id.
fn is_commit(text: &str) -> bool {
    (7..=40).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// The date of a results file's name `YYYY-MM-DD-<topic>.md` (topic: lower-case letters,
/// digits and `-`), or why the name is not one.
fn file_date(name: &str) -> Result<&str, String> {
    let stem = name
        .strip_suffix(".md")
        .ok_or_else(|| format!("{name}: not a .md file"))?;
    let (date, topic) = (stem.get(..10).unwrap_or(""), stem.get(10..).unwrap_or(""));
    let topic_ok = topic.len() > 1
        && topic.starts_with('-')
        && topic[1..]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if is_iso_date(date) && topic_ok {
        Ok(date)
    } else {
        Err(format!("{name}: not named YYYY-MM-DD-<topic>.md"))
    }
}

/// The `csv results` blocks of `markdown`, each as (line of its opening fence, its lines);
/// fences of other blocks are followed so a quoted example inside them does not count.
fn results_blocks(markdown: &str) -> Result<Vec<(usize, Vec<&str>)>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, bool, usize, Vec<&str>)> = None; // ticks, results?, line, lines
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
        match open.as_mut() {
            None if ticks >= 3 => {
                let results = trimmed[ticks..].trim() == "csv results";
                open = Some((ticks, results, i + 1, Vec::new()));
            }
            None => {}
            Some((fence, _, _, _)) if ticks >= *fence && trimmed[ticks..].trim().is_empty() => {
                if let Some((_, true, at, lines)) = open.take() {
                    blocks.push((at, lines));
                }
            }
            Some((_, _, _, lines)) => lines.push(line),
        }
    }
    match open {
        Some((_, _, at, _)) => Err(format!("the block opened on line {at} is never closed")),
        None => Ok(blocks),
    }
}

/// Every reason the results file `name` with the text `markdown` is not readable (empty: it
/// is), and the number of rows it holds.
fn check(name: &str, markdown: &str) -> (Vec<String>, usize) {
    let date = match file_date(name) {
        Ok(date) => date,
        Err(why) => return (vec![why], 0),
    };
    let blocks = match results_blocks(markdown) {
        Ok(blocks) => blocks,
        Err(why) => return (vec![format!("{name}: {why}")], 0),
    };
    let [(at, lines)] = blocks.as_slice() else {
        let found = blocks.len();
        return (
            vec![format!("{name}: {found} ```csv results blocks, not one")],
            0,
        );
    };
    let mut problems = Vec::new();
    let mut rows = lines.iter().enumerate().map(|(i, l)| (at + 1 + i, *l));
    match rows.next() {
        Some((_, header)) if header.trim_end() == HEADER => {}
        Some((n, header)) => problems.push(format!("{name}:{n}: the header is `{header}`")),
        None => problems.push(format!("{name}:{at}: an empty results block")),
    }
    let mut count = 0;
    for (n, line) in rows.filter(|(_, line)| !line.trim().is_empty()) {
        count += 1;
        let mut bad = |why: String| problems.push(format!("{name}:{n}: {why}"));
        let row = match cells(line.trim_end()) {
            Ok(row) => row,
            Err(why) => {
                bad(why);
                continue;
            }
        };
        if row.len() != CELLS {
            bad(format!("{} cells, not {CELLS}", row.len()));
            continue;
        }
        if !is_iso_date(&row[DATE]) {
            bad(format!("date `{}` is not YYYY-MM-DD", row[DATE]));
        } else if row[DATE] != date {
            bad(format!("date {} is not the file's {date}", row[DATE]));
        }
        if !row[COMMIT].is_empty() && !is_commit(&row[COMMIT]) {
            bad(format!("commit `{}` is not 7-40 hex digits", row[COMMIT]));
        }
        for (cell, what) in [
            (BENCHMARK, "benchmark"),
            (MEASUREMENT, "measurement"),
            (UNIT, "unit"),
        ] {
            if row[cell].trim().is_empty() {
                bad(format!("no {what}"));
            }
        }
        if !is_number(&row[VALUE]) {
            bad(format!("value `{}` is not a number", row[VALUE]));
        }
        for (cell, what) in [(BASELINE_VALUE, "baseline_value"), (RATIO, "ratio")] {
            if !row[cell].is_empty() && !is_number(&row[cell]) {
                bad(format!("{what} `{}` is not a number", row[cell]));
            }
        }
        if !matches!(row[STATE].as_str(), "" | "quiet" | "disturbed") {
            bad(format!("state `{}` is not quiet or disturbed", row[STATE]));
        }
    }
    if count == 0 {
        problems.push(format!("{name}:{at}: no rows"));
    }
    (problems, count)
}

#[test]
fn every_results_file_has_one_readable_results_block() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(results_dir())
        .expect("benches/results exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .filter(|path| path.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    let mut rows = 0;
    for path in &files {
        let name = path.file_name().expect("a name").to_string_lossy();
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (found, count) = check(&name, &text);
        problems.extend(found);
        rows += count;
    }
    assert!(
        files.len() >= 16,
        "the dated results files are there (found {})",
        files.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(rows >= files.len(), "every file has rows (found {rows})");
}

/// A results file of `rows` under the header.
fn file(rows: &[&str]) -> String {
    format!(
        "# A run\n\nText.\n\n```sh\nrelay-bench ingest\n```\n\n```csv results\n{HEADER}\n{}\n```\n",
        rows.join("\n")
    )
}

const GOOD: &str = "2026-12-07,f6a597b,ingest,sqlite,gateway FULL events/s,18205,events/s,bare axum,85743,0.21,quiet";

#[test]
fn a_well_formed_file_passes() {
    let quoted = "2026-12-07,,deliver,sqlite,\"binary D, round 2\",16767,deliveries/s,\"raw \"\"hyper\"\" client\",118359,0.14,";
    let (problems, rows) = check("2026-12-07-perf.md", &file(&[GOOD, quoted]));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(rows, 2);
    assert_eq!(
        cells(quoted).expect("a row")[4..8],
        [
            "binary D, round 2",
            "16767",
            "deliveries/s",
            "raw \"hyper\" client"
        ]
    );
}

#[test]
fn a_malformed_file_is_refused_with_its_reason() {
    let name = "2026-12-07-perf.md";
    let refused = |name: &str, text: &str, reason: &str| {
        let (problems, _) = check(name, text);
        assert!(
            problems.iter().any(|p| p.contains(reason)),
            "expected `{reason}` in {problems:?}"
        );
    };
    refused(
        "notes.md",
        &file(&[GOOD]),
        "not named YYYY-MM-DD-<topic>.md",
    );
    refused("2026-13-07-perf.md", &file(&[GOOD]), "not named");
    refused("2026-12-07-Perf.md", &file(&[GOOD]), "not named");
    refused(name, "# A run\n\nNo data.\n", "0 ```csv results blocks");
    let twice = format!("{}{}", file(&[GOOD]), file(&[GOOD]));
    refused(name, &twice, "2 ```csv results blocks");
    refused(name, "```csv results\n", "never closed");
    let quoted_example = format!("````text\n{}````\n", file(&[GOOD]));
    refused(name, &quoted_example, "0 ```csv results blocks");
    refused(
        name,
        &file(&[GOOD]).replace(HEADER, "date,value"),
        "the header is `date,value`",
    );
    refused(name, &file(&[]), "no rows");
    let cases = [
        (GOOD.replace(",quiet", ""), "10 cells, not 11"),
        (
            GOOD.replace("2026-12-07", "2026-02-30"),
            "is not YYYY-MM-DD",
        ),
        (GOOD.replace("2026-12-07", "7.12.2026"), "is not YYYY-MM-DD"),
        (
            GOOD.replace("2026-12-07", "2026-12-06"),
            "is not the file's 2026-12-07",
        ),
        (GOOD.replace("f6a597b", "HEAD"), "is not 7-40 hex digits"),
        (GOOD.replace(",ingest,", ",,"), "no benchmark"),
        (GOOD.replace(",events/s,bare", ",,bare"), "no unit"),
        (
            GOOD.replace(",18205,", ",\"18,205\","),
            "value `18,205` is not a number",
        ),
        (GOOD.replace(",18205,", ",,"), "value `` is not a number"),
        (
            GOOD.replace(",18205,", ",inf,"),
            "value `inf` is not a number",
        ),
        (
            GOOD.replace(",85743,", ",85k,"),
            "baseline_value `85k` is not a number",
        ),
        (
            GOOD.replace(",0.21,", ",21%,"),
            "ratio `21%` is not a number",
        ),
        (GOOD.replace(",quiet", ",busy"), "state `busy`"),
        (
            GOOD.replace("gateway FULL", "\"gateway FULL"),
            "an unterminated quote",
        ),
        (
            GOOD.replace("gateway FULL", "gate\"way FULL"),
            "a quote inside an unquoted cell",
        ),
    ];
    for (row, reason) in cases {
        refused(name, &file(&[GOOD, &row]), reason);
    }
}

#[test]
fn dates_and_numbers_are_read_strictly() {
    assert!(is_iso_date("2024-02-29"));
    assert!(!is_iso_date("2026-02-29"));
    assert!(!is_iso_date("2026-04-31"));
    assert!(!is_iso_date("2026-00-10"));
    assert!(!is_iso_date("2026-1-10"));
    for number in ["0", "18205", "0.085", "-3", "1e3"] {
        assert!(is_number(number), "{number}");
    }
    for not in ["", "1,5", "21%", "NaN", "inf", "12 ms", "0x10"] {
        assert!(!is_number(not), "{not}");
    }
    assert!(is_commit("f6a597b"));
    assert!(!is_commit("f6a59"));
    assert!(!is_commit("F6A597B"));
}
