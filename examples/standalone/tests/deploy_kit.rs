//! The deploy kit (`examples/deploy/`) is checked as far as this machine can without a
//! container registry:
//! - `promtool` (Debian's `prometheus` package, `RELAY_PROMTOOL`) checks the Prometheus
//!   configuration and the alert rules, runs the rules' unit tests, and parses every PromQL
//!   expression of the Grafana dashboard;
//! - every metric the alerts and the dashboard read is one the gateway records (the metrics
//!   table of `docs/src/operations.md`, itself kept true by relay-core's telemetry tests);
//! - the dashboard's panels fit Grafana's grid and use the provisioned data source;
//! - the compose file (parsed with PyYAML from `RELAY_INTEROP_PYTHON`) runs two nodes with
//!   their own identities on one PostgreSQL and one Redis, and mounts only files that exist;
//! - the nodes' `relay.toml` passes `relay config check`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn kit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `promtool`, or `None` after printing why (a failure instead with `RELAY_REQUIRE_BACKENDS=1`).
fn promtool(test: &str) -> Option<PathBuf> {
    relay_core::testing::backend_from_env(
        "RELAY_PROMTOOL",
        test,
        "install Debian's prometheus package (scripts/services.sh does) and export RELAY_PROMTOOL",
    )
    .map(PathBuf::from)
}

/// Runs `promtool args…` in `dir`; panics with its output unless it succeeds.
fn run_promtool(promtool: &Path, dir: &Path, args: &[&str]) -> String {
    let output = Command::new(promtool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", promtool.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// The Grafana dashboard.
fn dashboard() -> Value {
    let path = kit().join("grafana/dashboards/relay.json");
    serde_json::from_str(&read(&path)).expect("the dashboard is JSON")
}

/// Every PromQL expression of the dashboard's panels.
fn dashboard_queries(dashboard: &Value) -> Vec<String> {
    let panels = dashboard["panels"].as_array().expect("panels");
    panels
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .map(|t| t["expr"].as_str().expect("a target has an expr").to_owned())
        .collect()
}

/// The `relay_…` metric names `text` reads, histogram series (`_bucket`, `_sum`, `_count`)
/// under their histogram's name.
fn metric_names(text: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"\brelay_[a-z_]+\b").expect("a pattern");
    re.find_iter(text)
        .map(|m| {
            let name = m.as_str();
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name)
                .to_owned()
        })
        .collect()
}

/// The metric names the operations chapter's table documents.
fn documented_metrics() -> BTreeSet<String> {
    let chapter = read(&kit().join("../../docs/src/operations.md"));
    let re = regex::Regex::new(r"(?m)^\| `(relay_[a-z_]+)` \|").expect("a pattern");
    re.captures_iter(&chapter)
        .map(|c| c[1].to_owned())
        .collect()
}

#[test]
fn prometheus_config_and_alert_rules_pass_promtool() {
    let Some(promtool) = promtool("prometheus_config_and_alert_rules_pass_promtool") else {
        return;
    };
    let dir = kit().join("prometheus");
    let checked = run_promtool(&promtool, &dir, &["check", "config", "prometheus.yml"]);
    assert!(checked.contains("1 rule files found"), "{checked}");
    let rules = run_promtool(&promtool, &dir, &["check", "rules", "alerts.yml"]);
    assert!(rules.contains("7 rules found"), "{rules}");
    run_promtool(&promtool, &dir, &["test", "rules", "alerts_test.yml"]);
}

#[test]
fn every_alert_is_unit_tested_and_has_a_runbook_section() {
    let rules = read(&kit().join("prometheus/alerts.yml"));
    let tests = read(&kit().join("prometheus/alerts_test.yml"));
    let runbook = read(&kit().join("../../docs/src/runbook.md"));
    let re = regex::Regex::new(r"(?m)^\s+- alert: (\w+)$").expect("a pattern");
    let alerts: Vec<String> = re.captures_iter(&rules).map(|c| c[1].to_owned()).collect();
    assert_eq!(alerts.len(), 7, "{alerts:?}");
    for alert in &alerts {
        assert!(
            tests.contains(&format!("alertname: {alert}\n")),
            "{alert} has no case in alerts_test.yml"
        );
        assert!(
            runbook.contains(&format!("\n### {alert}\n")),
            "{alert} has no section in docs/src/runbook.md"
        );
        let link = format!("runbook: \"docs/src/runbook.md#{}\"", alert.to_lowercase());
        assert!(rules.contains(&link), "{alert} does not link {link}");
    }
}

#[test]
fn every_dashboard_query_parses_as_promql() {
    let Some(promtool) = promtool("every_dashboard_query_parses_as_promql") else {
        return;
    };
    // promtool parses the expressions of recording rules: one rule per panel query.
    let queries = dashboard_queries(&dashboard());
    assert!(queries.len() >= 12, "{} queries", queries.len());
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, query) in queries.iter().enumerate() {
        let quoted = serde_json::to_string(query).expect("a JSON string is a YAML string");
        rules.push_str(&format!(
            "      - record: dashboard:query{i}\n        expr: {quoted}\n"
        ));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("queries.yml"), rules).expect("write rules");
    let out = run_promtool(&promtool, dir.path(), &["check", "rules", "queries.yml"]);
    assert!(
        out.contains(&format!("{} rules found", queries.len())),
        "{out}"
    );
    // And a broken query is refused, so the check above can fail.
    std::fs::write(
        dir.path().join("broken.yml"),
        "groups:\n  - name: x\n    rules:\n      - record: x:y\n        expr: \"sum(rate(relay_ingest_total[5m])\"\n",
    )
    .expect("write rules");
    let broken = Command::new(&promtool)
        .args(["check", "rules", "broken.yml"])
        .current_dir(dir.path())
        .output()
        .expect("run promtool");
    assert!(!broken.status.success(), "promtool accepted a broken query");
}

