//! `relay config check FILE`: 0 for a valid file; 2 with the file, key and reason otherwise.

use std::process::Command;

fn check(toml: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("relay.toml");
    std::fs::write(&file, toml).expect("write config");
    check_file(&file)
}

fn check_file(file: &std::path::Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["config", "check"])
        .arg(file)
        .env_remove("RELAY_TEST_SECRET")
        .output()
        .expect("run relay");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    (output.status.code().expect("exit code"), stderr)
}

const SOURCE: &str = "[[sources]]\nname = \"gh\"\nscheme = \"github\"\nsecrets = [\"s\"]\n";
const DESTINATION: &str = "[delivery]\nallow_cidrs = [\"127.0.0.0/8\"]\n\
     [[destinations]]\nname = \"app\"\nurl = \"http://127.0.0.1:9000/hook\"\n";

#[test]
fn the_sample_configuration_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/relay.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["config", "check", path])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn publish_sources_and_the_app_source_need_no_definition_or_secret() {
    let toml = format!(
        "{DESTINATION}[[sources]]\nname = \"billing-events\"\nscheme = \"publish\"\n\
         dedup_window_secs = 600\n\
         [[routes]]\nname = \"published\"\nsource = \"billing-events\"\ndestinations = [\"app\"]\n\
         [[routes]]\nname = \"from-app\"\nsource = \"app\"\nevent_types = [\"invoice.*\"]\n\
         destinations = [\"app\"]\n"
    );
    let (code, stderr) = check(&toml);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn event_types_take_inline_schemas_and_schema_files_next_to_the_configuration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = r#"{"type": "object", "required": ["id"]}"#;
    std::fs::create_dir(dir.path().join("schemas")).expect("mkdir");
    std::fs::write(dir.path().join("schemas/paid.json"), schema).expect("schema");
    let toml = "[[event_types]]\nname = \"invoice.paid\"\ndescription = \"Paid\"\n\
                schema_file = \"schemas/paid.json\"\n\
                [[event_types]]\nname = \"invoice.sent\"\n\
                schema = { type = \"object\", properties = { amount = { type = \"number\" } } }\n";
    let file = dir.path().join("relay.toml");
    std::fs::write(&file, toml).expect("config");
    let (code, stderr) = check_file(&file);
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(dir.path().join("schemas/paid.json"), "{not json").expect("schema");
    let (code, stderr) = check_file(&file);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("event_types[0].schema_file") && stderr.contains("is not JSON"),
        "{stderr}"
    );
}

