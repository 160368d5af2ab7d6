//! [`RelayService`]: ingest for `POST {prefix}/{source}`, everything else to the inner service.

use std::task::{Context, Poll};

use actix_web::body::{self, BodyLimitExceeded, BodyStream, EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpResponse};
use relay_admin::tenant::TenantFrom;
use relay_core::Relay;
use relay_core::ingest::{IngestOutcome, IngestPrefix, IngestRequest, Reply, RequestId};
use relay_core::model::ids::TenantId;
use relay_core::unwind::{CatchUnwind, INTERNAL_ERROR_BODY};

use crate::convert;
use crate::error::ConvertError;
use crate::future::ResponseFuture;

/// The service produced by [`RelayMiddleware`](crate::RelayMiddleware).
#[derive(Debug, Clone)]
pub struct RelayService<S> {
    inner: S,
    relay: Relay,
    prefix: IngestPrefix,
    tenants: TenantFrom,
}

impl<S> RelayService<S> {
    pub(crate) fn new(inner: S, relay: Relay, prefix: IngestPrefix, tenants: TenantFrom) -> Self {
        Self {
            inner,
            relay,
            prefix,
            tenants,
        }
    }
}

/// The request's head as `http` 1.x parts, for a [`TenantResolver`](relay_admin::tenant::TenantResolver).
fn head(request: &ServiceRequest) -> Result<http::request::Parts, ConvertError> {
    let mut converted = http::Request::new(());
    *converted.method_mut() = http::Method::from_bytes(request.method().as_str().as_bytes())
        .map_err(|_| ConvertError::RequestMethod)?;
    *converted.uri_mut() = convert::uri(request.uri())?;
    *converted.headers_mut() = convert::request_headers(request.headers())?;
    Ok(converted.into_parts().0)
}

impl<S, B> Service<ServiceRequest> for RelayService<S>
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
        let target = (self.tenants).target(&self.prefix, request.method().as_str(), request.path());
        let Some((segment, source)) = target else {
            return ResponseFuture::inner(self.inner.call(request));
        };
        let tenant = match &self.tenants {
            TenantFrom::Path => self
                .tenants
                .tenant(segment, &http::Request::new(()).into_parts().0),
            TenantFrom::Resolver(_) => match head(&request) {
                Ok(parts) => self.tenants.tenant(segment, &parts),
                Err(_) => None,
            },
        };
        let source = source.to_owned();
        let relay = self.relay.clone();
        // A panic (in a user's source or signature scheme, say) answers 500 instead of taking
        // the connection (and, in actix-web, the worker thread) down with it.
        let answer_on_panic = request.request().clone();
        ResponseFuture::ingest(Box::pin(async move {
            match CatchUnwind::new(ingest(relay, tenant, source, request)).await {
                Ok(result) => result,
                Err(message) => {
                    tracing::error!(panic = %message, "ingest panicked; answered 500");
                    let response = HttpResponse::InternalServerError()
                        .content_type("application/json")
                        .body(INTERNAL_ERROR_BODY);
                    Ok(ServiceResponse::new(answer_on_panic, response))
                }
            }
        }))
    }
}

async fn ingest(
    relay: Relay,
    tenant: Option<TenantId>,
    source: String,
    request: ServiceRequest,
) -> Result<ServiceResponse, Error> {
    let (request, payload) = request.into_parts();
    let reply = reply(&relay, tenant, source, request.headers(), payload).await?;
    let response = convert::response(reply)?;
    Ok(ServiceResponse::new(request, response))
}

/// Admits the request (a tenant the resolver named none of is an unknown source) before
/// reading its body, reads at most the source's limit, and runs the
/// pipeline on relay-core's types; the reply carries the request id.
async fn reply(
    relay: &Relay,
    tenant: Option<TenantId>,
    source: String,
    headers: &actix_web::http::header::HeaderMap,
    payload: Payload,
) -> Result<Reply, ConvertError> {
    let headers_1x = convert::request_headers(headers)?;
    let request_id = RequestId::from_headers(&headers_1x);
    let Some(tenant) = tenant else {
        return Ok(relay.refuse(&source, &request_id, IngestOutcome::UnknownSource));
    };
    let limit = match relay.admit_for(&tenant, &source, convert::content_length(headers)) {
        Ok(limit) => limit,
        Err(outcome) => return Ok(relay.refuse(&source, &request_id, outcome)),
    };
    let body = match body::to_bytes_limited(BodyStream::new(payload), limit).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return Ok(relay.refuse(&source, &request_id, IngestOutcome::UnreadableBody));
        }
        Err(BodyLimitExceeded { .. }) => {
            return Ok(relay.refuse(&source, &request_id, IngestOutcome::PayloadTooLarge));
        }
    };
    let mut request = IngestRequest::new(source, headers_1x, body).with_request_id(request_id);
    request.tenant = tenant;
    Ok(relay.answer(request).await)
}
