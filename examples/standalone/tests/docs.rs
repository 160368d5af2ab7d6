//! The README and the book (`docs/src`) stay true to the code:
//! - every ```toml block passes `relay config check` (the standalone's real loader and
//!   validation), with each `env:NAME` it reads set, so a sample that does not parse, names a
//!   missing object or uses an unknown key fails CI;
//! - every relative link between the docs (README, book, RELIABILITY.md, BENCHMARKS.md) names a
//!   file that exists and, with `#anchor`, a heading of that file; every chapter is in the
//!   book's `SUMMARY.md` and in `tests/src/book.rs`, which compiles its Rust examples.

#[path = "docs/markdown.rs"]
mod markdown;

use std::path::{Path, PathBuf};
use std::process::Command;

use markdown::{Block, anchors, blocks, links, prose, slug};

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The book's chapters, `SUMMARY.md` included.
fn chapters() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs/src"))
        .expect("docs/src exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files
}

/// The README and the book.
fn samples_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    files.extend(chapters());
    files
}

/// Every documentation file whose links must resolve.
fn linked_files() -> Vec<PathBuf> {
    let mut files = samples_files();
    files.push(root().join("RELIABILITY.md"));
    files.push(root().join("BENCHMARKS.md"));
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names a TOML text reads with `env:NAME`.
fn env_names(toml: &str) -> Vec<String> {
    let re = regex::Regex::new(r"env:([A-Za-z_][A-Za-z0-9_]*)").expect("a pattern");
    re.captures_iter(toml).map(|c| c[1].to_owned()).collect()
}

/// `relay config check` on `toml`, with every `env:` name it reads set: `Ok` or the reasons.
fn config_check(toml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("relay.toml");
    std::fs::write(&file, toml).expect("write config");
    let mut command = Command::new(env!("CARGO_BIN_EXE_relay"));
    command
        .args(["config", "check"])
        .arg(&file)
        .current_dir(dir.path());
    for name in env_names(toml) {
        command.env(name, "a-test-value");
    }
    let output = command.output().expect("run relay");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn every_toml_sample_of_the_readme_and_the_book_passes_config_check() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in samples_files() {
        let text = read(&path);
        let toml: Vec<Block> = blocks(&text)
            .into_iter()
            .filter(|b| b.info == "toml")
            .collect();
        for block in toml {
            checked += 1;
            if let Err(reasons) = config_check(&block.text) {
                failures.push(format!("{}:{}:\n{reasons}", path.display(), block.line));
            }
        }
    }
    assert!(
        checked >= 6,
        "the docs have their TOML samples (found {checked})"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_broken_sample_fails_the_check() {
    // The README's old sample had `[delivery]` twice, which is not TOML.
    let twice = "[delivery]\nallow_cidrs = []\n\n[delivery]\nallow_cidrs = [\"127.0.0.0/8\"]\n";
    let reasons = config_check(twice).expect_err("a duplicate table");
    assert!(reasons.contains("duplicate key `delivery`"), "{reasons}");
    // Alerts naming a destination that is not there.
    let dangling = "[alerts]\ndestination = \"ops\"\n";
    let reasons = config_check(dangling).expect_err("a dangling name");
    assert!(reasons.contains("alerts.destination"), "{reasons}");
    // `env:` names are set for the check, so only their absence from the file matters.
    assert_eq!(
        env_names("secrets = [\"env:GITHUB_SECRET\", \"plain\"]\ntoken = \"env:T_2\""),
        ["GITHUB_SECRET", "T_2"]
    );
    config_check("[admin]\nmetrics_token = \"env:RELAY_DOCS_TEST_TOKEN\"\n")
        .expect("env: names are set");
}

/// Why `target`, linked from `from`, does not resolve (`None`: it does).
fn broken(from: &Path, target: &str) -> Option<String> {
    let (file, anchor) = match target.split_once('#') {
        Some((file, anchor)) => (file, Some(anchor)),
        None => (target, None),
    };
    let path = if file.is_empty() {
        from.to_owned()
    } else {
        from.parent().expect("a directory").join(file)
    };
    if !path.exists() {
        return Some(format!("no file {}", path.display()));
    }
    let anchor = anchor?;
    if path.extension().is_none_or(|e| e != "md") {
        return None;
    }
    if anchors(&read(&path)).contains(anchor) {
        None
    } else {
        Some(format!("no heading #{anchor} in {}", path.display()))
    }
}

fn is_external(target: &str) -> bool {
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| target.starts_with(scheme))
}

#[test]
fn relative_links_between_the_docs_resolve() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in linked_files() {
        for (i, line) in prose(&read(&path)).iter().enumerate() {
            for target in links(line).into_iter().filter(|t| !is_external(t)) {
                checked += 1;
                if let Some(why) = broken(&path, &target) {
                    failures.push(format!("{}:{}: {target}: {why}", path.display(), i + 1));
                }
            }
        }
    }
    assert!(
        checked >= 50,
        "the docs link to each other (found {checked})"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_chapter_is_in_the_summary() {
    let summary = read(&root().join("docs/src/SUMMARY.md"));
    let listed: Vec<String> = prose(&summary).iter().flat_map(|l| links(l)).collect();
    for chapter in chapters() {
        let name = chapter.file_name().expect("a name").to_string_lossy();
        if name != "SUMMARY.md" {
            assert!(
                listed.contains(&name.to_string()),
                "{name} is not in SUMMARY.md"
            );
        }
    }
    assert!(root().join("docs/book.toml").exists());
    // Every chapter's Rust examples are compiled as doctests of relay-tests.
    let doctests = read(&root().join("tests/src/book.rs"));
    for chapter in chapters() {
        let name = chapter.file_name().expect("a name").to_string_lossy();
        if name != "SUMMARY.md" {
            let include = format!("include_str!(\"../../docs/src/{name}\")");
            assert!(
                doctests.contains(&include),
                "{name} is not in tests/src/book.rs"
            );
        }
    }
}

#[test]
fn the_link_checker_finds_broken_links_and_headings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.md");
    std::fs::write(&a, "# Top\n\n## `relay listen`: on localhost\n\n## Top\n").expect("write");
    assert_eq!(broken(&a, "#top"), None);
    assert_eq!(broken(&a, "#top-1"), None, "a repeated heading is numbered");
    assert_eq!(broken(&a, "a.md#relay-listen-on-localhost"), None);
    assert!(broken(&a, "#nowhere").is_some());
    assert!(broken(&a, "b.md").is_some());
    assert_eq!(slug("Traces (OpenTelemetry)"), "traces-opentelemetry");
    assert_eq!(
        links("see [x](a.md#b) and `[y](not-a-link)` or [z](c.md \"title\")")
            .into_iter()
            .collect::<Vec<_>>(),
        ["a.md#b", "not-a-link", "c.md"]
    );
    assert_eq!(
        prose("a `[y](z)` b\n```\n[q](r)\n```\n"),
        ["a  b", "", "", ""]
    );
}