#[test]
fn each_malformed_configuration_names_its_key_and_exits_2() {
    let route = |body: &str| format!("{SOURCE}{DESTINATION}[[routes]]\nname = \"r\"\n{body}");
    let cases: Vec<(String, &str)> = vec![
        ("[server]\nlisten = \"nowhere\"".into(), "server.listen"),
        ("[server]\nport = 80".into(), "server.port: unknown field: found `port`"),
        ("[admin]\nmetrics_token = \"env:RELAY_TEST_SECRET\"".into(), "admin.metrics_token: environment variable RELAY_TEST_SECRET is not set"),
        ("[admin]\nmetrics_token = \"\"".into(), "admin.metrics_token: empty"),
        ("[admin]\ntoken = \"t\"".into(), "admin.token: unknown field"),
        ("[[sources]]\nname = \"x\"".into(), "missing field `scheme`"),
        ("this is not toml".into(), "(file)"),
        ("[[sources]]\nname = \"x\"\nscheme = \"gitlab\"\nsecrets = [\"s\"]".into(), "sources[0].scheme: unknown scheme \"gitlab\""),
        ("[[sources]]\nname = \"x\"\nscheme = \"github\"".into(), "sources[0].secrets: scheme \"github\" needs at least one secret"),
        ("[[event_types]]\nname = \"a\"\nschema = { type = 12 }".into(), "event_types[0].schema: not a valid JSON Schema"),
        ("[[event_types]]\nname = \"a\"\n[[event_types]]\nname = \"a\"".into(), "event_types[1].name: \"a\" is defined twice"),
        ("[[event_types]]\nname = \"\"".into(), "event_types[0].name: must be 1 to 256 characters"),
        ("[[event_types]]\nname = \"a\"\nschema_file = \"missing.json\"".into(), "event_types[0].schema_file: cannot read"),
        ("[[event_types]]\nname = \"a\"\nschema = {}\nschema_file = \"s.json\"".into(), "event_types[0].schema_file: give `schema` or `schema_file`, not both"),
        ("[[event_types]]\nname = \"a\"\nversion = 2".into(), "event_types[0].version: unknown field"),
        ("[[sources]]\nname = \"x\"\nscheme = \"publish\"\nsecrets = [\"s\"]".into(), "sources[0].secrets: does not apply to scheme \"publish\""),
        ("[[sources]]\nname = \"x\"\nscheme = \"publish\"\nrate_limit = { per_minute = 5 }".into(), "sources[0].rate_limit: does not apply to scheme \"publish\""),
        ("[[sources]]\nname = \"x\"\nscheme = \"github\"\nsecrets = [\"env:RELAY_TEST_SECRET\"]".into(), "sources[0].secrets[0]: environment variable RELAY_TEST_SECRET is not set"),
        ("[[sources]]\nname = \"x\"\nscheme = \"github\"\nsecrets = [{ value = \"s\", expires_at = \"tomorrow\" }]".into(), "sources[0].secrets[0].expires_at: not an RFC 3339 time"),
        ("[[sources]]\nname = \"x\"\nscheme = \"github\"\nsecrets = [\"s\"]\nevent_type = \"type\"".into(), "sources[0].event_type"),
        ("[[sources]]\nname = \"x\"\nscheme = \"github\"\nsecrets = [\"s\"]\nprefix = \"sha256=\"".into(), "sources[0].prefix: only applies to scheme \"generic_hmac\""),
        ("[[sources]]\nname = \"x\"\nscheme = \"generic_hmac\"\nsecrets = [\"s\"]".into(), "sources[0].signature_header: required"),
        ("[[sources]]\nname = \"x\"\nscheme = \"generic_hmac\"\nsecrets = [\"s\"]\nsignature_header = \"x-sig\"\nencoding = \"rot13\"".into(), "sources[0].encoding"),
        (format!("{SOURCE}{SOURCE}"), "sources[1].name: \"gh\" is defined twice"),
        ("[[destinations]]\nname = \"d\"\nurl = \"ftp://example.com\"".into(), "destinations[0].url: unsupported URL scheme"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nretry = { max_attempts = 0 }".into(), "destinations[0].retry.max_attempts"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nretry = { tries = 3 }".into(), "destinations[0].retry.tries: unknown field"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nretry = { schedule = [\"5s\", \"soon\"] }".into(), "destinations[0].retry.schedule[1]: \"soon\" is not a duration"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nretry = { schedule = [\"5s\"], initial_ms = 10 }".into(), "destinations[0].retry.schedule: a schedule replaces backoff"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nretry = { schedule = [] }".into(), "destinations[0].retry.schedule: names no delay"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nretry = { give_up_after = \"0s\" }".into(), "destinations[0].retry.give_up_after: must be greater than 0"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nretry = { initial_ms = 10, max_ms = 5 }".into(), "destinations[0].retry.initial_ms: must not exceed max_ms"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nretry = { max_retry_after = \"a while\" }".into(), "destinations[0].retry.max_retry_after: \"a while\" is not a duration"),
        ("[server]\naudit_retention_days = 0".into(), "server.audit_retention_days: must be at least 1 (0 would empty the audit log every minute)"),
        ("[server]\nmetrics_retention_days = 0".into(), "server.metrics_retention_days: must be at least 1"),
        ("[server]\nexpired_session_retention_days = -1".into(), "expired_session_retention_days"),
        (route("source = \"gl\"\ndestinations = [\"app\"]"), "routes[0].source: no source named \"gl\""),
        (route("destinations = [\"app\", \"slack\"]"), "routes[0].destinations[1]: no destination named \"slack\""),
        (route("destinations = []"), "routes[0].destinations: names no destination"),
        (route("destinations = [\"app\"]\ntransformer = \"nope\""), "routes[0].transformer: no transformer named \"nope\""),
        (route("destinations = [\"app\"]\nconditions = [{ path = \"ref\", op = \"eq\", value = 1 }]"), "routes[0].conditions[0]"),
        (route("destinations = [\"app\"]\nconditions = [{ path = \"$.ref\", op = \"exists\", value = 1 }]"), "routes[0].conditions[0]"),
        (route("destinations = [\"app\"]\nconditions = [{ path = \"$.n\", op = \"gt\", value = \"ten\" }]"), "routes[0].conditions[0]"),
        (route("destinations = [\"app\"]\nconditions = [{ path = \"$.ref\", op = \"like\", value = 1 }]"), "routes[0].conditions[0].op: unknown variant: found `like`"),
        ("[[transformers]]\nname = \"identity\"\nkind = \"template\"\nbody = {}".into(), "transformers[0].name: \"identity\" is a built-in transformer"),
        ("[[transformers]]\nname = \"t\"\nkind = \"template\"\nbody = { text = \"{{ $.a\" }".into(), "transformers[0]: template placeholder"),
        ("[[transformers]]\nname = \"t\"\nkind = \"xslt\"".into(), "transformers[0].kind: unknown variant: found `xslt`"),
        ("[server]\nsqlite_synchronous = \"off\"".into(), "server.sqlite_synchronous"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://127.0.0.1:9000/hook\"".into(), "destinations[0].url: 127.0.0.1 is a loopback address (refused by the SSRF guard"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://169.254.169.254/latest/meta-data\"".into(), "destinations[0].url: 169.254.169.254 is a link-local address"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://localhost:6379/\"".into(), "destinations[0].url: localhost is a loopback address"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://[::ffff:10.0.0.1]/\"".into(), "destinations[0].url: [::ffff:10.0.0.1] is a private address"),
        ("[delivery]\nallow_cidrs = [\"10.0.0.0/8\"]\n[[destinations]]\nname = \"d\"\nurl = \"http://192.168.1.1/\"".into(), "destinations[0].url: 192.168.1.1 is a private address"),
        ("[delivery]\nallow_cidrs = [\"10.0.0.0/33\"]".into(), "delivery.allow_cidrs[0]: \"10.0.0.0/33\" is not a CIDR network"),
        ("[delivery]\nallow = []".into(), "delivery.allow: unknown field"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nforward_headers = [\"X-GitHub-Event\", \"Host\"]".into(), "destinations[0].forward_headers[1]: \"Host\" cannot be forwarded"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nforward_headers = [\"x-relay-attempt\"]".into(), "destinations[0].forward_headers[0]"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nforward_headers = [\"bad name\"]".into(), "destinations[0].forward_headers[0]: \"bad name\" is not a header name"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nmax_in_flight = 0".into(), "destinations[0].max_in_flight: must be at least 1"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nmax_per_second = 0".into(), "destinations[0].max_per_second: must be at least 1"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nconnect_timeout_ms = 0".into(), "destinations[0].connect_timeout_ms: must be greater than 0"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\ncircuit_breaker = { failures = 0 }".into(), "destinations[0].circuit_breaker.failures: must be greater than 0"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\ncircuit_breaker = { threshold = 3 }".into(), "destinations[0].circuit_breaker.threshold: unknown field"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\ncircuit_breaker = { failure_percent = 0 }".into(), "destinations[0].circuit_breaker.failure_percent: must be from 1 to 100"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\ncircuit_breaker = { failure_percent = 150 }".into(), "destinations[0].circuit_breaker.failure_percent: must be from 1 to 100"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\ncircuit_breaker = { min_attempts = 0 }".into(), "destinations[0].circuit_breaker.min_attempts: must be at least 1"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\ncircuit_breaker = { probes = 0 }".into(), "destinations[0].circuit_breaker.probes: must be at least 1"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\ncircuit_breaker = { window_ms = 5 }".into(), "destinations[0].circuit_breaker.window_ms: must be at least 10"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\ncircuit_breaker = { open_ms = 0 }".into(), "destinations[0].circuit_breaker.open_ms: must be greater than 0"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\ncircuit_breaker = { failures = 5, min_attempts = 20 }".into(), "destinations[0].circuit_breaker.failures: is the streak rule"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\ncircuit_breaker = { failure_percent = -5 }".into(), "destinations[0].circuit_breaker.failure_percent"),
        (route("destinations = [\"app\"]\nrate_limit = { per_second = 3 }"), "routes[0].rate_limit.per_second: unknown field"),
        (route("destinations = [\"app\"]\nordering_key = \"customer\""), "routes[0].ordering_key"),
        (format!("{DESTINATION}[alerts]\ndestination = \"ops\""), "alerts.destination: no destination named \"ops\""),
        (format!("{DESTINATION}[alerts]\ndestination = \"app\"\nwindow = \"hourly\""), "alerts.window: \"hourly\" is not a duration"),
        (format!("{DESTINATION}[alerts]\ndestination = \"app\"\ndead_letters = 0"), "alerts.dead_letters: must be at least 1"),
        (format!("{DESTINATION}[alerts]\ndestination = \"app\"\nagent_offline = \"soon\""), "alerts.agent_offline: \"soon\" is not a duration"),
        (format!("{DESTINATION}[alerts]\ndestination = \"app\"\nagent_offline = \"0s\""), "alerts.agent_offline: must be greater than 0"),
        (format!("{DESTINATION}[alerts]\ndestination = \"app\"\nlag = \"5m\""), "alerts.lag: unknown field"),
        (route("destinations = [\"app\"]\non_dead_letter = \"block\""), "routes[0].on_dead_letter: applies to ordered deliveries only"),
        (route("destinations = [\"app\"]\nordering_key = \"$.a\"\non_dead_letter = \"wait\""), "routes[0].on_dead_letter: unknown variant"),
        ("[[destinations]]\nname = \"d\"\nurl = \"http://x\"\nordering_key = \"header:bad name\"".into(), "destinations[0].ordering_key"),
    ];
    let mut failures = Vec::new();
    for (toml, expected) in &cases {
        let (code, stderr) = check(toml);
        if code != 2 || !stderr.contains("relay.toml: ") || !stderr.contains(expected) {
            failures.push(format!(
                "config:\n{toml}\nexpected exit 2 and {expected:?}, got {code}: {stderr}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn a_missing_file_is_reported_not_a_panic() {
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["config", "check", "/nonexistent/relay.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("/nonexistent/relay.toml: cannot read")
    );
}

#[test]
fn every_documented_scheme_and_feature_is_accepted() {
    let schemes = [
        "github",
        "stripe",
        "standard_webhooks",
        "svix",
        "shopify",
        "slack",
    ];
    let mut toml = String::from(
        "[server]\nsqlite_synchronous = \"normal\"\nretention_days = 7\naudit_retention_days = 30\nmetrics_retention_days = 7\nexpired_session_retention_days = 1\n",
    );
    for scheme in schemes {
        toml.push_str(&format!(
            "[[sources]]\nname = \"{scheme}\"\nscheme = \"{scheme}\"\nsecrets = [\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n"
        ));
    }
    toml.push_str(
        "[[sources]]\nname = \"hmac\"\nscheme = \"generic_hmac\"\nsecrets = [\"s\"]\n\
         signature_header = \"X-Signature\"\nencoding = \"base64\"\nprefix = \"sha256=\"\n\
         timestamp_header = \"X-Timestamp\"\ntolerance_secs = 60\n",
    );
    toml.push_str(DESTINATION);
    toml.push_str(
        "connect_timeout_ms = 2000\nmax_in_flight = 4\nmax_per_second = 20\n\
         ordering_key = \"$.customer.id\"\non_dead_letter = \"block\"\n\
         circuit_breaker = { failure_percent = 60, min_attempts = 30, window_ms = 10000, open_ms = 5000, probes = 2 }\n\
         [[destinations]]\nname = \"streak\"\nurl = \"https://hooks.example.com/streak\"\n\
         circuit_breaker = { failures = 3, window_ms = 10000, open_ms = 5000 }\n\
         [[destinations]]\nname = \"public\"\nurl = \"https://hooks.example.com/in\"\n\
         retry = { schedule = [\"5s\", \"5m\", \"30m\", \"2h\", \"5h\", \"10h\", \"10h\"], give_up_after = \"3d\", max_retry_after = \"10m\" }\n\
         circuit_breaker = { enabled = false }\n",
    );
    toml.push_str(
        "[[transformers]]\nname = \"short\"\nkind = \"template\"\n\
         body = { text = \"{{ $.pusher.name }} pushed\" }\nheaders = { x-team = \"platform\" }\n\
         [[transformers]]\nname = \"mail\"\nkind = \"form_to_email\"\n\
         to = \"sales@example.com\"\nfrom = \"forms@example.com\"\nsubject = \"New lead\"\n\
         [[routes]]\nname = \"main\"\nsource = \"github\"\nevent_types = [\"push\"]\n\
         conditions = [{ path = \"$.ref\", op = \"eq\", value = \"refs/heads/main\" }, \
         { path = \"$.commits[*].author.name\", op = \"exists\" }]\n\
         destinations = [\"app\", \"public\"]\ntransformer = \"short\"\nrate_limit = { per_minute = 600 }\n\
         [[routes]]\nname = \"slack\"\ndestinations = [\"app\"]\ntransformer = \"github_to_slack\"\n\
         ordering_key = \"header:X-GitHub-Delivery\"\non_dead_letter = \"skip\"\n\
         [[routes]]\nname = \"forms\"\ndestinations = [\"app\"]\ntransformer = \"mail\"\n",
    );
    toml.push_str(
        "[alerts]\ndestination = \"app\"\nwindow = \"1h\"\ndead_letters = 10\n\
         signature_failures = 20\nqueue_lag = \"5m\"\nbreaker_opens = 3\n",
    );
    let (code, stderr) = check(&toml);
    assert_eq!(code, 0, "{stderr}\n{toml}");
}

/// `relay config check` on a valid file with `RELAY_SERVER__…` overrides in the environment.
fn check_with_env(vars: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("relay.toml");
    let toml = "[server]\nlisten = \"127.0.0.1:8080\"\ndatabase_url = \"memory://\"\n";
    std::fs::write(&file, toml).expect("write config");
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["config", "check"])
        .arg(&file)
        .envs(vars.iter().copied())
        .output()
        .expect("run relay");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().expect("exit code"), stderr)
}

#[test]
fn server_keys_are_overridden_from_the_environment() {
    let (code, stderr) = check_with_env(&[("RELAY_SERVER__LISTEN", "not an address")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("server.listen"), "{stderr}");
    let (code, stderr) = check_with_env(&[("RELAY_SERVER__NODE_ID", "a\tb")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("server.node_id"), "{stderr}");
    let (code, stderr) = check_with_env(&[
        ("RELAY_SERVER__LISTEN", "0.0.0.0:9999"),
        ("RELAY_SERVER__NODE_ID", "web-1"),
    ]);
    assert_eq!(code, 0, "{stderr}");
}
