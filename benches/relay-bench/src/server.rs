//! Servers on 127.0.0.1: the app under test (axum) and the delivery receiver (bare hyper).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::error::BenchError;
use crate::payload::Pushes;

/// An axum app served on an ephemeral loopback port until [`AppServer::stop`].
#[derive(Debug)]
pub struct AppServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl AppServer {
    /// Serves `app` on `127.0.0.1:0`.
    pub async fn start(app: Router) -> Result<Self, BenchError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self { addr, stop, task })
    }

    /// Stops accepting and waits (at most 5 s) for open connections to finish.
    pub async fn stop(self) -> Result<(), BenchError> {
        let _ = self.stop.send(());
        let abort = self.task.abort_handle();
        match tokio::time::timeout(Duration::from_secs(5), self.task).await {
            Ok(served) => served??,
            Err(_) => abort.abort(),
        }
        Ok(())
    }
}

/// When each push arrived: (its index, the arrival time), one entry per request.
pub type Arrivals = Arc<Mutex<Vec<(u64, Instant)>>>;

/// The delivery destination: a tiny hyper server that reads each request and answers 200
/// (after a fixed delay, when given one: a receiver that takes its time), counting requests
/// (and, when asked, recording which push arrived when). Stops (with its connections) when
/// dropped.
#[derive(Debug)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<AtomicU64>,
    arrivals: Option<Arrivals>,
    task: JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver on `127.0.0.1:0`, answering at once; `record` keeps every push's
    /// arrival time.
    pub async fn start(record: bool) -> Result<Self, BenchError> {
        Self::answering_after(record, Duration::ZERO).await
    }

    /// [`Receiver::start`], answering each request `delay` after it has read it.
    pub async fn answering_after(record: bool, delay: Duration) -> Result<Self, BenchError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let received = Arc::new(AtomicU64::new(0));
        let arrivals = record.then(Arrivals::default);
        let counts = Counts {
            received: Arc::clone(&received),
            arrivals: arrivals.clone(),
            delay,
        };
        let task = tokio::spawn(accept(listener, counts));
        Ok(Self {
            base_url: format!("http://{addr}"),
            addr,
            received,
            arrivals,
            task,
        })
    }

    /// Requests received so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// The arrivals recorded so far (empty unless started with `record`).
    pub fn arrivals(&self) -> Vec<(u64, Instant)> {
        self.arrivals
            .as_ref()
            .and_then(|a| a.lock().ok().map(|a| a.clone()))
            .unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the receiver's connections share: the count, the arrivals, the answer's delay.
#[derive(Clone)]
struct Counts {
    received: Arc<AtomicU64>,
    arrivals: Option<Arrivals>,
    delay: Duration,
}

async fn accept(listener: TcpListener, counts: Counts) {
    // Dropped with this task (on abort): that aborts every connection too.
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let counts = counts.clone();
        let service = service_fn(move |request: Request<Incoming>| {
            let Counts {
                received,
                arrivals,
                delay,
            } = counts.clone();
            async move {
                let body = request.into_body().collect().await.map(|b| b.to_bytes());
                let now = Instant::now();
                received.fetch_add(1, Ordering::Relaxed);
                if let (Some(arrivals), Ok(body)) = (&arrivals, body)
                    && let (Some(i), Ok(mut arrivals)) = (Pushes::index_of(&body), arrivals.lock())
                {
                    arrivals.push((i, now));
                }
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
            }
        });
        connections.spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}
