//! What the dashboard's browser tests share: the browser and Playwright modules (or a loud
//! skip), the gateway started with its bootstrap password, a logged-in session, running a
//! Playwright script against it, and checking the screenshots it saved.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::json;

use super::wait_healthy;

/// Where Chromium and the Playwright modules are.
pub struct Browser {
    /// The Chromium binary (`RELAY_CHROMIUM`, default `/usr/bin/chromium`).
    pub chromium: PathBuf,
    /// The `node_modules` holding `playwright-core` (`RELAY_DASHBOARD_NODE_MODULES`).
    pub modules: PathBuf,
}

fn find() -> Result<Browser, String> {
    let chromium = PathBuf::from(
        std::env::var("RELAY_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    if !chromium.exists() {
        return Err(format!("no Chromium at {}", chromium.display()));
    }
    let modules = std::env::var("RELAY_DASHBOARD_NODE_MODULES")
        .map_err(|_| "RELAY_DASHBOARD_NODE_MODULES is not set".to_owned())?;
    let modules = PathBuf::from(modules);
    if !modules.join("playwright-core").is_dir() {
        return Err(format!("no playwright-core in {}", modules.display()));
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("node is not on PATH".into());
    }
    Ok(Browser { chromium, modules })
}

/// The browser and the Playwright modules, or `None` after saying why; with
/// `RELAY_REQUIRE_BACKENDS=1` a missing one fails the test instead.
pub fn browser() -> Option<Browser> {
    match find() {
        Ok(found) => Some(found),
        Err(why) => {
            assert!(
                std::env::var("RELAY_REQUIRE_BACKENDS").as_deref() != Ok("1"),
                "{why} (run scripts/dashboard/setup.sh)"
            );
            eprintln!("SKIPPED: {why} (run scripts/dashboard/setup.sh)");
            None
        }
    }
}

/// The gateway process, killed if the test fails before stopping it.
pub struct Gateway(pub Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `relay --config CONFIG` and returns it with the bootstrap password it printed.
pub async fn serve(config: &Path, addr: SocketAddr) -> (Gateway, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start relay");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    wait_healthy(&mut child, addr).await;
    let password = lines_rx
        .try_iter()
        .find_map(|line| {
            let rest = line.split("with password ").nth(1)?;
            rest.split_whitespace().next().map(str::to_owned)
        })
        .expect("the bootstrap password");
    (Gateway(child), password)
}

/// Logs `admin` in over HTTP and returns the `Cookie` header of the session.
pub async fn session(client: &reqwest::Client, addr: SocketAddr, password: &str) -> String {
    let response = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie");
    cookie.to_owned()
}

/// `target/dashboard-screenshots/` of the workspace, created.
pub fn screenshots() -> PathBuf {
    let dir = workspace().join("target/dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `tests/dashboard/{script}` in node against the gateway at `addr`, logged in as
/// `admin` with `password`, with `env` added, saving screenshots to [`screenshots`]; fails
/// the test (printing what it said) unless it succeeds. Returns its standard output.
pub fn run_script(
    browser: &Browser,
    script: &str,
    addr: SocketAddr,
    password: &str,
    env: &[(&str, &str)],
) -> String {
    let mut command = Command::new("node");
    command
        .arg(workspace().join("tests/dashboard").join(script))
        .env("RELAY_URL", format!("http://{addr}"))
        .env("RELAY_USER", "admin")
        .env("RELAY_PASSWORD", password)
        .env("RELAY_CHROMIUM", &browser.chromium)
        .env("RELAY_DASHBOARD_NODE_MODULES", &browser.modules)
        .env("RELAY_SCREENSHOTS", screenshots());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let log = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    println!("{log}");
    assert!(output.status.success(), "the browser test failed:\n{log}");
    stdout
}

/// Each of `pages` has a screenshot `{page}.png` of more than 10 kB (a rendered page, not an
/// empty one) in [`screenshots`].
pub fn assert_screenshots(pages: &[&str]) {
    let dir = screenshots();
    for page in pages {
        let file = dir.join(format!("{page}.png"));
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{} is a real screenshot", file.display());
    }
}
