//! A [`ControlPlane`] as axum routes: each path of its table becomes a route of the same
//! pattern and methods, whose handler reads the body (at most [`BODY_LIMIT`]), calls
//! [`ControlPlane::handle`] and converts the answer.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, any};
use relay_admin::table::Methods;
use relay_admin::{BODY_LIMIT, ClientInfo, ControlPlane, payload_too_large};

use crate::ClientAddr;

/// The routes of `plane`, to merge into an app.
pub fn mount<S: Clone + Send + Sync + 'static>(plane: ControlPlane) -> Router<S> {
    let mut router = Router::new();
    let mut done: Vec<&'static str> = Vec::new();
    for route in plane.routes() {
        if done.contains(&route.path) {
            continue;
        }
        done.push(route.path);
        let mut methods: MethodRouter<S> = MethodRouter::new();
        for same in plane.routes().iter().filter(|r| r.path == route.path) {
            let target = plane.clone();
            let handler = move |request: Request| serve(target, request);
            methods = match &same.methods {
                Methods::Any => any(handler),
                Methods::One(method) => match MethodFilter::try_from(method.clone()) {
                    Ok(filter) => methods.on(filter, handler),
                    Err(_) => methods,
                },
            };
        }
        router = router.route(route.path, methods);
    }
    router
}

/// Answers `request` with `plane` (`404` when it is not the plane's).
pub async fn serve(plane: ControlPlane, request: Request) -> Response {
    let client = ClientInfo {
        addr: request.extensions().get::<ClientAddr>().map(|c| c.0),
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return payload_too_large().map(Body::from);
    };
    let request = http::Request::from_parts(parts, body);
    match plane.handle(request, client).await {
        Some(reply) => reply.map(Body::from),
        None => Response::builder()
            .status(http::StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap_or_default(),
    }
}
