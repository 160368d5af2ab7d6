//! The HTTP server of `relay serve`: hyper with the time limits `axum::serve` does not set, so
//! slow senders cannot hold connections open forever (slowloris).
//!
//! Plain TCP serves HTTP/1.1. With TLS ([`crate::tls`]), HTTP/2 is served to clients that
//! offer it (ALPN `h2`), HTTP/1.1 to the others, and every response carries
//! `Strict-Transport-Security`.
//!
//! - the TLS handshake must finish within `request_timeout`;
//! - HTTP/1.1: a request head must arrive within `request_timeout` (hyper's header read
//!   timeout); hyper's own limits apply: at most 100 headers and about 400 KiB of request
//!   head (431 or a closed connection past them);
//! - HTTP/1.1 and HTTP/2: a connection without a request in flight for `request_timeout` is
//!   closed (HTTP/1.1: hyper's header read timeout, which runs while the connection waits for
//!   the next request head too; HTTP/2: a graceful close with GOAWAY, and the connection is
//!   dropped if that has not finished `request_timeout` later, as for a client that never
//!   sends its preface);
//! - HTTP/2: a request is dispatched only once its whole head (a HEADERS frame) is in, so
//!   slowly sent heads hold no request; the connection is pinged every `request_timeout` and
//!   closed when a ping is not answered within `request_timeout`, and hyper's limits on
//!   concurrent streams and header list size apply;
//! - either version: a request body must arrive in full within `request_timeout` of its
//!   request (else the ingest answers 400 `unreadable_body`; HTTP/1.1 closes the connection).
//!
//! Each request carries a [`relay_axum::ClientAddr`] extension (see [`TrustedProxies`]), also
//! recorded as `client` in the `request` log span. A panic while a request is served answers
//! `500 {"error":"internal"}` ([`relay_axum::catch_panic`]) and the server serves on.

mod deadline;
mod idle;

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::HeaderValue;
use http::header::STRICT_TRANSPORT_SECURITY;
use hyper::body::Incoming;
use hyper::rt::{Read, Write};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use relay_axum::ClientAddr;
use relay_axum::catch_panic::CatchPanic;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tower::ServiceExt;
use tracing::Instrument;

pub use deadline::DeadlineBody;
pub use relay_axum::TrustedProxies;

use crate::tls::Tls;
use idle::Activity;

/// `Strict-Transport-Security` on every response over TLS: one year.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// How [`serve`] serves.
#[derive(Clone)]
pub struct Options {
    /// The deadline of a TLS handshake, of a request head and of a request body.
    pub request_timeout: Duration,
    /// TLS termination; `None` serves plain HTTP/1.1.
    pub tls: Option<Tls>,
    /// The reverse proxies whose `X-Forwarded-For` / `Forwarded` are believed.
    pub trusted_proxies: Arc<TrustedProxies>,
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets each
/// connection finish the request it is serving, and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: Options,
    shutdown: impl Future<Output = ()>,
) {
    let (closing, closed) = watch::channel(false);
    // Each connection task holds a sender; `recv` answers `None` once all are gone.
    let (alive, mut all_done) = mpsc::channel::<Infallible>(1);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            app: app.clone(),
            options: options.clone(),
            peer: peer.ip(),
            closed: closed.clone(),
        };
        let alive = alive.clone();
        tokio::spawn(async move {
            connection.run(stream).await;
            drop(alive);
        });
    }
    drop(listener);
    let _ = closing.send(true);
    drop(alive);
    let _ = all_done.recv().await;
}

/// Drives a pinned hyper connection to its end, starting its graceful shutdown once
/// `stopping` turns true.
macro_rules! graceful {
    ($connection:ident, $stopping:ident) => {{
        let mut stopping = $stopping;
        tokio::select! {
            result = $connection.as_mut() => return result.map_err(|e| e.to_string()),
            _ = stopping.wait_for(|stop| *stop) => $connection.as_mut().graceful_shutdown(),
        }
        $connection.await.map_err(|e| e.to_string())
    }};
}

