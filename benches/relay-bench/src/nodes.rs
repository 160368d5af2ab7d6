//! Gateway nodes as real processes: `relay serve` (the binary at a given path), one or more,
//! on a fresh PostgreSQL database of their own, and `relay agent` processes connected to them.
//! Every process is killed when the [`Cluster`] is dropped; [`Cluster::close`] also drops the
//! database.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::call;
use crate::error::BenchError;
use crate::store::{self, POSTGRES_URL_VAR};

/// The credential key every node shares (`ID:BASE64` of 32 bytes): agent tokens are sealed
/// with it.
const CREDENTIALS_KEY: &str = "bench-1:BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=";

/// The source every event is sent to (`POST /webhooks/bench`, unsigned).
pub const SOURCE: &str = "bench";

/// The one destination (`out`), routed every event of [`SOURCE`].
pub const DESTINATION: &str = "out";

/// How [`DESTINATION`] delivers.
#[derive(Debug, Clone)]
pub enum Target {
    /// An HTTP destination POSTing to this URL.
    Http(String),
    /// A destination of kind `agent` bound to the agent `bench`, allowed to forward to URLs
    /// under this prefix.
    Agent(String),
}

/// Nodes on one database, an admin key, and the processes to stop.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    dir: TempDir,
    admin_url: String,
    database: String,
    /// Where each node listens (node `i` has `node_id = "node-i"`).
    pub nodes: Vec<SocketAddr>,
    /// An admin API key every node accepts.
    pub token: String,
    children: Vec<Child>,
}

impl Cluster {
    /// Creates a database on the server `RELAY_TEST_POSTGRES_URL` names, migrates it, adds
    /// an admin key and starts `nodes` `relay serve` processes on it, waiting until each
    /// answers `/healthz`.
    pub async fn start(bin: &Path, nodes: usize, target: &Target) -> Result<Self, BenchError> {
        let admin_url = std::env::var(POSTGRES_URL_VAR)
            .map_err(|_| BenchError::Setup(format!("the agent nodes need {POSTGRES_URL_VAR}")))?;
        let database = format!(
            "relay_bench_nodes_{}_{}",
            std::process::id(),
            relay_core::model::time::Timestamp::now().as_millis()
        );
        store::admin(&admin_url, &format!("CREATE DATABASE {database}")).await?;
        let mut cluster = Self {
            bin: bin.to_owned(),
            dir: tempfile::tempdir()?,
            admin_url,
            database,
            nodes: Vec::new(),
            token: String::new(),
            children: Vec::new(),
        };
        match cluster.boot(nodes.max(1), target).await {
            Ok(()) => Ok(cluster),
            Err(error) => {
                let _ = cluster.close().await;
                Err(error)
            }
        }
    }

    async fn boot(&mut self, nodes: usize, target: &Target) -> Result<(), BenchError> {
        let url = store::with_database(&self.admin_url, &self.database);
        let configs: Vec<PathBuf> = (0..nodes)
            .map(|i| self.write_config(i, &url, target))
            .collect::<Result<_, _>>()?;
        self.run_once(&configs[0], &["migrate"])?;
        self.token = self.run_once(&configs[0], &["key", "add", "bench", "--role", "admin"])?;
        for (i, config) in configs.iter().enumerate() {
            let addr = free_port()?;
            let log = std::fs::File::create(self.dir.path().join(format!("node-{i}.log")))?;
            let child = self
                .relay(config, &["serve"])
                .args(["--listen", &addr.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::from(log))
                .spawn()
                .map_err(|e| BenchError::Setup(format!("cannot start relay serve: {e}")))?;
            self.children.push(child);
            self.nodes.push(addr);
            call::wait_healthy(addr, Duration::from_secs(60))
                .await
                .map_err(|e| BenchError::Setup(format!("{e}; {}", self.log_tail(i))))?;
        }
        Ok(())
    }

    /// Starts `relay agent` connected to node `node`, forwarding to `forward`, with the
    /// agent token `token`.
    pub fn start_agent(
        &mut self,
        node: usize,
        token: &str,
        forward: &str,
    ) -> Result<(), BenchError> {
        let addr = self
            .nodes
            .get(node)
            .ok_or_else(|| BenchError::Setup(format!("no node {node}")))?;
        let log = std::fs::File::create(self.dir.path().join("agent.log"))?;
        let child = Command::new(&self.bin)
            .args([
                "agent",
                "--gateway",
                &format!("http://{addr}"),
                "--forward",
                forward,
            ])
            .env("RELAY_AGENT_TOKEN", token)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| BenchError::Setup(format!("cannot start relay agent: {e}")))?;
        self.children.push(child);
        Ok(())
    }

