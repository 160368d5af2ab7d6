//! `relay doctor` on the real binary: a line per check, exit 1 when one fails, and nothing
//! written (no database, no key file) on a fresh machine.

use std::path::Path;
use std::process::{Command, Output};

fn doctor(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("doctor")
        .args(args)
        .current_dir(dir)
        .env_remove("RELAY_CREDENTIALS_KEY")
        .envs(env.iter().copied())
        .output()
        .expect("run relay doctor")
}

fn write(dir: &Path, extra: &str) {
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ndatabase_url = \"sqlite://relay.db\"\n{extra}\n\
         [[sources]]\nname = \"demo\"\nscheme = \"none\"\n"
    );
    std::fs::write(dir.join("relay.toml"), toml).expect("write config");
}

#[test]
fn a_fresh_machine_passes_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "");
    let out = doctor(dir.path(), &["--config", "relay.toml"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("ok    config: relay.toml: 1 sources"),
        "{stdout}"
    );
    assert!(stdout.contains("does not exist yet"), "{stdout}");
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(files, ["relay.toml"], "doctor created files");
}

#[test]
fn a_migrated_store_is_checked_and_problems_fail() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "");
    let migrate = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["migrate", "--config", "relay.toml"])
        .current_dir(dir.path())
        .output()
        .expect("relay migrate");
    assert!(migrate.status.success());
    let out = doctor(dir.path(), &["--config", "relay.toml"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for line in [
        "ok    store: sqlite://relay.db reachable; 0 deliveries queued",
        "ok    credential key: ",
        "ok    disk: ",
    ] {
        assert!(stdout.contains(line), "{line:?} in\n{stdout}");
    }

    // A key in the environment that does not parse, and an unreachable Redis.
    write(dir.path(), "redis_url = \"redis://127.0.0.1:1\"");
    let out = doctor(
        dir.path(),
        &["--config", "relay.toml"],
        &[("RELAY_CREDENTIALS_KEY", "not a key")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL  credential key: RELAY_CREDENTIALS_KEY"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL  redis: redis://127.0.0.1:1"),
        "{stdout}"
    );

    std::fs::write(dir.path().join("relay.toml"), "[server]\nlisten = 7\n").expect("write");
    let out = doctor(dir.path(), &["--config", "relay.toml"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("FAIL  config: relay.toml: server.listen"),
        "{stdout}"
    );
}

#[test]
fn the_clock_is_compared_with_redis() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_REDIS_URL",
        "the_clock_is_compared_with_redis",
        "scripts/services.sh starts Redis",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), &format!("redis_url = \"{url}\""));
    let out = doctor(dir.path(), &["--config", "relay.toml"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("ok    redis: "), "{stdout}");
    assert!(stdout.contains("ok    redis clock: "), "{stdout}");
}

#[test]
fn the_clock_is_compared_with_postgresql() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "the_clock_is_compared_with_postgresql",
        "scripts/services.sh starts PostgreSQL",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "");
    let key = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let out = doctor(
        dir.path(),
        &["--config", "relay.toml", "--database-url", &url],
        &[("RELAY_CREDENTIALS_KEY", key)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ok    clock: "), "{stdout}");
    assert!(
        stdout.contains("ok    credential key: RELAY_CREDENTIALS_KEY"),
        "{stdout}"
    );
}
