//! The address of the client that sent a request.

use std::net::IpAddr;

/// The address of the client that sent a request, as a request extension.
///
/// The server that accepts the connection sets it (the standalone gateway does): the TCP
/// peer's address, or, when that peer is a trusted reverse proxy, the address the proxy
/// reports in `X-Forwarded-For` or `Forwarded`. Read it with
/// `request.extensions().get::<ClientAddr>()` or axum's `Extension<ClientAddr>` extractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
