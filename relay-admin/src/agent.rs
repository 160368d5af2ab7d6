//! The gateway's end of [agents](relay_core::control::agent) (`GET /agent/v1/connect`, a
//! WebSocket), framework-free: [`admit`] decides before the upgrade, [`serve`] runs the
//! session over an adapter's socket ([`AgentSocket`]).
//!
//! The agent authenticates with `Authorization: Bearer rag_…`, names the URLs it forwards to
//! in `X-Relay-Agent-Target` (one header each: `URL`, the default, or `DESTINATION=URL`) and
//! its version in `X-Relay-Agent-Version`. Refusals come before the upgrade, as JSON (and
//! refused credentials are audited): 401 `unauthorized` (malformed, unknown, revoked or
//! rotated token), 403 `target_not_allowed` (a destination bound to the agent has no URL, or
//! one outside its `allow_targets`, or a value is not an `http(s)` URL), 400
//! `websocket_required` (not a WebSocket upgrade, see [`websocket_required`]). The
//! connection, its end, and its presence (refreshed at each ping) go through
//! [`Agents`](relay_core::control::agent::Agents).

use std::future::Future;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use relay_core::Relay;
use relay_core::control::admin::AdminError;
use relay_core::control::agent::{
    AgentFrame, AgentSession, AgentTargets, GatewayFrame, TARGET_HEADER, VERSION_HEADER,
    parse_agent_token,
};

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
#[derive(Debug, Clone)]
pub struct Admitted {
    /// The relay of the agent's tenant (its destinations, hub entries and audit log).
    pub relay: Relay,
    /// The agent's name.
    pub agent: String,
    /// The URLs it forwards to.
    pub targets: AgentTargets,
    /// The version it reports (at most 64 characters; empty when it says none).
    pub version: String,
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

/// Checks a connect request's token and targets (before the upgrade); refused credentials
/// are audited.
pub async fn admit(relay: &Relay, headers: &HeaderMap) -> Result<Admitted, Reply> {
    let Some(token) = bearer(headers) else {
        relay.agents().refused(None, "no bearer token").await;
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer rag_…",
        ));
    };
    let held = match relay.agents().authenticate(token).await {
        Ok(held) => held,
        Err(AdminError::Unauthorized) => {
            let claimed = parse_agent_token(token).map(|(name, _)| name);
            (relay.agents())
                .refused(
                    claimed.as_deref(),
                    "unknown, malformed, revoked or rotated token",
                )
                .await;
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the agent token is unknown, revoked or rotated",
            ));
        }
        Err(error) => {
            tracing::error!(%error, "could not check an agent token");
            return Err(unavailable());
        }
    };
    let relay = match relay.scoped(&held.tenant).await {
        Ok(relay) => relay,
        Err(error) => {
            tracing::error!(%error, tenant = %held.tenant, "could not load the agent's tenant");
            return Err(unavailable());
        }
    };
    let agent = held.agent;
    let values = (headers.get_all(TARGET_HEADER).iter()).filter_map(|v| v.to_str().ok());
    let targets = AgentTargets::parse(values).map_err(|error| {
        refuse(
            StatusCode::FORBIDDEN,
            "target_not_allowed",
            &format!("X-Relay-Agent-Target: {error}"),
        )
    })?;
    let version = (headers.get(VERSION_HEADER))
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(64).collect::<String>())
        .unwrap_or_default();
    if let Some(reason) = relay.agents().refusal(&agent, &targets) {
        tracing::warn!(agent, reason, "agent refused: its targets do not fit");
        return Err(refuse(StatusCode::FORBIDDEN, "target_not_allowed", &reason));
    }
    Ok(Admitted {
        relay,
        agent,
        targets,
        version,
    })
}

fn unavailable() -> Reply {
    refuse(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
}

/// Connects the admitted agent and runs its session over `socket`: sends the session's
/// frames, reads outcomes and the agent's draining notice, pings (refreshing its stored
/// presence at each ping it answered); disconnects it when either side ends. `relay` is the
/// adapter's; the session runs in the agent's tenant ([`Admitted::relay`]).
pub async fn serve(relay: Relay, admitted: Admitted, mut socket: impl AgentSocket) {
    drop(relay);
    let Admitted {
        relay,
        agent,
        targets,
        version,
    } = admitted;
    let mut session = relay.agents().connect(&agent, targets, &version).await;
    tracing::info!(agent, targets = ?session.targets.values(), "agent connected");
    let reason = run(&relay, &mut socket, &mut session, &version).await;
    relay.agents().disconnect(&session, reason).await;
    tracing::info!(agent, reason, "agent disconnected");
}

async fn run(
    relay: &Relay,
    socket: &mut impl AgentSocket,
    session: &mut AgentSession,
    version: &str,
) -> &'static str {
    let hub = relay.agents().hub();
    let welcome = GatewayFrame::Welcome {
        agent: session.agent.agent.clone(),
        target: session.targets.default.clone().unwrap_or_default(),
        targets: session.targets.clone(),
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut silent_ticks = 0u32;
    let mut next: Option<GatewayFrame> = Some(welcome);
    loop {
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
                            Ok(AgentFrame::Draining) => relay.agents().drain(session),
                            Err(error) => {
                                tracing::warn!(agent = session.agent.agent, %error, "unreadable frame from agent");
                            }
                        }
                    }
                    Some(Ok(Incoming::Close)) | None => break "closed by the agent",
                    Some(Ok(Incoming::Other)) => {}
                    Some(Err(SocketError)) => break "connection broke",
                }
            },
            _ = ping.tick() => {
                if silent_ticks == 0 {
                    relay.agents().seen(session, version).await;
                }
                silent_ticks += 1;
                if silent_ticks >= 3 {
                    break "no answer to pings";
                }
                if socket.send_ping().await.is_err() {
                    break "send failed";
                }
            }
        }
    }
}
