//! actix-web on loopback from a tokio test: the contract's app behind [`RelayMiddleware`].

use std::net::SocketAddr;

use actix_web::{App, HttpServer, web};
use relay_actix::RelayMiddleware;

/// Serves the application the contract expects (`GET /` answers `the app`, `POST /echo`
/// answers its body) wrapped in `middleware`, on 127.0.0.1 on an ephemeral port, with one
/// worker on a thread and actix runtime of its own; returns its address.
pub fn serve_actix(middleware: RelayMiddleware) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        let app = move || {
            App::new()
                .wrap(middleware.clone())
                .route("/", web::get().to(|| async { "the app" }))
                .route(
                    "/echo",
                    web::post().to(|body: web::Bytes| async move { body }),
                )
        };
        let server = HttpServer::new(app)
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        actix_web::rt::System::new()
            .block_on(server)
            .expect("serve");
    });
    addr
}

/// Serves the whole gateway through relay-actix (ingest, the control plane with its
/// dashboard, health and public `/metrics`, the agent endpoint) in an app whose own
/// `GET /hello` answers `the app`, like [`serve_actix`]; returns its address.
pub fn serve_actix_gateway(relay: relay_core::Relay) -> SocketAddr {
    let plane = relay_actix::ControlPlane::new(relay.clone(), Default::default())
        .health()
        .agents()
        .metrics(None)
        .expect("the metrics recorder");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        let app = move || {
            App::new()
                .wrap(RelayMiddleware::new(relay.clone()))
                .wrap(plane.clone())
                .route("/hello", web::get().to(|| async { "the app" }))
        };
        let server = HttpServer::new(app)
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        actix_web::rt::System::new()
            .block_on(server)
            .expect("serve");
    });
    addr
}
