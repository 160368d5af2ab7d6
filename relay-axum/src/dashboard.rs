//! The web dashboard (see [`relay_admin::dashboard`]): a no-build single-page app compiled
//! into the binary, served by the admin router at `GET /` and `GET /dashboard/{file}`.
//!
//! ```
//! let app: axum::Router = relay_axum::dashboard::routes();
//! // Serve `app`; http://…/ shows the login page.
//! # drop(app);
//! ```

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

pub use relay_admin::dashboard::{ASSETS, Asset, CONTENT_SECURITY_POLICY, asset};

/// `GET /` (the page) and `GET /dashboard/{file}` (its assets), public: the data behind
/// them needs a session or key.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move {
                relay_admin::dashboard::index(&headers).map(Body::from)
            }),
        )
        .route(
            "/dashboard/{file}",
            get(|Path(name): Path<String>, headers: HeaderMap| async move {
                let reply: Response = relay_admin::dashboard::file(&name, &headers).map(Body::from);
                reply
            }),
        )
}