#[test]
fn the_alerts_and_the_dashboard_read_only_metrics_the_gateway_records() {
    let documented = documented_metrics();
    assert!(documented.len() >= 10, "{documented:?}");
    let dashboard = dashboard_queries(&dashboard()).join("\n");
    let alerts = read(&kit().join("prometheus/alerts.yml"));
    let used: BTreeSet<String> = metric_names(&dashboard)
        .into_iter()
        .chain(metric_names(&alerts))
        .collect();
    let unknown: Vec<&String> = used.difference(&documented).collect();
    assert!(
        unknown.is_empty(),
        "not recorded by the gateway: {unknown:?}"
    );
    for wanted in [
        "relay_dead_letters_total",
        "relay_destinations_paused_total",
        "relay_store_writes_failing",
        "relay_queue_depth",
        "relay_ingest_total",
    ] {
        assert!(used.contains(wanted), "the kit does not use {wanted}");
    }
}

#[test]
fn the_dashboard_fits_the_grid_and_uses_the_provisioned_data_source() {
    let dashboard = dashboard();
    let provisioned = read(&kit().join("grafana/provisioning/datasources/prometheus.yaml"));
    assert!(
        provisioned.contains("uid: relay-prometheus"),
        "{provisioned}"
    );
    assert_eq!(dashboard["uid"], "relay-overview");
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    let mut cells = BTreeSet::new();
    for panel in panels {
        let id = panel["id"].as_u64().expect("an id");
        assert!(ids.insert(id), "panel id {id} twice");
        let grid = &panel["gridPos"];
        let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| grid[k].as_u64().expect("gridPos"));
        assert!(
            w >= 1 && x + w <= 24,
            "panel {id} is outside the 24 columns"
        );
        for cx in x..x + w {
            for cy in y..y + h {
                assert!(
                    cells.insert((cx, cy)),
                    "panel {id} overlaps another at {cx},{cy}"
                );
            }
        }
        if panel["type"] != "row" {
            assert_eq!(panel["datasource"]["uid"], "relay-prometheus", "panel {id}");
            let title = panel["title"].as_str().unwrap_or_default();
            assert!(!title.is_empty(), "panel {id} has no title");
            for target in panel["targets"].as_array().expect("targets") {
                assert_eq!(
                    target["datasource"]["uid"], "relay-prometheus",
                    "panel {id}"
                );
            }
        }
    }
}

/// The compose file as JSON (PyYAML reads it).
fn compose() -> Option<Value> {
    let python = relay_core::testing::backend_from_env(
        "RELAY_INTEROP_PYTHON",
        "the_compose_file_runs_two_nodes_on_one_postgres_and_redis",
        "run scripts/interop/setup.sh and export what it prints",
    )?;
    let output = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(kit().join("compose.yaml"))
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "compose.yaml does not parse: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("JSON from python"))
}

#[test]
fn the_compose_file_runs_two_nodes_on_one_postgres_and_redis() {
    let Some(compose) = compose() else {
        return;
    };
    let services = compose["services"].as_object().expect("services");
    for name in [
        "postgres",
        "redis",
        "relay-1",
        "relay-2",
        "prometheus",
        "grafana",
    ] {
        assert!(services.contains_key(name), "no service {name}");
    }
    let mut node_ids = BTreeSet::new();
    let mut ports = BTreeSet::new();
    for node in ["relay-1", "relay-2"] {
        let service = &services[node];
        assert_eq!(service["image"], "relay:local", "{node}");
        assert_eq!(
            service["build"]["dockerfile"], "examples/deploy/Dockerfile",
            "{node}"
        );
        let env = &service["environment"];
        assert!(node_ids.insert(env["RELAY_SERVER__NODE_ID"].to_string()));
        assert_eq!(env["RELAY_CONFIG"], "/etc/relay/relay.toml");
        for needed in ["postgres", "redis"] {
            assert_eq!(
                service["depends_on"][needed]["condition"], "service_healthy",
                "{node} waits for {needed}"
            );
        }
        for port in service["ports"].as_array().expect("ports") {
            assert!(ports.insert(port.to_string()), "{node}: port {port} twice");
        }
    }
    assert_eq!(node_ids.len(), 2, "each node has its own identity");
    // Every file mounted from the kit exists.
    for (name, service) in services {
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let volume = volume.as_str().expect("short volume syntax");
            if let Some(host) = volume.strip_prefix("./") {
                let host = host.split(':').next().expect("a host path");
                assert!(kit().join(host).exists(), "{name} mounts missing ./{host}");
            }
        }
    }
    // Prometheus scrapes both nodes where compose runs them.
    let prometheus = read(&kit().join("prometheus/prometheus.yml"));
    assert!(
        prometheus.contains(r#"targets: ["relay-1:8080", "relay-2:8080"]"#),
        "{prometheus}"
    );
    // The metrics token Prometheus sends is the one the nodes get.
    let token = read(&kit().join("prometheus/metrics-token"));
    let env = &services["relay-1"]["environment"];
    assert_eq!(env["RELAY_METRICS_TOKEN"].as_str(), Some(token.trim()));
}

#[test]
fn the_nodes_configuration_passes_config_check() {
    let config = kit().join("relay.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["config", "check"])
        .arg(&config)
        .env("GITHUB_WEBHOOK_SECRET", "a-test-value")
        .env("RELAY_METRICS_TOKEN", "a-test-value")
        .output()
        .expect("run relay");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = read(&config);
    assert!(text.contains("database_url = \"postgres://"), "{text}");
    assert!(text.contains("redis_url = \"redis://"), "{text}");
}
