//! The address of the client that sent a request.

use std::net::IpAddr;

/// The address of the client that sent a request, as a request extension.
///
/// The server that accepts the connection sets it (the standalone gateway does): the TCP
/// peer's address, or, when that peer is a trusted reverse proxy, the address the proxy
/// reports in `X-Forwarded-For` or `Forwarded`. Read it with
/// `request.extensions().get::<ClientAddr>()` or axum's `Extension<ClientAddr>` extractor.
///
/// Relay reads it too: the ingest layer passes it on as
/// [`IngestRequest::client`](relay_core::IngestRequest::client) (the per-client rate limit,
/// the records of refused signatures), and the admin router records it on the audit entries
/// of the changes made and counts failed logins per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
