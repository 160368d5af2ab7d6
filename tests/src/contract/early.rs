//! Oversized bodies are refused without being read to the end: over raw TCP, the request
//! body is never finished, so only an adapter that decides early can answer.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::SMALL_LIMIT;

const PATIENCE: Duration = Duration::from_secs(5);
const TOO_LARGE: &str = r#"{"error":"payload_too_large"}"#;

/// The failures, one line each.
pub(super) async fn refusals(addr: SocketAddr) -> Vec<String> {
    let declared = format!(
        "POST /webhooks/small HTTP/1.1\r\nhost: relay\r\ncontent-length: {}\r\n\r\n{}",
        100 * 1024 * 1024,
        "x".repeat(10),
    );
    let over = SMALL_LIMIT + 36;
    let chunked = format!(
        "POST /webhooks/small HTTP/1.1\r\nhost: relay\r\ntransfer-encoding: chunked\r\n\r\n{over:x}\r\n{}\r\n",
        "x".repeat(over),
    );
    let mut failures = Vec::new();
    for (name, request) in [
        ("100 MiB declared, 10 bytes sent", declared),
        ("chunked, past the limit, never ended", chunked),
    ] {
        match tokio::time::timeout(PATIENCE, exchange(addr, request.as_bytes())).await {
            Ok(Ok((413, body))) if body == TOO_LARGE => {}
            Ok(Ok((status, body))) => failures.push(format!("{name}: got {status} {body:?}")),
            Ok(Err(error)) => failures.push(format!("{name}: {error}")),
            Err(_) => failures.push(format!("{name}: no answer in {PATIENCE:?}")),
        }
    }
    failures
}

/// Writes `request` (which leaves its body unfinished) and reads one reply with a
/// `content-length` body: its status and body.
async fn exchange(addr: SocketAddr, request: &[u8]) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(reply) = parse(&received) {
            return Ok(reply);
        }
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            let text = String::from_utf8_lossy(&received).into_owned();
            return Err(std::io::Error::other(format!("closed after {text:?}")));
        }
        received.extend_from_slice(&buffer[..read]);
    }
}

/// A complete reply in `received`, if there is one yet.
fn parse(received: &[u8]) -> Option<(u16, String)> {
    let text = std::str::from_utf8(received).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })?;
    (body.len() >= length).then(|| (status, body[..length].to_owned()))
}
