//! Signing and verifying with the providers' official client libraries, for the interop
//! tests: `@octokit/webhooks-methods` (Node) and `stripe`, `standardwebhooks`, `svix`,
//! `slack-sdk` (Python), driven through `scripts/interop/{sign.py,sign-octokit.mjs}`.
//!
//! The libraries are installed by `scripts/interop/setup.sh` and found through
//! [`PYTHON_VAR`] and [`NODE_MODULES_VAR`]; [`backend`] reads them and skips loudly without
//! them unless `RELAY_REQUIRE_BACKENDS=1`.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

/// A Python with `stripe`, `standardwebhooks`, `svix` and `slack-sdk`.
pub const PYTHON_VAR: &str = "RELAY_INTEROP_PYTHON";
/// A `node_modules` folder with `@octokit/webhooks-methods`.
pub const NODE_MODULES_VAR: &str = "RELAY_INTEROP_NODE_MODULES";

/// The path in `var`, or `None` after printing `SKIPPED: {test}: …` on the real stderr.
///
/// # Panics
///
/// When `var` is unset or empty and `RELAY_REQUIRE_BACKENDS=1`.
pub fn backend(var: &str, test: &str) -> Option<PathBuf> {
    relay_core::testing::backend_from_env(
        var,
        test,
        "run scripts/interop/setup.sh and export what it prints",
    )
    .map(PathBuf::from)
}

/// Why a library call failed.
#[derive(Debug)]
pub enum InteropError {
    /// The program could not be started or fed.
    Io(String, std::io::Error),
    /// The program ran and exited unsuccessfully (for `verify`: the library refused).
    Failed {
        /// What ran.
        command: String,
        /// Its stderr and stdout.
        output: String,
    },
    /// The program printed something that is not `name: value` header lines.
    BadOutput(String),
}

impl fmt::Display for InteropError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(what, error) => write!(f, "cannot {what}: {error}"),
            Self::Failed { command, output } => write!(f, "{command} failed: {output}"),
            Self::BadOutput(line) => write!(f, "not a `name: value` header line: {line:?}"),
        }
    }
}

impl std::error::Error for InteropError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(_, error) => Some(error),
            _ => None,
        }
    }
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/interop")
}

/// Runs `command` with `stdin` as input; returns its stdout.
fn run(mut command: Command, stdin: &str) -> Result<String, InteropError> {
    let shown = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| InteropError::Io(format!("start {shown}"), e))?;
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .map_err(|e| InteropError::Io("write stdin".into(), e))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| InteropError::Io(format!("wait for {shown}"), e))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(InteropError::Failed {
        command: shown,
        output: format!("({}) {stderr}{stdout}", output.status),
    })
}

/// `name: value` lines into a header map.
fn parse_headers(text: &str) -> Result<HeaderMap, InteropError> {
    let mut headers = HeaderMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let bad = || InteropError::BadOutput(line.to_owned());
        let (name, value) = line.split_once(": ").ok_or_else(bad)?;
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?,
            HeaderValue::from_str(value).map_err(|_| bad())?,
        );
    }
    Ok(headers)
}

/// The headers the Python library for `scheme` (`stripe`, `standard_webhooks`, `svix`,
/// `slack`) produces for `body` signed with `secret` at `timestamp` (Unix seconds) as message
/// `msg_id` (Standard Webhooks and Svix only).
pub fn python_sign(
    python: &Path,
    scheme: &str,
    secret: &str,
    timestamp: i64,
    msg_id: &str,
    body: &str,
) -> Result<HeaderMap, InteropError> {
    let mut command = Command::new(python);
    command.arg(scripts_dir().join("sign.py")).args([
        "sign",
        scheme,
        secret,
        &timestamp.to_string(),
        msg_id,
    ]);
    parse_headers(&run(command, body)?)
}

/// Whether the Python library for `scheme` accepts `headers` over `body` (with its own
/// clock): `Ok` when it does, [`InteropError::Failed`] with its reason when it does not.
pub fn python_verify(
    python: &Path,
    scheme: &str,
    secret: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(), InteropError> {
    let mut command = Command::new(python);
    command
        .arg(scripts_dir().join("sign.py"))
        .args(["verify", scheme, secret]);
    for (name, value) in headers {
        command.arg(format!("{name}={value}"));
    }
    run(command, body).map(drop)
}

/// The `X-Hub-Signature-256` header `@octokit/webhooks-methods` produces for `body`.
pub fn octokit_sign(
    node_modules: &Path,
    secret: &str,
    body: &str,
) -> Result<HeaderMap, InteropError> {
    let path = scripts_dir().join("sign-octokit.mjs");
    let script = std::fs::read_to_string(&path)
        .map_err(|e| InteropError::Io(format!("read {}", path.display()), e))?;
    let mut command = Command::new("node");
    // Bare imports resolve from the folder holding node_modules.
    command
        .current_dir(node_modules.parent().unwrap_or(node_modules))
        .args(["--input-type=module", "-e", &script, "--", secret]);
    parse_headers(&run(command, body)?)
}
