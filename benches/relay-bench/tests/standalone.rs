//! The `standalone` scenario end to end at a tiny size: the `relay` binary (built beside
//! `relay-bench`: `cargo build -p relay-standalone` with the same profile, or `RELAY_BIN`)
//! accepts the configuration the scenario writes (`relay config check`, then `relay serve`),
//! every request to it and to bare axum is accepted, and the report has both rows and the
//! ratio. No timing is checked.

use std::path::PathBuf;
use std::process::Command;

/// The `relay` binary: `RELAY_BIN`, else `relay` beside `relay-bench`.
fn relay_bin() -> PathBuf {
    let bin = std::env::var_os("RELAY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_BIN_EXE_relay-bench")).with_file_name("relay")
        });
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build -p relay-standalone`, with the profile of \
         this test) or set RELAY_BIN",
        bin.display()
    );
    bin
}

#[test]
fn relay_serve_and_bare_axum_accept_every_push() {
    let output = Command::new(env!("CARGO_BIN_EXE_relay-bench"))
        .arg("standalone")
        .arg("--relay-bin")
        .arg(relay_bin())
        .args(["--runs", "1", "--quiet-wait", "0", "--retries", "0"])
        .args(["--connections", "8", "--duration", "1"])
        .output()
        .expect("relay-bench runs");
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "relay-bench standalone failed: {}\n{report}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<Vec<String>> = (report.lines())
        .filter(|l| l.starts_with("| bare axum |") || l.starts_with("| relay serve |"))
        .map(|l| {
            (l.trim_matches('|').split('|'))
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 2, "{report}");
    for row in &rows {
        assert_eq!(row.len(), 10, "{report}");
        let rate: f64 = row[1].parse().expect("req/s is a number");
        assert!(rate > 0.0, "{report}");
        assert_eq!(row[7], "0", "no request failed: {report}");
    }
    assert!(
        report.contains("relay serve / bare axum (req/s, medians): **"),
        "{report}"
    );
    assert!(report.contains("- run 1: relay serve "), "{report}");
}