/// One accepted connection.
struct Connection {
    app: Router,
    options: Options,
    peer: IpAddr,
    closed: watch::Receiver<bool>,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let timeout = self.options.request_timeout;
        let Some(tls) = &self.options.tls else {
            self.http(TokioIo::new(stream), false, false).await;
            return;
        };
        // The certificate in use now: a reload changes it for later connections only.
        let acceptor = tls.acceptor();
        let stream = match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::debug!(peer = %self.peer, %error, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(peer = %self.peer, "TLS handshake did not finish in time");
                return;
            }
        };
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        self.http(TokioIo::new(stream), true, h2).await;
    }

    /// Serves HTTP/2 (when `h2`) or HTTP/1.1 on `io` until it closes or the server stops.
    async fn http<I>(self, io: I, tls: bool, h2: bool)
    where
        I: Read + Write + Unpin + Send + 'static,
    {
        let timeout = self.options.request_timeout;
        let Self {
            app,
            options,
            peer,
            mut closed,
        } = self;
        let activity = Activity::new();
        let requests = Arc::clone(&activity);
        // The app, with body deadlines, the client address and (over TLS) HSTS.
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let client = ClientAddr(options.trusted_proxies.client_addr(peer, request.headers()));
            let mut request = request.map(|body| Body::new(DeadlineBody::new(body, timeout)));
            request.extensions_mut().insert(client);
            let span = tracing::info_span!("request", %client);
            let busy = requests.start();
            // A panic while serving answers `500 {"error":"internal"}`; the server lives on.
            let response = CatchPanic::new(app.clone()).oneshot(request);
            async move {
                let mut response = response.await?;
                drop(busy);
                if tls {
                    response
                        .headers_mut()
                        .insert(STRICT_TRANSPORT_SECURITY, HSTS);
                }
                Ok::<_, Infallible>(response)
            }
            .instrument(span)
        });
        // HTTP/2 (ALPN h2) through hyper-util's builder; HTTP/1.1 through hyper's own, with
        // upgrades (`relay agent`'s WebSocket, `GET /agent/v1/connect`) and without the h2c
        // that hyper-util's upgradeable connection would also accept. Either stops gracefully
        // when `stop` is set.
        let (stop, stopping) = watch::channel(false);
        let mut connection: Pin<Box<dyn Future<Output = Result<(), String>> + Send>> = if h2 {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(timeout)
                .keep_alive_timeout(timeout);
            Box::pin(async move {
                let builder = builder.http2_only();
                let connection = builder.serve_connection(io, service);
                tokio::pin!(connection);
                graceful!(connection, stopping)
            })
        } else {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(timeout);
            Box::pin(async move {
                let connection = builder.serve_connection(io, service).with_upgrades();
                tokio::pin!(connection);
                graceful!(connection, stopping)
            })
        };
        // When the connection began to close (the server stopping, or HTTP/2 idle).
        let mut closing_since: Option<Instant> = None;
        let check = tokio::time::sleep(timeout);
        tokio::pin!(check);
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    break;
                }
                _ = closed.wait_for(|closing| *closing), if closing_since.is_none() => {
                    closing_since = Some(Instant::now());
                    let _ = stop.send(true);
                }
                () = check.as_mut(), if h2 => {
                    let now = Instant::now();
                    match (activity.idle_since(), closing_since) {
                        (None, _) => check.as_mut().reset(now + timeout),
                        // Idle, and the graceful close did not finish in time (a client that
                        // never sent its HTTP/2 preface, or ignores GOAWAY): drop it.
                        (Some(_), Some(since)) if now >= since + timeout => break,
                        (Some(_), Some(since)) => check.as_mut().reset(since + timeout),
                        (Some(idle), None) if now >= idle + timeout => {
                            closing_since = Some(now);
                            let _ = stop.send(true);
                            check.as_mut().reset(now + timeout);
                        }
                        (Some(idle), None) => check.as_mut().reset(idle + timeout),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
