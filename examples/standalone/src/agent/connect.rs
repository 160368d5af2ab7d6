//! Opening the WebSocket to the gateway: URL, headers, TLS (rustls with ring), refusals.

use std::path::Path;
use std::sync::Arc;

use relay_core::control::agent::{AgentTargets, CONNECT_PATH, TARGET_HEADER, VERSION_HEADER};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::AgentError;

/// An open connection.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The sending half of a [`Socket`].
pub type Sink = futures_util::stream::SplitSink<Socket, Message>;

/// `https://gw.example.com` → `wss://gw.example.com/agent/v1/connect` (`http` → `ws`).
pub fn connect_url(gateway: &str) -> Result<String, AgentError> {
    let mut url = url::Url::parse(gateway.trim())
        .map_err(|e| AgentError::Usage(format!("--gateway {gateway:?}: {e}")))?;
    let scheme = match url.scheme() {
        "https" | "wss" => "wss",
        "http" | "ws" => "ws",
        other => {
            return Err(AgentError::Usage(format!(
                "--gateway: unsupported scheme {other:?} (use https:// or http://)"
            )));
        }
    };
    url.set_scheme(scheme)
        .map_err(|()| AgentError::Usage("--gateway: cannot use this URL".into()))?;
    url.set_path(CONNECT_PATH);
    url.set_query(None);
    Ok(url.to_string())
}

/// The TLS client configuration: the public web's roots (webpki-roots), plus the PEM
/// certificates of `ca_file`.
pub fn tls(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, AgentError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| AgentError::Usage(format!("--ca-file {}: {e}", path.display())))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert =
                cert.map_err(|e| AgentError::Usage(format!("--ca-file {}: {e}", path.display())))?;
            roots
                .add(cert)
                .map_err(|e| AgentError::Usage(format!("--ca-file {}: {e}", path.display())))?;
        }
    }
    // ring, as everywhere in Relay: rustls 0.23.48 deprecates its provider for lacking
    // post-quantum key exchange (aws-lc-rs has it); moving providers is a decision of its own.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AgentError::Usage(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Connects as the agent of `token`, forwarding to `forward` (one target header per URL). A refusal by the gateway (401,
/// 403) is [`AgentError::Refused`]: reconnecting would not help.
pub async fn open(
    url: &str,
    token: &str,
    forward: &AgentTargets,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<Socket, AgentError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| AgentError::Usage(format!("--gateway: {e}")))?;
    let header = |value: String| {
        HeaderValue::from_str(&value).map_err(|_| AgentError::Usage("invalid token".into()))
    };
    let mut auth = header(format!("Bearer {token}"))?;
    auth.set_sensitive(true);
    request.headers_mut().insert("authorization", auth);
    for value in forward.values() {
        request.headers_mut().append(TARGET_HEADER, header(value)?);
    }
    request.headers_mut().insert(
        VERSION_HEADER,
        HeaderValue::from_static(env!("CARGO_PKG_VERSION")),
    );
    let connector = url
        .starts_with("wss:")
        .then(|| Connector::Rustls(Arc::clone(tls)));
    match tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = (response.body().as_deref())
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or(body);
            match status {
                401 | 403 => Err(AgentError::Refused { status, message }),
                _ => Err(AgentError::Connect(format!(
                    "the gateway answered {status}: {message}"
                ))),
            }
        }
        Err(error) => Err(AgentError::Connect(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_urls_become_websocket_urls() {
        assert_eq!(
            connect_url("https://gw.example.com").unwrap(),
            "wss://gw.example.com/agent/v1/connect"
        );
        assert_eq!(
            connect_url("http://127.0.0.1:8080/ignored?x=1").unwrap(),
            "ws://127.0.0.1:8080/agent/v1/connect"
        );
        assert!(connect_url("ftp://x").is_err());
        assert!(tls(None).is_ok());
    }
}
