//! The gateway's end of [agents](relay_core::control::agent) (`GET /agent/v1/connect`, a
//! WebSocket), framework-free: [`admit`] decides before the upgrade, [`serve`] runs the
//! session over an adapter's socket ([`AgentSocket`]).
//!
//! The agent authenticates with `Authorization: Bearer rag_…` and names the URL it forwards
//! to in `X-Relay-Agent-Target`. Refusals come before the upgrade, as JSON: 401
//! `unauthorized` (malformed, unknown, revoked or rotated token), 403 `target_not_allowed`
//! (the target is outside the `allow_targets` of a destination bound to the agent, or not
//! an `http(s)` URL), 400 `websocket_required` (not a WebSocket upgrade, see
//! [`websocket_required`]).

use std::future::Future;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use relay_core::Relay;
use relay_core::control::admin::AdminError;
use relay_core::control::agent::{
    AgentFrame, AgentSession, GatewayFrame, TARGET_HEADER, normalise_target, target_allowed,
};
use relay_core::deliver::destination::Target;

use crate::api::extract::bearer;
use crate::reply::{Reply, with_body};

pub use relay_core::control::agent::CONNECT_PATH;

/// How often the gateway pings a connected agent; one that sends nothing (not even a pong) for
/// three of these is disconnected.
pub const PING_EVERY: Duration = Duration::from_secs(10);

/// A message read from an agent's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A text frame.
    Text(String),
    /// The agent closed the socket.
    Close,
    /// Anything else (binary, ping, pong): it only shows the agent is alive.
    Other,
}

/// The socket broke (an adapter's error, already logged or not worth logging).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the agent's socket broke")]
pub struct SocketError;

/// An adapter's upgraded WebSocket (it answers the agent's pings itself).
pub trait AgentSocket {
    /// Sends a text frame.
    fn send_text(&mut self, text: String) -> impl Future<Output = Result<(), SocketError>>;
    /// Sends a ping.
    fn send_ping(&mut self) -> impl Future<Output = Result<(), SocketError>>;
    /// Sends a close frame.
    fn close(&mut self) -> impl Future<Output = ()>;
    /// The next message (`None`: the socket ended). Must be cancel-safe.
    fn recv(&mut self) -> impl Future<Output = Option<Result<Incoming, SocketError>>>;
}

/// An agent allowed to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// The agent's name.
    pub agent: String,
    /// The URL it forwards to, normalised.
    pub target: String,
}

fn refuse(status: StatusCode, error: &str, message: &str) -> Reply {
    let body = serde_json::json!({"error": error, "message": message});
    with_body(status, "application/json", body.to_string())
}

/// `400 websocket_required`: the answer to a request that is not a WebSocket upgrade.
pub fn websocket_required() -> Reply {
    refuse(
        StatusCode::BAD_REQUEST,
        "websocket_required",
        "connect with a WebSocket upgrade",
    )
}

/// Whether every agent destination bound to `agent` allows `target`; the first that does not.
fn refused_by(relay: &Relay, agent: &str, target: &str) -> Option<String> {
    let catalog = relay.catalog();
    catalog
        .destinations()
        .iter()
        .find_map(|destination| match destination.target() {
            Target::Agent {
                agent: bound,
                allow_targets,
            } if bound == agent && !target_allowed(allow_targets, target) => {
                Some(destination.name().to_owned())
            }
            _ => None,
        })
}

/// Checks a connect request's token and target (before the upgrade).
pub async fn admit(relay: &Relay, headers: &HeaderMap) -> Result<Admitted, Reply> {
    let Some(token) = bearer(headers) else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer rag_…",
        ));
    };
    let agent = match relay.agents().authenticate(token).await {
        Ok(agent) => agent,
        Err(AdminError::Unauthorized) => {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the agent token is unknown, revoked or rotated",
            ));
        }
        Err(error) => {
            tracing::error!(%error, "could not check an agent token");
            return Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "try again",
            ));
        }
    };
    let target = headers
        .get(TARGET_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(normalise_target);
    let Some(target) = target else {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "target_not_allowed",
            "send the http(s) URL the agent forwards to in X-Relay-Agent-Target",
        ));
    };
    if let Some(destination) = refused_by(relay, &agent, &target) {
        tracing::warn!(
            agent,
            target,
            destination,
            "agent refused: target outside allow_targets"
        );
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "target_not_allowed",
            &format!("{target} is outside the allow_targets of destination {destination:?}"),
        ));
    }
    Ok(Admitted { agent, target })
}

/// Connects the admitted agent to the hub and runs its session over `socket`: sends the
/// session's frames, reads outcomes, pings; returns when either side ends.
pub async fn serve(relay: Relay, admitted: Admitted, mut socket: impl AgentSocket) {
    let hub = relay.agents().hub();
    let mut session: AgentSession = hub.connect(&admitted.agent, &admitted.target);
    tracing::info!(
        agent = admitted.agent,
        target = admitted.target,
        "agent connected"
    );
    let welcome = GatewayFrame::Welcome {
        agent: session.agent.clone(),
        target: session.target.clone(),
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut silent_ticks = 0u32;
    let mut next: Option<GatewayFrame> = Some(welcome);
    let reason = loop {
        if let Some(frame) = next.take() {
            let text = serde_json::to_string(&frame).unwrap_or_default();
            if socket.send_text(text).await.is_err() {
                break "send failed";
            }
        }
        tokio::select! {
            frame = session.frames.recv() => match frame {
                Some(frame) => next = Some(GatewayFrame::Deliver(frame)),
                None => {
                    socket.close().await;
                    break "replaced, revoked or deleted";
                }
            },
            message = socket.recv() => {
                silent_ticks = 0;
                match message {
                    Some(Ok(Incoming::Text(text))) => {
                        match serde_json::from_str::<AgentFrame>(&text) {
                            Ok(AgentFrame::Outcome(outcome)) => {
                                hub.complete(&session.agent, session.id, outcome);
                            }
                            Err(error) => {
                                tracing::warn!(agent = session.agent, %error, "unreadable frame from agent");
                            }
                        }
                    }
                    Some(Ok(Incoming::Close)) | None => break "closed by the agent",
                    Some(Ok(Incoming::Other)) => {}
                    Some(Err(SocketError)) => break "connection broke",
                }
            },
            _ = ping.tick() => {
                silent_ticks += 1;
                if silent_ticks >= 3 {
                    break "no answer to pings";
                }
                if socket.send_ping().await.is_err() {
                    break "send failed";
                }
            }
        }
    };
    hub.disconnect(&session.agent, session.id);
    tracing::info!(agent = session.agent, reason, "agent disconnected");
}
