//! schemathesis (from PyPI, installed by `scripts/interop/setup.sh`) generates requests from
//! `/api/v1/openapi.json` and checks every answer of a running gateway against it: no 5xx,
//! statuses, content types and bodies as documented. `RELAY_SCHEMATHESIS` names the `st`
//! executable; without it the test skips loudly, unless `RELAY_REQUIRE_BACKENDS=1`.

mod support;

use std::process::Command;

use relay_tests::Receiver;
use support::{free_port, start, terminate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_conforms_to_its_openapi_description() {
    let Some(st) = std::env::var_os("RELAY_SCHEMATHESIS") else {
        assert!(
            std::env::var("RELAY_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "RELAY_SCHEMATHESIS is not set (run scripts/interop/setup.sh)"
        );
        eprintln!("SKIPPED: RELAY_SCHEMATHESIS is not set (run scripts/interop/setup.sh)");
        return;
    };
    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        format!(
            r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "demo"
scheme = "none"

[[destinations]]
name = "app"
url = "{url}"

[[routes]]
name = "all"
destinations = ["app"]
"#,
            db = dir.path().join("relay.db").display(),
            url = receiver.url,
        ),
    )
    .expect("write config");
    let key = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["key", "add", "schemathesis", "--role", "admin", "--config"])
        .arg(&config)
        .output()
        .expect("relay key add");
    assert!(key.status.success());
    let token = String::from_utf8(key.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let mut gateway = start(&config, addr, &[]).await;
    let client = relay_core::tls::client();
    for i in 0..3 {
        client
            .post(format!("http://{addr}/webhooks/demo"))
            .header("idempotency-key", format!("seed-{i}"))
            .body(r#"{"seed":true}"#)
            .send()
            .await
            .expect("seed event");
    }

    // Bodies of sources, destinations and routes can be valid JSON for their schema and still
    // refer to things that do not exist (a destination name), name a scheme this build does
    // not know, point at an address the SSRF guard refuses, or change an object the
    // configuration file manages: those answer 422 or 409 by design (documented), so for these
    // operations a schema-valid body may be refused with them. Tenants likewise: `burst`
    // needs `rate_per_second` (a rule across fields), and `default` exists already. Every
    // other check applies.
    let mut settings = String::new();
    // Names that refer to other objects (a route's destinations, a publish's source and
    // destinations) may be well-formed and still name nothing: 422.
    for tag in [
        "sources",
        "destinations",
        "routes",
        "subscriptions",
        "tenants",
        "publishing",
    ] {
        settings.push_str(&format!(
            "[[operations]]\ninclude-tag = \"{tag}\"\n\
             [operations.checks.positive_data_acceptance]\n\
             expected-statuses = [\"2xx\", \"401\", \"403\", \"404\", \"409\", \"422\"]\n\n"
        ));
    }
    std::fs::write(dir.path().join("schemathesis.toml"), settings).expect("write settings");

    let output = Command::new(st)
        .args(["run", &format!("http://{addr}/api/v1/openapi.json")])
        .args(["--url", &format!("http://{addr}")])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--no-color",
        ])
        .args(["--request-timeout", "10", "--workers", "1"])
        .env("SCHEMATHESIS_HOOKS", "")
        .current_dir(dir.path())
        .output()
        .expect("run schemathesis");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert_eq!(terminate(&mut gateway).code(), Some(0));
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}"
    );
}
