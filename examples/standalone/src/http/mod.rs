//! The HTTP server of `relay serve`: hyper's HTTP/1.1 with the time limits `axum::serve` does
//! not set, so slow senders cannot hold connections open forever (slowloris).
//!
//! - a request head must arrive within `request_timeout` (hyper's header read timeout);
//! - a request body must arrive in full within `request_timeout` of its request (else the
//!   ingest answers 400 `unreadable_body` and the connection is closed);
//! - hyper's own limits apply: at most 100 headers and about 400 KiB of request head (431 or
//!   a closed connection past them).

mod deadline;

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

pub use deadline::DeadlineBody;

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets each
/// connection finish the request it is serving, and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    request_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let (closing, closed) = watch::channel(false);
    // Each connection task holds a sender; `recv` answers `None` once all are gone.
    let (alive, mut all_done) = mpsc::channel::<Infallible>(1);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
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
        let service = hyper::service::service_fn({
            let app = app.clone();
            move |request: hyper::Request<Incoming>| {
                let request =
                    request.map(|body| Body::new(DeadlineBody::new(body, request_timeout)));
                app.clone().oneshot(request)
            }
        });
        let mut closed = closed.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(request_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let mut shutting_down = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(error) = result {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                        break;
                    }
                    _ = closed.wait_for(|closing| *closing), if !shutting_down => {
                        shutting_down = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(alive);
        });
    }
    drop(listener);
    let _ = closing.send(true);
    drop(alive);
    let _ = all_done.recv().await;
}
