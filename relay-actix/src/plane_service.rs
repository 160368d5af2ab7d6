//! [`ControlPlaneService`]: the control plane's requests answered by relay-admin, everything
//! else to the inner service.

use std::task::{Context, Poll};

use actix_web::body::{self, BodyLimitExceeded, BodyStream, EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse};
use relay_admin::{BODY_LIMIT, ClientInfo, ControlPlane, TrustedProxies, payload_too_large};
use relay_core::control::agent::CONNECT_PATH;

use crate::convert;
use crate::error::ConvertError;
use crate::future::ResponseFuture;

/// The service produced by [`ControlPlane`](crate::ControlPlane).
#[derive(Debug, Clone)]
pub struct ControlPlaneService<S> {
    inner: S,
    plane: ControlPlane,
    proxies: TrustedProxies,
    agents: bool,
}

impl<S> ControlPlaneService<S> {
    pub(crate) fn new(
        inner: S,
        plane: ControlPlane,
        proxies: TrustedProxies,
        agents: bool,
    ) -> Self {
        Self {
            inner,
            plane,
            proxies,
            agents,
        }
    }

    /// The client of `request`: the peer, or the one trusted proxies report.
    fn client(&self, request: &ServiceRequest) -> ClientInfo {
        let addr = request.peer_addr().map(|peer| {
            let peer = peer.ip();
            if !self.proxies.trusts(peer) {
                return peer;
            }
            match convert::request_headers(request.headers()) {
                Ok(headers) => self.proxies.client_addr(peer, &headers),
                Err(_) => peer,
            }
        });
        ClientInfo { addr }
    }
}

impl<S, B> Service<ServiceRequest> for ControlPlaneService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let client = self.client(&request);
        request.extensions_mut().insert(client);
        let get = request.method() == actix_web::http::Method::GET;
        if self.agents && get && request.path() == CONNECT_PATH {
            let relay = self.plane.relay().clone();
            return ResponseFuture::ingest(Box::pin(async move {
                let (http_request, payload) = request.into_parts();
                let response = crate::agent::connect(relay, &http_request, payload).await?;
                Ok(ServiceResponse::new(http_request, response))
            }));
        }
        let Ok(method) = http::Method::from_bytes(request.method().as_str().as_bytes()) else {
            return ResponseFuture::inner(self.inner.call(request));
        };
        let path = plane_path(&request);
        if !self.plane.serves(&method, &path) {
            return ResponseFuture::inner(self.inner.call(request));
        }
        let plane = self.plane.clone();
        ResponseFuture::ingest(Box::pin(async move {
            let (http_request, payload) = request.into_parts();
            let target = Target { method, path };
            let response = answer(&plane, target, &http_request, payload, client).await?;
            Ok(ServiceResponse::new(http_request, response))
        }))
    }
}

/// The path the control plane routes: what follows the `web::scope` the middleware wraps
/// (the whole path when it wraps the app); the scope itself (`/ops`) is its root, `/`.
fn plane_path(request: &ServiceRequest) -> String {
    match request.match_info().unprocessed() {
        "" => "/".to_owned(),
        rest => rest.to_owned(),
    }
}

/// The method and [path](plane_path) a request is answered for.
struct Target {
    method: http::Method,
    path: String,
}

/// Reads the body (at most [`BODY_LIMIT`]) and answers with the plane.
async fn answer(
    plane: &ControlPlane,
    Target { method, path }: Target,
    request: &HttpRequest,
    payload: Payload,
    client: ClientInfo,
) -> Result<HttpResponse, ConvertError> {
    let body = match body::to_bytes_limited(BodyStream::new(payload), BODY_LIMIT).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return convert::reply(bad_request()),
        Err(BodyLimitExceeded { .. }) => return convert::reply(payload_too_large()),
    };
    let mut converted = http::Request::new(body);
    *converted.method_mut() = method;
    *converted.uri_mut() = convert::uri_at(&path, request.uri())?;
    *converted.headers_mut() = convert::request_headers(request.headers())?;
    match plane.handle(converted, client).await {
        Some(reply) => convert::reply(reply),
        None => Ok(HttpResponse::NotFound().finish()),
    }
}

/// `400`: the body could not be read.
fn bad_request() -> relay_admin::Reply {
    relay_admin::reply::empty(http::StatusCode::BAD_REQUEST)
}
