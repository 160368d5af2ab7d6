//! # relay-actix
//!
//! Mounts the [Relay](relay_core) webhook gateway in any actix-web 4 application with one
//! middleware. [`RelayMiddleware`] answers `POST {prefix}/{source}` (prefix `/webhooks` by
//! default) with the ingest pipeline and passes every other request to the wrapped service
//! untouched. It only converts types (actix-web's `http` 0.2 to relay-core's `http` 1.x and
//! back): every decision (status codes, JSON bodies, limits) lives in `relay-core`, so it
//! answers exactly like `relay-axum`.
//!
//! ```
//! use actix_web::{App, HttpServer, web};
//! use relay_actix::RelayMiddleware;
//! use relay_core::{Relay, route::EventRoute, ingest::source::WebhookSource, ingest::signature::GitHub};
//! use relay_core::deliver::destination::{Destination, HandlerError, Message};
//!
//! # fn main() -> std::io::Result<()> { actix_web::rt::System::new().block_on(run()) }
//! # async fn run() -> std::io::Result<()> {
//! let relay = Relay::builder()
//!     .source(WebhookSource::new("github", GitHub).secret("It's a Secret to Everybody"))
//!     .destination(Destination::handler("deploys", |m: Message| async move {
//!         println!("verified, deduplicated {} event: {} bytes", m.event_type, m.body.len());
//!         Ok::<(), HandlerError>(())
//!     }))
//!     .route(EventRoute::new("pushes").source("github").event_types(["push"]).to(["deploys"]))
//!     .build()
//!     .expect("valid configuration");
//! let _worker = relay.spawn_worker(Default::default()); // delivers in the background
//! let app = move || {
//!     App::new()
//!         .wrap(RelayMiddleware::new(relay.clone())) // POST /webhooks/github now ingests
//!         .route("/", web::get().to(|| async { "my app" }))
//! };
//! # {
//! #     use actix_web::test::{TestRequest, call_service, init_service, read_body};
//! #     let service = init_service(app()).await;
//! #     let unsigned = TestRequest::post().uri("/webhooks/github").set_payload("{}");
//! #     let response = call_service(&service, unsigned.to_request()).await;
//! #     assert_eq!(response.status(), 401);
//! #     assert_eq!(read_body(response).await, r#"{"error":"invalid_signature"}"#);
//! #     let response = call_service(&service, TestRequest::get().uri("/").to_request()).await;
//! #     assert_eq!(read_body(response).await, "my app");
//! # }
//! let server = HttpServer::new(app).bind(("127.0.0.1", 0))?.run();
//! # let handle = server.handle();
//! # actix_web::rt::spawn(async move { handle.stop(true).await });
//! server.await
//! # }
//! ```
//!
//! [`ControlPlane`] mounts the rest of the gateway the same way, as a second middleware: the
//! admin API under `/api/v1` with its OpenAPI description and Swagger UI, the consumer portal,
//! the dashboard, health, `/metrics` and the agent WebSocket, answered by
//! [relay-admin](relay_admin) exactly as relay-axum answers them. [`RelayMiddleware::tenant_resolver`]
//! lets the application name each ingest request's tenant.
//!
//! The body is read only up to the source's `max_body_bytes`: a declared `Content-Length` over
//! it is refused with 413 before any byte is read, and a chunked body is refused as soon as it
//! passes the limit.

mod agent;
mod convert;
mod error;
mod future;
mod middleware;
mod plane;
mod plane_service;
mod service;

pub use error::ConvertError;
pub use future::ResponseFuture;
pub use middleware::RelayMiddleware;
pub use plane::ControlPlane;
pub use plane_service::ControlPlaneService;
pub use relay_admin::tenant::TenantResolver;
pub use relay_admin::{AdminOptions, ClientInfo, TrustedProxies};
pub use service::RelayService;
