//! The gateway's end of [agents](relay_core::control::agent): `GET /agent/v1/connect`, a WebSocket.
//!
//! The agent authenticates with `Authorization: Bearer rag_…`, names the URLs it forwards to
//! in `X-Relay-Agent-Target` (one header each: `URL`, the default, or `DESTINATION=URL`) and
//! its version in `X-Relay-Agent-Version`. Refusals come before the upgrade, as JSON (and
//! refused credentials are audited): 401 `unauthorized` (malformed, unknown, revoked or
//! rotated token), 403 `target_not_allowed` (a destination bound to the agent has no URL, or
//! one outside its `allow_targets`, or a value is not an `http(s)` URL), 400
//! `websocket_required` (not a WebSocket upgrade). The connection, its end, and its presence
//! (refreshed at each ping) go through [`Agents`](relay_core::control::agent::Agents).
//!
//! ```
//! let relay = relay_core::Relay::builder().build().unwrap();
//! let app: axum::Router = relay_axum::agent::routes(relay);
//! # drop(app);
//! ```

use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use relay_core::Relay;
use relay_core::control::agent::{
    AgentFrame, AgentSession, AgentTargets, CONNECT_PATH, GatewayFrame, TARGET_HEADER,
    VERSION_HEADER, parse_agent_token,
};

/// How often the gateway pings a connected agent; one that sends nothing (not even a pong) for
/// three of these is disconnected.
pub const PING_EVERY: Duration = Duration::from_secs(10);

/// The agent endpoint, to merge into an app.
pub fn routes<S>(relay: Relay) -> Router<S> {
    Router::new()
        .route(CONNECT_PATH, get(connect))
        .with_state(relay)
}

fn refuse(status: StatusCode, error: &str, message: &str) -> Response {
    let body = serde_json::json!({"error": error, "message": message});
    (status, axum::Json(body)).into_response()
}

async fn connect(State(relay): State<Relay>, mut parts: Parts) -> Response {
    let headers: &HeaderMap = &parts.headers;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token else {
        relay.agents().refused(None, "no bearer token").await;
        return refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer rag_…",
        );
    };
    let held = match relay.agents().authenticate(token).await {
        Ok(held) => held,
        Err(relay_core::control::admin::AdminError::Unauthorized) => {
            let claimed = parse_agent_token(token).map(|(name, _)| name);
            (relay.agents())
                .refused(
                    claimed.as_deref(),
                    "unknown, malformed, revoked or rotated token",
                )
                .await;
            return refuse(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the agent token is unknown, revoked or rotated",
            );
        }
        Err(error) => {
            tracing::error!(%error, "could not check an agent token");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again");
        }
    };
    // The agent's tenant's relay: its destinations, its hub entries, its audit log.
    let relay = match relay.scoped(&held.tenant).await {
        Ok(relay) => relay,
        Err(error) => {
            tracing::error!(%error, tenant = %held.tenant, "could not load the agent's tenant");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again");
        }
    };
    let agent = held.agent;
    let values = (headers.get_all(TARGET_HEADER).iter()).filter_map(|v| v.to_str().ok());
    let targets = match AgentTargets::parse(values) {
        Ok(targets) => targets,
        Err(error) => {
            return refuse(
                StatusCode::FORBIDDEN,
                "target_not_allowed",
                &format!("X-Relay-Agent-Target: {error}"),
            );
        }
    };
    let version = (headers.get(VERSION_HEADER))
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(64).collect::<String>())
        .unwrap_or_default();
    if let Some(reason) = relay.agents().refusal(&agent, &targets) {
        tracing::warn!(agent, reason, "agent refused: its targets do not fit");
        return refuse(StatusCode::FORBIDDEN, "target_not_allowed", &reason);
    }
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "websocket_required",
                "connect with a WebSocket upgrade",
            );
        }
    };
    upgrade.on_upgrade(move |socket| async move {
        let mut session = relay.agents().connect(&agent, targets, &version).await;
        tracing::info!(agent, targets = ?session.targets.values(), "agent connected");
        let reason = serve(&relay, socket, &mut session, &version).await;
        relay.agents().disconnect(&session, reason).await;
        tracing::info!(agent, reason, "agent disconnected");
    })
}

/// Sends the session's frames, reads outcomes, pings (refreshing the agent's stored presence
/// at each ping it answered); returns why it ended when either side ends.
async fn serve(
    relay: &Relay,
    mut socket: WebSocket,
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
            if socket.send(Message::Text(text.into())).await.is_err() {
                break "send failed";
            }
        }
        tokio::select! {
            frame = session.frames.recv() => match frame {
                Some(frame) => next = Some(GatewayFrame::Deliver(frame)),
                None => {
                    let _ = socket.send(Message::Close(None)).await;
                    break "replaced, revoked or deleted";
                }
            },
            message = socket.recv() => {
                silent_ticks = 0;
                match message {
                    Some(Ok(Message::Text(text))) => {
                        match serde_json::from_str::<AgentFrame>(text.as_str()) {
                            Ok(AgentFrame::Outcome(outcome)) => {
                                hub.complete(&session.agent, session.id, outcome);
                            }
                            Ok(AgentFrame::Draining) => relay.agents().drain(session),
                            Err(error) => {
                                tracing::warn!(agent = session.agent.agent, %error, "unreadable frame from agent");
                            }
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => break "closed by the agent",
                    Some(Ok(_)) => {}
                    Some(Err(_)) => break "connection broke",
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
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break "send failed";
                }
            }
        }
    }
}
