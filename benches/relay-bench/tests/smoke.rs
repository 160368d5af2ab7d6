//! Runs every scenario of the harness at a tiny size and checks that its report parses and
//! its counts add up, so the harness cannot rot. No timing is checked: speed is measured by
//! running the harness, not by `cargo test`.

use std::process::Command;

/// Runs `relay-bench` with `args` (plus one run, no waiting for a quiet machine) and returns
/// its stdout, failing on a non-zero exit.
fn bench(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_relay-bench"))
        .args(args)
        .args(["--runs", "1", "--quiet-wait", "0", "--retries", "0"])
        .args(["--connections", "8", "--time-limit", "60"])
        .output()
        .expect("relay-bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "relay-bench {args:?} failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The rows of the report's main table (the one with `cells` columns), as trimmed cells.
fn rows(report: &str, cells: usize) -> Vec<Vec<String>> {
    report
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| measurement"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|cells_of| cells_of.len() == cells)
        .collect()
}

/// Checks a scenario table: the measurements named, each with `done` = `expected`/`expected`.
fn check_scenario(report: &str, expected: &[(&str, u64)]) {
    let rows = rows(report, 8);
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        expected.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "{report}"
    );
    for (row, (_, count)) in rows.iter().zip(expected) {
        assert_eq!(row[3], format!("{count}/{count}"), "{report}");
        assert!(
            row[1].starts_with("**") && row[1] != "**0 events/s**",
            "{report}"
        );
        assert!(!row[7].contains("FAILED"), "{report}");
    }
    assert!(report.contains("| ratio / target | value |"), "{report}");
}

#[test]
fn ingest_reports_every_measurement_with_all_events_done() {
    let report = bench(&["ingest", "--events", "200", "--dir", "/var/tmp"]);
    let rows = rows(&report, 7);
    assert_eq!(rows.len(), 3, "{report}");
    for row in &rows {
        assert!(row[6].starts_with("200 done in"), "{report}");
        assert!(!row[6].contains("FAILED"), "{report}");
    }
    assert!(report.contains("/ bare axum (target >= 40%"), "{report}");
}

#[test]
fn ingest_latency_sends_every_request_on_schedule() {
    let report = bench(&["ingest-latency", "--rates", "200", "--duration", "1"]);
    check_scenario(
        &report,
        &[
            ("bare axum at 200/s", 200),
            ("gateway (sqlite) at 200/s", 200),
        ],
    );
    assert!(
        report.contains("gateway p999 / bare axum p999 at 200/s"),
        "{report}"
    );
}

#[test]
fn deliver_delivers_every_push_to_both_destinations() {
    let report = bench(&["deliver", "--events", "200", "--concurrency", "8"]);
    check_scenario(
        &report,
        &[
            ("raw hyper client", 400),
            ("raw rusqlite delivery loop", 400),
            ("gateway (sqlite)", 400),
        ],
    );
    for ratio in [
        "worker / raw hyper client (target >= 45%",
        "raw rusqlite delivery loop / raw hyper client (the store's ceiling)",
        "worker / raw rusqlite delivery loop",
    ] {
        assert!(report.contains(ratio), "{ratio}: {report}");
    }
}

#[test]
fn deliver_waits_for_a_slow_receiver() {
    let report = bench(&[
        "deliver",
        "--events",
        "40",
        "--concurrency",
        "8",
        "--receiver-delay-ms",
        "20",
        "--only",
        "client,gateway",
    ]);
    check_scenario(
        &report,
        &[("raw hyper client", 80), ("gateway (sqlite)", 80)],
    );
    assert!(
        report.contains("receiver answering after 20 ms"),
        "{report}"
    );
    // 80 requests, 8 at a time, 20 ms each: no faster than 400/s.
    for row in rows(&report, 8) {
        let rate: f64 = (row[1].trim_matches('*').split_whitespace().next())
            .map(|r| r.replace(',', ""))
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("a rate in {row:?}"));
        assert!(
            rate <= 400.0 * 1.05,
            "{row:?}: faster than the receiver answers"
        );
    }
}

#[test]
fn end_to_end_sees_every_delivery_arrive() {
    let report = bench(&["end-to-end", "--rates", "200", "--duration", "1"]);
    check_scenario(&report, &[("gateway (sqlite) at 200/s", 400)]);
    assert!(
        report.contains("ingest-to-delivered median at 200/s"),
        "{report}"
    );
}

#[test]
fn backlog_measures_with_and_without_stored_events() {
    let report = bench(&[
        "backlog",
        "--backlog",
        "0,300",
        "--events",
        "200",
        "--drain-secs",
        "1",
        "--min-free-gb",
        "0",
    ]);
    check_scenario(
        &report,
        &[
            ("gateway (sqlite), 0 stored", 200),
            ("gateway (sqlite), 300 stored", 200),
        ],
    );
    assert!(
        report.contains("ingest rate with 300 stored / with 0 stored"),
        "{report}"
    );
    assert!(
        report.contains("RSS") && report.contains("after draining"),
        "{report}"
    );
}

#[test]
fn postgres_runs_deliver_and_end_to_end_in_a_database_of_their_own() {
    let Some(_url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "relay-bench postgres smoke",
        "eval \"$(scripts/services.sh)\"",
    ) else {
        return;
    };
    let report = bench(&["deliver", "--events", "100", "--store", "postgres"]);
    check_scenario(
        &report,
        &[("raw hyper client", 200), ("gateway (postgres)", 200)],
    );
    let report = bench(&[
        "end-to-end",
        "--rates",
        "100",
        "--duration",
        "1",
        "--store",
        "postgres",
    ]);
    check_scenario(&report, &[("gateway (postgres) at 100/s", 200)]);
}
