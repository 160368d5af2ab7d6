//! Misbehaving HTTP receivers on raw loopback sockets, for fault-injection tests: each accepts
//! connections on 127.0.0.1 and misbehaves in one way, counting the connections it got.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How a [`FaultyReceiver`] misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Reads the request head, then resets the connection (RST, no answer).
    Reset,
    /// Answers one byte of its head every 200 ms, slowloris-style, never finishing it.
    Trickle,
    /// Reads the request and never answers (the connection stays open).
    Hang,
    /// Answers `503` with an endless body (1 MiB chunks until the client goes away).
    HugeBody,
    /// Answers bytes that are not HTTP, then closes.
    Garbage,
    /// Answers `429 Too Many Requests` with `Retry-After: 86400`.
    TooManyRequests,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 6] = [
        Fault::Reset,
        Fault::Trickle,
        Fault::Hang,
        Fault::HugeBody,
        Fault::Garbage,
        Fault::TooManyRequests,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Reset => "reset",
            Fault::Trickle => "trickle",
            Fault::Hang => "hang",
            Fault::HugeBody => "huge body",
            Fault::Garbage => "invalid HTTP",
            Fault::TooManyRequests => "429 + Retry-After: 86400",
        }
    }
}

/// A receiver on loopback that misbehaves with one [`Fault`] on every connection.
#[derive(Debug, Clone)]
pub struct FaultyReceiver {
    /// `http://127.0.0.1:PORT/hook`.
    pub url: String,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    open: Arc<OpenConnections>,
}

/// Connections open right now and the most open at once.
#[derive(Debug, Default)]
struct OpenConnections {
    now: AtomicUsize,
    most: AtomicUsize,
}

/// Counts one connection as open until dropped.
struct Open(Arc<OpenConnections>);

impl Open {
    fn new(open: &Arc<OpenConnections>) -> Self {
        let now = open.now.fetch_add(1, Ordering::SeqCst) + 1;
        open.most.fetch_max(now, Ordering::SeqCst);
        Self(Arc::clone(open))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

impl FaultyReceiver {
    /// Starts listening on 127.0.0.1 on an ephemeral port.
    pub async fn start(fault: Fault) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(OpenConnections::default());
        let (c, r, o) = (
            Arc::clone(&connections),
            Arc::clone(&requests),
            Arc::clone(&open),
        );
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let open = Open::new(&o);
                let requests = Arc::clone(&r);
                tokio::spawn(async move {
                    misbehave(stream, fault, requests).await;
                    drop(open);
                });
            }
        });
        Self {
            url: format!("http://{addr}/hook"),
            connections,
            requests,
            open,
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The most connections that were open at once.
    pub fn most_open(&self) -> usize {
        self.open.most.load(Ordering::SeqCst)
    }

    /// Request heads read so far (several per connection when the client reuses it).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads until the end of a request head (`\r\n\r\n`); false when the peer went away.
async fn read_head(stream: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                seen.extend_from_slice(&buf[..n]);
                if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    return true;
                }
            }
        }
    }
}

async fn misbehave(mut stream: TcpStream, fault: Fault, requests: Arc<AtomicUsize>) {
    loop {
        if !read_head(&mut stream).await {
            return;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        match fault {
            Fault::Reset => {
                // SO_LINGER 0: closing sends RST instead of FIN. (Deprecated because a
                // non-zero linger blocks the thread on drop; a zero one does not.)
                #[allow(deprecated)]
                let _ = stream.set_linger(Some(Duration::ZERO));
                return;
            }
            Fault::Trickle => {
                // A valid head that never ends: one more byte of a header value every 200 ms.
                let head = b"HTTP/1.1 200 OK\r\nx-trickle: ";
                let bytes = head.iter().chain(std::iter::repeat(&b'a'));
                for byte in bytes {
                    if stream.write_all(&[*byte]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            Fault::Hang => {
                let mut sink = [0u8; 4096];
                // Keep reading (the body, then nothing) until the client closes.
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
            Fault::HugeBody => {
                let head = "HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'x'; 1 << 20];
                let frame = format!("{:x}\r\n", chunk.len());
                loop {
                    let sent = async {
                        stream.write_all(frame.as_bytes()).await?;
                        stream.write_all(&chunk).await?;
                        stream.write_all(b"\r\n").await
                    };
                    if sent.await.is_err() {
                        return;
                    }
                }
            }
            Fault::Garbage => {
                let _ = stream
                    .write_all(b"\x00\xffNOT HTTP AT ALL \xfe\r\n\r\n\x01\x02garbage")
                    .await;
                return;
            }
            Fault::TooManyRequests => {
                let answer = "HTTP/1.1 429 Too Many Requests\r\nretry-after: 86400\r\n\
                              content-length: 0\r\n\r\n";
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}
