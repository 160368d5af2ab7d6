//! The gateway's end of [agents](relay_core::control::agent): `GET /agent/v1/connect`, a
//! WebSocket. The checks and the session are [`relay_admin::agent`]'s; this module only
//! upgrades the connection and carries the frames.
//!
//! The agent authenticates with `Authorization: Bearer rag_…` and names the URL it forwards
//! to in `X-Relay-Agent-Target`. Refusals come before the upgrade, as JSON: 401
//! `unauthorized` (malformed, unknown, revoked or rotated token), 403 `target_not_allowed`
//! (the target is outside the `allow_targets` of a destination bound to the agent, or not
//! an `http(s)` URL), 400 `websocket_required` (not a WebSocket upgrade).
//!
//! ```
//! let relay = relay_core::Relay::builder().build().unwrap();
//! let app: axum::Router = relay_axum::agent::routes(relay);
//! # drop(app);
//! ```

use axum::Router;
use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use relay_admin::agent::{AgentSocket, Incoming, SocketError, admit, websocket_required};
use relay_core::Relay;
use relay_core::control::agent::CONNECT_PATH;

pub use relay_admin::agent::PING_EVERY;

/// The agent endpoint, to merge into an app.
pub fn routes<S>(relay: Relay) -> Router<S> {
    Router::new()
        .route(CONNECT_PATH, get(connect))
        .with_state(relay)
}

async fn connect(State(relay): State<Relay>, mut parts: Parts) -> Response {
    let admitted = match admit(&relay, &parts.headers).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal.map(Body::from),
    };
    let Ok(upgrade) = WebSocketUpgrade::from_request_parts(&mut parts, &()).await else {
        return websocket_required().map(Body::from);
    };
    upgrade.on_upgrade(move |socket| relay_admin::agent::serve(relay, admitted, Socket(socket)))
}

/// axum's WebSocket as an [`AgentSocket`].
struct Socket(WebSocket);

impl AgentSocket for Socket {
    async fn send_text(&mut self, text: String) -> Result<(), SocketError> {
        (self.0.send(Message::Text(text.into())).await).map_err(|_| SocketError)
    }

    async fn send_ping(&mut self) -> Result<(), SocketError> {
        (self.0.send(Message::Ping(Default::default())).await).map_err(|_| SocketError)
    }

    async fn close(&mut self) {
        let _ = self.0.send(Message::Close(None)).await;
    }

    async fn recv(&mut self) -> Option<Result<Incoming, SocketError>> {
        Some(match self.0.recv().await? {
            Ok(Message::Text(text)) => Ok(Incoming::Text(text.as_str().to_owned())),
            Ok(Message::Close(_)) => Ok(Incoming::Close),
            Ok(_) => Ok(Incoming::Other),
            Err(_) => Err(SocketError),
        })
    }
}
