//! Raw HTTP/1.1 over TCP, for requests no well-behaved client sends: non-UTF-8 header values,
//! floods of headers, bodies that trickle in or never end.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;

/// What came back on the connection.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status of the answer; `None` when the connection closed without one.
    pub status: Option<u16>,
    /// The answer as text (lossy), head and body.
    pub text: String,
}

impl Reply {
    fn parse(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok());
        Self { status, text }
    }
}

/// Reads until the server closes the connection (or `timeout`, or an error).
async fn read_reply(mut reader: impl AsyncReadExt + Unpin, timeout: Duration) -> Reply {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    let _ = tokio::time::timeout(timeout, async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    Reply::parse(&bytes)
}

/// Sends `bytes` (write errors ignored: the server may close early) and reads the answer.
pub async fn request(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let _ = stream.write_all(bytes).await;
    read_reply(stream, timeout).await
}

/// `POST path` with exactly these header bytes and `body` (`connection: close`).
pub async fn post_raw(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &[u8])],
    body: &[u8],
) -> Reply {
    let mut bytes =
        format!("POST {path} HTTP/1.1\r\nhost: relay\r\nconnection: close\r\n").into_bytes();
    for (name, value) in headers {
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(body);
    request(addr, &bytes, Duration::from_secs(30)).await
}

/// The answer to a request whose body was still being written, and how much was written.
#[derive(Debug)]
pub struct Flood {
    /// What came back.
    pub reply: Reply,
    /// Body bytes the client managed to write (into the kernel's buffers included).
    pub written: usize,
}

/// Writes the head, then runs `write_body` on the connection while reading the answer; the
/// writer is stopped once the answer is complete.
async fn while_writing<F, Fut>(addr: SocketAddr, head: String, write_body: F) -> Flood
where
    F: FnOnce(OwnedWriteHalf) -> Fut,
    Fut: std::future::Future<Output = usize> + Send + 'static,
{
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (reader, mut writer) = stream.into_split();
    writer.write_all(head.as_bytes()).await.expect("write head");
    let writing = tokio::spawn(write_body(writer));
    let reply = read_reply(reader, Duration::from_secs(60)).await;
    writing.abort();
    let written = writing.await.unwrap_or(0);
    Flood { reply, written }
}

/// A chunked body of `total` bytes to `path`, written as fast as the server reads it.
pub async fn chunked_flood(addr: SocketAddr, path: &str, total: usize) -> Flood {
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: relay\r\ntransfer-encoding: chunked\r\n\
         content-type: application/json\r\n\r\n"
    );
    while_writing(addr, head, move |mut writer| async move {
        let chunk = vec![b'z'; 64 * 1024];
        let frame = format!("{:x}\r\n", chunk.len());
        let mut written = 0;
        while written < total {
            let sent = async {
                writer.write_all(frame.as_bytes()).await?;
                writer.write_all(&chunk).await?;
                writer.write_all(b"\r\n").await
            };
            if sent.await.is_err() {
                break;
            }
            written += chunk.len();
        }
        let _ = writer.write_all(b"0\r\n\r\n").await;
        written
    })
    .await
}

/// A body of `length` declared bytes, sent one byte every 100 ms.
pub async fn trickle_body(addr: SocketAddr, path: &str, length: usize) -> Reply {
    let head = format!("POST {path} HTTP/1.1\r\nhost: relay\r\ncontent-length: {length}\r\n\r\n");
    let flood = while_writing(addr, head, |writer| trickle(writer, length)).await;
    flood.reply
}

/// A request head that never ends: one more byte of a header value every 100 ms.
pub async fn trickle_head(addr: SocketAddr) -> Reply {
    let head = "POST /webhooks/open HTTP/1.1\r\nhost: relay\r\nx-slow: ".to_owned();
    let flood = while_writing(addr, head, |writer| trickle(writer, 10_000)).await;
    flood.reply
}

async fn trickle(mut writer: OwnedWriteHalf, bytes: usize) -> usize {
    for written in 0..bytes {
        if writer.write_all(b"a").await.is_err() {
            return written;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bytes
}
