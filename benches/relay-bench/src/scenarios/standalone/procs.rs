//! `standalone`'s child processes: `relay serve`, and this binary serving bare axum or the
//! delivery receiver (`--serve`). Each announces its address on stdout; each is killed
//! (SIGKILL) and reaped when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use crate::cli::Serve;
use crate::error::BenchError;
use crate::proc;
use crate::server::Receiver;

/// How long a child may take to announce its address, or to answer a count.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// The line a `--serve` child announces its address with.
const LISTENING: &str = "listening ";

/// A running child process serving HTTP on loopback.
pub struct Served {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Served {
    /// Spawns `command` (its stdin and stdout piped) and waits until it prints a line starting
    /// with `prefix` followed by its address (`127.0.0.1:PORT`, or `http://127.0.0.1:PORT`).
    pub fn spawn(mut command: Command, prefix: &str) -> Result<Self, BenchError> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| BenchError::Setup(format!("cannot start {command:?}: {e}")))?;
        let stdout = child.stdout.take();
        let stdin = child.stdin.take();
        let (send, lines) = mpsc::channel();
        // Drains stdout to its end, so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout?).lines() {
                let _ = send.send(line.ok()?);
            }
            Some(())
        });
        let mut served = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stdin,
            lines,
        };
        served.addr = served.announced(prefix, &format!("{command:?}"))?;
        Ok(served)
    }

    /// Reads stdout until the line starting with `prefix`, and parses the address after it.
    fn announced(&self, prefix: &str, what: &str) -> Result<SocketAddr, BenchError> {
        loop {
            let line = self
                .lines
                .recv_timeout(ANSWER_WITHIN)
                .map_err(|_| BenchError::Setup(format!("{what} did not announce its address")))?;
            if let Some(rest) = line.strip_prefix(prefix) {
                let addr = rest.trim().trim_start_matches("http://");
                return addr.parse().map_err(|_| {
                    BenchError::Setup(format!("{what} announced a bad address: {line}"))
                });
            }
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The CPU time (clock ticks of 10 ms) the child used so far.
    pub fn ticks(&self) -> Option<u64> {
        proc::ticks_of(self.pid())
    }

    /// Asks a `--serve` child how many requests it received so far.
    pub fn received(&mut self) -> Result<u64, BenchError> {
        let stdin = (self.stdin.as_mut()).ok_or_else(|| BenchError::Setup("no stdin".into()))?;
        writeln!(stdin, "count")?;
        stdin.flush()?;
        let line = (self.lines.recv_timeout(ANSWER_WITHIN))
            .map_err(|_| BenchError::Setup("the receiver did not answer".into()))?;
        (line
            .strip_prefix("received ")
            .and_then(|n| n.trim().parse().ok()))
        .ok_or_else(|| BenchError::Setup(format!("the receiver answered {line:?}")))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `relay-bench standalone --serve KIND`, from this binary, as a [`Served`] child.
pub fn spawn_serving(kind: Serve) -> Result<Served, BenchError> {
    let mut command = Command::new(std::env::current_exe()?);
    let kind = match kind {
        Serve::Bare => "bare",
        Serve::Receiver => "receiver",
    };
    command.args(["standalone", "--serve", kind]);
    Served::spawn(command, LISTENING)
}

/// The `--serve` child itself: serves `kind` on an ephemeral loopback port, prints
/// `listening ADDR`, then answers each line on stdin with `received N` (requests received
/// so far; always 0 for bare axum) until stdin ends.
pub async fn serve(kind: Serve) -> Result<(), BenchError> {
    let (addr, count): (SocketAddr, Arc<dyn Fn() -> u64 + Send + Sync>) = match kind {
        Serve::Bare => {
            let server = crate::bare::start().await?;
            let addr = server.addr;
            // The closure owns the whole server (not just a field of it): it serves until
            // the process ends.
            (
                addr,
                Arc::new(move || {
                    let _serving = &server;
                    0
                }),
            )
        }
        Serve::Receiver => {
            let receiver = Arc::new(Receiver::start(false).await?);
            (receiver.addr, Arc::new(move || receiver.received()))
        }
    };
    println!("{LISTENING}{addr}");
    tokio::task::spawn_blocking(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            if line.is_err() {
                break;
            }
            println!("received {}", count());
        }
    })
    .await?;
    Ok(())
}
