use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use relay_core::Relay;
use relay_core::ingest::{IngestOutcome, IngestPrefix, IngestRequest, Reply, RequestId};
use relay_core::unwind::{CatchUnwind, INTERNAL_ERROR_BODY};
use tower::Service;

use super::body::ResponseBody;
use super::future::ResponseFuture;
use relay_admin::tenant::TenantFrom;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The service produced by [`RelayLayer`](super::RelayLayer).
#[derive(Debug, Clone)]
pub struct RelayService<S> {
    inner: S,
    relay: Relay,
    prefix: IngestPrefix,
    tenants: TenantFrom,
}

impl<S> RelayService<S> {
    pub(super) fn new(inner: S, relay: Relay, prefix: IngestPrefix, tenants: TenantFrom) -> Self {
        Self {
            inner,
            relay,
            prefix,
            tenants,
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RelayService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let path = request.uri().path();
        let method = request.method().as_str();
        let Some((segment, source)) = self.tenants.target(&self.prefix, method, path) else {
            return ResponseFuture::inner(self.inner.call(request));
        };
        let (segment, source) = (segment.map(str::to_owned), source.to_owned());
        let (relay, tenants) = (self.relay.clone(), self.tenants.clone());
        let serve = async move {
            let (parts, body) = request.into_parts();
            let request_id = RequestId::from_headers(&parts.headers);
            match tenants.tenant(segment.as_deref(), &parts) {
                Some(tenant) => ingest(relay, tenant, source, parts, body, request_id).await,
                None => reply(relay.refuse(&source, &request_id, IngestOutcome::UnknownSource)),
            }
        };
        // A panic (in a user's source or signature scheme, say) answers 500, not a dropped
        // connection.
        ResponseFuture::ingest(Box::pin(async move {
            CatchUnwind::new(serve).await.unwrap_or_else(|message| {
                tracing::error!(panic = %message, "ingest panicked; answered 500");
                let mut response = Response::new(Full::new(Bytes::from_static(
                    INTERNAL_ERROR_BODY.as_bytes(),
                )));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                );
                response
            })
        }))
    }
}

async fn ingest<B>(
    relay: Relay,
    tenant: relay_core::model::ids::TenantId,
    source: String,
    parts: http::request::Parts,
    body: B,
    request_id: RequestId,
) -> Response<Full<Bytes>>
where
    B: Body + Send + 'static,
    B::Error: Into<BoxError>,
{
    let content_length = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = match relay.admit_for(&tenant, &source, content_length) {
        Ok(limit) => limit,
        Err(outcome) => return reply(relay.refuse(&source, &request_id, outcome)),
    };
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            let outcome = if error.is::<LengthLimitError>() {
                IngestOutcome::PayloadTooLarge
            } else {
                IngestOutcome::UnreadableBody
            };
            return reply(relay.refuse(&source, &request_id, outcome));
        }
    };
    let client = parts.extensions.get::<crate::ClientAddr>().map(|c| c.0);
    let mut request = IngestRequest::new(source, parts.headers, body).with_request_id(request_id);
    request.tenant = tenant;
    request.client = client;
    reply(relay.answer(request).await)
}

fn reply(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = reply.headers;
    response
}
