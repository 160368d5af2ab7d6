//! The six servers, each on a thread of its own with a one-thread runtime.

use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use relay_actix::RelayMiddleware;
use relay_axum::RelayLayer;
use relay_core::Relay;
use relay_core::ingest::signature::NoSignature;
use relay_core::ingest::source::WebhookSource;
use relay_core::ingest::{IngestRequest, Reply};

const STATIC_REPLY: &str =
    r#"{"status":"accepted","event_id":"evt_0192f3a07c1e70008000000000000001"}"#;

/// A server configuration under test.
#[derive(Debug, Clone, Copy)]
pub enum Server {
    ActixMiddleware,
    ActixBare,
    ActixStatic,
    AxumLayer,
    AxumBare,
    AxumStatic,
}

/// A server answering on `addr` until stopped.
pub struct Running {
    pub addr: SocketAddr,
    stop: Stop,
    thread: JoinHandle<()>,
}

enum Stop {
    Actix(ServerHandle),
    Axum(tokio::sync::oneshot::Sender<()>),
}

impl Server {
    pub const ALL: [Server; 6] = [
        Self::ActixMiddleware,
        Self::ActixBare,
        Self::ActixStatic,
        Self::AxumLayer,
        Self::AxumBare,
        Self::AxumStatic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::ActixMiddleware => "actix-web + RelayMiddleware",
            Self::ActixBare => "actix-web handler calling ingest",
            Self::ActixStatic => "actix-web static reply, no Relay",
            Self::AxumLayer => "axum + RelayLayer",
            Self::AxumBare => "axum handler calling ingest",
            Self::AxumStatic => "axum static reply, no Relay",
        }
    }

    pub fn start(self) -> Running {
        let relay = Relay::builder()
            .source(WebhookSource::new("raw", NoSignature))
            .build()
            .expect("valid configuration");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        match self {
            Self::ActixMiddleware => actix(listener, move |l| {
                let app = move || {
                    actix_web::App::new()
                        .wrap(RelayMiddleware::new(relay.clone()))
                        .route("/", actix_web::web::get().to(|| async { "the app" }))
                };
                actix_web::HttpServer::new(app)
                    .workers(1)
                    .disable_signals()
                    .listen(l)
                    .map(|s| s.run())
            }),
            Self::ActixBare => actix(listener, move |l| {
                let app = move || {
                    actix_web::App::new()
                        .app_data(actix_web::web::Data::new(relay.clone()))
                        .route("/webhooks/{source}", actix_web::web::post().to(actix_bare))
                };
                actix_web::HttpServer::new(app)
                    .workers(1)
                    .disable_signals()
                    .listen(l)
                    .map(|s| s.run())
            }),
            Self::ActixStatic => actix(listener, |l| {
                let app = || {
                    actix_web::App::new().route(
                        "/webhooks/{source}",
                        actix_web::web::post().to(|| async {
                            actix_web::HttpResponse::Ok()
                                .content_type("application/json")
                                .body(STATIC_REPLY)
                        }),
                    )
                };
                actix_web::HttpServer::new(app)
                    .workers(1)
                    .disable_signals()
                    .listen(l)
                    .map(|s| s.run())
            }),
            Self::AxumLayer => axum(
                listener,
                axum::Router::new()
                    .route("/", axum::routing::get(|| async { "the app" }))
                    .layer(RelayLayer::new(relay)),
            ),
            Self::AxumBare => axum(
                listener,
                axum::Router::new()
                    .route("/webhooks/{source}", axum::routing::post(axum_bare))
                    .with_state(relay),
            ),
            Self::AxumStatic => axum(
                listener,
                axum::Router::new().route(
                    "/webhooks/{source}",
                    axum::routing::post(|| async {
                        (
                            [(http::header::CONTENT_TYPE, "application/json")],
                            STATIC_REPLY,
                        )
                    }),
                ),
            ),
        }
    }
}

impl Running {
    pub async fn stop(self) {
        match self.stop {
            Stop::Actix(handle) => handle.stop(true).await,
            Stop::Axum(stop) => drop(stop.send(())),
        }
        self.thread.join().expect("server thread");
    }
}

fn actix<F>(listener: TcpListener, build: F) -> Running
where
    F: FnOnce(TcpListener) -> std::io::Result<actix_web::dev::Server> + Send + 'static,
{
    let addr = listener.local_addr().expect("local addr");
    let (handle_tx, handle_rx) = mpsc::channel();
    let thread = server_thread(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = build(listener).expect("listen");
            handle_tx.send(server.handle()).expect("handle");
            server.await.expect("serve");
        });
    });
    let handle = handle_rx.recv().expect("server started");
    Running {
        addr,
        stop: Stop::Actix(handle),
        thread,
    }
}

fn axum(listener: TcpListener, app: axum::Router) -> Running {
    let addr = listener.local_addr().expect("local addr");
    listener.set_nonblocking(true).expect("non-blocking");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = server_thread(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { drop(stopped.await) })
                .await
                .expect("serve");
        });
    });
    Running {
        addr,
        stop: Stop::Axum(stop),
        thread,
    }
}

/// A thread named `server`, which [`Sample`](crate::cpu::Sample) counts.
fn server_thread(run: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("server".into())
        .spawn(run)
        .expect("spawn server thread")
}

/// What an axum user writes without `RelayLayer`: extractors, then `Relay::ingest`.
async fn axum_bare(
    State(relay): State<Relay>,
    Path(source): Path<String>,
    headers: http::HeaderMap,
    body: bytes::Bytes,
) -> axum::response::Response {
    let reply = relay
        .ingest(IngestRequest::new(source, headers, body))
        .await
        .into_reply();
    let status = http::StatusCode::from_u16(reply.status).expect("valid status");
    (status, reply.headers, reply.body).into_response()
}

/// What an actix-web user writes without `RelayMiddleware`: extractors, the `http` 0.2 to 1.x
/// conversion, `Relay::ingest`, and back.
async fn actix_bare(
    relay: actix_web::web::Data<Relay>,
    source: actix_web::web::Path<String>,
    request: actix_web::HttpRequest,
    body: actix_web::web::Bytes,
) -> actix_web::HttpResponse {
    let mut headers = http::HeaderMap::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        headers.append(
            http::HeaderName::from_bytes(name.as_str().as_bytes()).expect("valid name"),
            http::HeaderValue::from_bytes(value.as_bytes()).expect("valid value"),
        );
    }
    let request = IngestRequest::new(source.into_inner(), headers, body);
    actix_reply(relay.ingest(request).await.into_reply())
}

fn actix_reply(reply: Reply) -> actix_web::HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(reply.status).expect("valid status");
    let mut response = actix_web::HttpResponse::build(status);
    for (name, value) in &reply.headers {
        response.insert_header((name.as_str(), value.as_bytes()));
    }
    response.body(reply.body)
}
