//! Just enough Markdown for the docs tests: fenced code blocks, inline links and the anchors
//! GitHub gives headings.

use std::collections::HashSet;

/// A fenced code block: its info string (`toml`, `rust,ignore`…), its text and the line its
/// fence opens on (1-based).
#[derive(Debug)]
pub struct Block {
    pub info: String,
    pub text: String,
    pub line: usize,
}

/// The fenced code blocks of `markdown` (fences of three or more backticks, any indentation).
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, usize, usize, String)> = None; // fence length, info, text
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
        match open.as_mut() {
            None if ticks >= 3 => {
                let info = trimmed[ticks..].trim().to_owned();
                open = Some((info, ticks, i + 1, String::new()));
            }
            None => {}
            Some((_, fence, _, _)) if ticks >= *fence && trimmed[ticks..].trim().is_empty() => {
                let (info, _, line, text) = open.take().expect("an open block");
                blocks.push(Block { info, text, line });
            }
            Some((_, _, _, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    blocks
}

/// `markdown` without its fenced blocks and inline code spans (whose text is not Markdown),
/// line by line, so line numbers still match.
pub fn prose(markdown: &str) -> Vec<String> {
    let mut fence: Option<usize> = None;
    let mut lines = Vec::new();
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
        match fence {
            None if ticks >= 3 => {
                fence = Some(ticks);
                lines.push(String::new());
            }
            Some(open) if ticks >= open && trimmed[ticks..].trim().is_empty() => {
                fence = None;
                lines.push(String::new());
            }
            Some(_) => lines.push(String::new()),
            None => lines.push(without_code_spans(line)),
        }
    }
    lines
}

fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            out.push(c);
        }
    }
    out
}

/// The targets of the inline links `[text](target)` on `line` (a `"title"` after the target is
/// dropped).
pub fn links(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split_whitespace().next().unwrap_or("");
        targets.push(target.to_owned());
        rest = &after[end..];
    }
    targets
}

/// The anchor GitHub gives a heading: lower case, punctuation dropped (letters, digits, `-` and
/// `_` kept), spaces as `-`.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor of `markdown`'s headings; a repeated heading gets `-1`, `-2`… as on GitHub.
pub fn anchors(markdown: &str) -> HashSet<String> {
    let mut anchors = HashSet::new();
    for line in prose_with_code_spans(markdown) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let text = heading.trim_start_matches('#');
        if !text.starts_with(' ') {
            continue;
        }
        let base = slug(&text.replace('`', ""));
        let mut anchor = base.clone();
        let mut n = 0;
        while !anchors.insert(anchor.clone()) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
    }
    anchors
}

/// The lines outside fenced blocks, code spans kept (a heading's code span is part of its
/// anchor).
fn prose_with_code_spans(markdown: &str) -> Vec<&str> {
    let mut fence: Option<usize> = None;
    let mut lines = Vec::new();
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
        match fence {
            None if ticks >= 3 => fence = Some(ticks),
            Some(open) if ticks >= open && trimmed[ticks..].trim().is_empty() => fence = None,
            Some(_) => {}
            None => lines.push(line),
        }
    }
    lines
}