    /// The last lines of node `i`'s log, for an error message.
    pub fn log_tail(&self, i: usize) -> String {
        let path = self.dir.path().join(format!("node-{i}.log"));
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n");
        format!("node-{i}'s log ends: {tail}")
    }

    /// Kills every process and drops the database.
    pub async fn close(mut self) -> Result<(), BenchError> {
        self.kill_all();
        store::admin(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
        )
        .await
    }

    fn kill_all(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }

    fn relay(&self, config: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .arg("--config")
            .arg(config)
            .env("RELAY_CREDENTIALS_KEY", CREDENTIALS_KEY)
            .env("RUST_LOG", "error");
        command
    }

    /// Runs `relay ARGS --config CONFIG` to the end; its standard output, trimmed.
    fn run_once(&self, config: &Path, args: &[&str]) -> Result<String, BenchError> {
        let output = self.relay(config, args).stdin(Stdio::null()).output()?;
        if !output.status.success() {
            return Err(BenchError::Setup(format!(
                "relay {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    fn write_config(&self, node: usize, url: &str, target: &Target) -> Result<PathBuf, BenchError> {
        let path = self.dir.path().join(format!("node-{node}.toml"));
        std::fs::write(&path, config_toml(node, url, target))?;
        Ok(path)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// Node `node`'s configuration: the database at `url`, [`SOURCE`] routed to [`DESTINATION`].
fn config_toml(node: usize, url: &str, target: &Target) -> String {
    let destination = match target {
        Target::Http(url) => format!("url = \"{url}\""),
        Target::Agent(prefix) => {
            format!("kind = \"agent\"\nagent = \"bench\"\nallow_targets = [\"{prefix}\"]")
        }
    };
    format!(
        r#"[server]
listen = "127.0.0.1:1"
database_url = "{url}"
migrate_on_start = false
node_id = "node-{node}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "{SOURCE}"
scheme = "none"

[[destinations]]
name = "{DESTINATION}"
{destination}
timeout_ms = 10000
circuit_breaker = {{ enabled = false }}

[[routes]]
name = "all"
source = "{SOURCE}"
destinations = ["{DESTINATION}"]
"#
    )
}

/// A loopback address nothing listens on right now.
fn free_port() -> Result<SocketAddr, BenchError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_destination_is_bound_to_the_bench_agent() {
        let toml = config_toml(
            1,
            "postgres://h/db",
            &Target::Agent("http://127.0.0.1:9/".into()),
        );
        assert!(toml.contains("node_id = \"node-1\""), "{toml}");
        assert!(
            toml.contains("kind = \"agent\"\nagent = \"bench\""),
            "{toml}"
        );
        assert!(
            toml.contains("allow_targets = [\"http://127.0.0.1:9/\"]"),
            "{toml}"
        );
        let toml = config_toml(
            0,
            "postgres://h/db",
            &Target::Http("http://127.0.0.1:9/a".into()),
        );
        assert!(toml.contains("url = \"http://127.0.0.1:9/a\""), "{toml}");
        assert!(!toml.contains("kind ="), "{toml}");
    }
}
