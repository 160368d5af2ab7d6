//! The README's first-run walkthrough, run as written: the shell block after
//! `<!-- walkthrough -->` is executed by bash, command by command, and each command's output
//! must match the `# → …` line under it (`…` stands for ids and times). Only what a test must
//! change is changed: `cargo run -q --release -p relay-standalone` is the binary under test, the
//! sample configuration is copied with its port (8080) replaced by a free one, and the commands
//! run in a temporary directory (the store `relay.db` is created there).

mod support;

use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::free_port;

const README: &str = include_str!("../../../README.md");
const SAMPLE: &str = include_str!("../relay.toml");
const CARGO_RUN: &str = "cargo run -q --release -p relay-standalone";

/// One command of the walkthrough and the pattern its output must contain.
#[derive(Debug)]
struct Step {
    command: String,
    expected: Option<String>,
}

/// The commands of the block after the marker, joined across `\` continuations.
fn steps() -> Vec<Step> {
    let block = README
        .split("<!-- walkthrough -->")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("\n```").next())
        .expect("the README has a walkthrough block");
    let mut steps: Vec<Step> = Vec::new();
    let mut pending = String::new();
    for line in block.lines() {
        if let Some(expected) = line.strip_prefix("# → ") {
            let step = steps.last_mut().expect("an expectation follows a command");
            step.expected = Some(expected.to_owned());
        } else if line.starts_with('#') || line.trim().is_empty() {
            continue;
        } else if let Some(start) = line.strip_suffix('\\') {
            pending.push_str(start);
        } else {
            pending.push_str(line);
            steps.push(Step {
                command: std::mem::take(&mut pending),
                expected: None,
            });
        }
    }
    steps
}

/// `expected` with `…` as "anything" is found in `output`.
fn matches(expected: &str, output: &str) -> bool {
    let pattern: Vec<String> = expected.split('…').map(regex::escape).collect();
    let re = regex::Regex::new(&pattern.join(".*?")).expect("a pattern");
    re.is_match(output)
}

#[test]
fn the_readme_walkthrough_prints_what_it_says() {
    let steps = steps();
    assert!(steps.len() >= 8, "the walkthrough has its steps: {steps:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port().port();
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        SAMPLE.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")),
    )
    .expect("write config");
    let binary = env!("CARGO_BIN_EXE_relay");
    let mut script = String::from("set -u\n");
    for (i, step) in steps.iter().enumerate() {
        let command = step
            .command
            .replace(&format!("{CARGO_RUN} --"), binary)
            .replace(CARGO_RUN, binary)
            .replace("localhost:8080", &format!("localhost:{port}"));
        script.push_str(&format!("echo '@@step {i}'\n{command}\necho\n"));
    }
    let mut shell = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("RELAY_CONFIG", &config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .expect("run bash");
    let group = shell.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(90);
    while shell.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Whatever happened, nothing of the walkthrough outlives the test.
    let _ = Command::new("kill")
        .args(["-9", "--", &format!("-{group}")])
        .status();
    let output = shell.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    let outputs: Vec<&str> = stdout.split("@@step ").skip(1).collect();
    assert_eq!(outputs.len(), steps.len(), "every command ran:\n{stdout}");
    for (step, output) in steps.iter().zip(&outputs) {
        if let Some(expected) = &step.expected {
            assert!(
                matches(expected, output),
                "`{}` printed\n{output}\nnot matching\n{expected}",
                step.command
            );
        }
    }
}

#[test]
fn wildcards_stand_for_anything_and_nothing_else_does() {
    assert!(matches(r#"{"id":"evt_…"}"#, r#"{"id":"evt_01ab"}"#));
    assert!(!matches(r#"{"count":1}"#, r#"{"count":0}"#));
    assert!(matches("a…b…c", "a-b--c"));
}
