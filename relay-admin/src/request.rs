//! The request a control-plane handler reads, and the pieces it takes from it
//! ([`FromRequest`]): the shared [`State`], a path parameter ([`Path`]), the headers.
//! The API's own pieces (the caller, a JSON body, a query string) are in
//! [`crate::api::extract`].

use std::future::Future;
use std::net::IpAddr;

use bytes::Bytes;
use http::StatusCode;

use crate::reply::{IntoReply, Reply};
use crate::state::AdminState;

/// Who sent a request, as far as the server knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address: the TCP peer's, or behind trusted proxies the one they report
    /// (see [`TrustedProxies`](crate::client::TrustedProxies)); `None` when the server does
    /// not say.
    pub addr: Option<IpAddr>,
}

/// A control-plane request: its head, the path parameters of the route it matched, the whole
/// body and the client.
#[derive(Debug)]
pub struct Request {
    pub(crate) state: AdminState,
    pub(crate) parts: http::request::Parts,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) body: Bytes,
    pub(crate) client: ClientInfo,
}

impl Request {
    /// The request's head (method, URI, headers).
    pub fn parts(&self) -> &http::request::Parts {
        &self.parts
    }

    /// The request's body, read whole by the adapter.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The client that sent it.
    pub fn client(&self) -> ClientInfo {
        self.client
    }

    /// The path parameter `name` of the matched route, percent-decoded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find_map(|(n, v)| (n == name).then_some(v.as_str()))
    }
}

/// A piece of a request a handler takes as an argument; a refusal is answered as is.
pub trait FromRequest: Sized {
    /// Takes the piece from `request`.
    fn from_request(request: &Request) -> impl Future<Output = Result<Self, Reply>> + Send;
}

/// The control plane's shared state (the relay and the options).
#[derive(Debug, Clone)]
pub struct State<T>(pub T);

impl FromRequest for State<AdminState> {
    async fn from_request(request: &Request) -> Result<Self, Reply> {
        Ok(Self(request.state.clone()))
    }
}

/// The route's single path parameter (`{name}`, `{id}`, …), percent-decoded.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl FromRequest for Path<String> {
    async fn from_request(request: &Request) -> Result<Self, Reply> {
        match request.params.as_slice() {
            [(_, value)] => Ok(Self(value.clone())),
            _ => Err(StatusCode::INTERNAL_SERVER_ERROR.into_reply()),
        }
    }
}

impl FromRequest for http::HeaderMap {
    async fn from_request(request: &Request) -> Result<Self, Reply> {
        Ok(request.parts.headers.clone())
    }
}

impl FromRequest for ClientInfo {
    async fn from_request(request: &Request) -> Result<Self, Reply> {
        Ok(request.client)
    }
}
