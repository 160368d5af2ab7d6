//! Running the real `relay` binary in tests: a free port, start-and-wait, graceful stop;
//! continuous signed load ([`load`]); a PostgreSQL schema per test ([`postgres`]); several
//! nodes on one database ([`cluster`]); the dashboard's browser tests ([`browser`]).
//! Each test binary includes this module and uses a part of it.
#![allow(dead_code)]

pub mod browser;
pub mod cluster;
pub mod load;
pub mod postgres;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use relay_tests::eventually;

/// A loopback address nothing listens on right now.
pub fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

/// Starts `relay --config CONFIG` with `env` set (an empty value removes the variable) and
/// waits until it answers `GET /healthz` on `addr`.
pub async fn start(config: &Path, addr: SocketAddr, env: &[(&str, &str)]) -> Child {
    spawn(config, addr, env, Stdio::inherit()).await
}

/// Like [`start`], with the process's standard error (its log) written to the file `log`.
pub async fn start_logged(
    config: &Path,
    addr: SocketAddr,
    env: &[(&str, &str)],
    log: &Path,
) -> Child {
    let file = std::fs::File::create(log).expect("create the log file");
    spawn(config, addr, env, Stdio::from(file)).await
}

async fn spawn(config: &Path, addr: SocketAddr, env: &[(&str, &str)], stderr: Stdio) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_relay"));
    command
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(stderr);
    for (name, value) in env {
        if value.is_empty() {
            command.env_remove(name);
        } else {
            command.env(name, value);
        }
    }
    let mut child = command.spawn().expect("start relay");
    wait_healthy(&mut child, addr).await;
    child
}

/// Waits (at most 30 s) until the process answers `GET /healthz` on `addr`; kills it and
/// panics if it does not.
pub async fn wait_healthy(child: &mut Child, addr: SocketAddr) {
    let client = relay_core::tls::client();
    let url = format!("http://{addr}/healthz");
    let up = eventually(Duration::from_secs(30), || {
        let request = client.get(&url).send();
        async move { request.await.ok().filter(|r| r.status().is_success()) }
    })
    .await;
    if up.is_none() {
        let _ = child.kill();
        panic!("relay did not come up on {addr}");
    }
}

/// Sends SIGTERM and waits (at most 30 s) for the process to exit by itself.
pub fn terminate(child: &mut Child) -> ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "relay ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
