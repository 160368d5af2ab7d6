//! The gateway's end of [agents](relay_core::control::agent): `GET /agent/v1/connect`, a WebSocket.
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

use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use relay_core::Relay;
use relay_core::control::agent::{
    AgentFrame, AgentSession, CONNECT_PATH, GatewayFrame, TARGET_HEADER, normalise_target,
    target_allowed,
};
use relay_core::deliver::destination::Target;

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

async fn connect(State(relay): State<Relay>, mut parts: Parts) -> Response {
    let headers: &HeaderMap = &parts.headers;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer rag_…",
        );
    };
    let agent = match relay.agents().authenticate(token).await {
        Ok(agent) => agent,
        Err(relay_core::control::admin::AdminError::Unauthorized) => {
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
    let target = headers
        .get(TARGET_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(normalise_target);
    let Some(target) = target else {
        return refuse(
            StatusCode::FORBIDDEN,
            "target_not_allowed",
            "send the http(s) URL the agent forwards to in X-Relay-Agent-Target",
        );
    };
    if let Some(destination) = refused_by(&relay, &agent, &target) {
        tracing::warn!(
            agent,
            target,
            destination,
            "agent refused: target outside allow_targets"
        );
        return refuse(
            StatusCode::FORBIDDEN,
            "target_not_allowed",
            &format!("{target} is outside the allow_targets of destination {destination:?}"),
        );
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
        let session = relay.agents().hub().connect(&agent, &target);
        tracing::info!(agent, target, "agent connected");
        serve(&relay, socket, session).await;
    })
}

/// Sends the session's frames, reads outcomes, pings; returns when either side ends.
async fn serve(relay: &Relay, mut socket: WebSocket, mut session: AgentSession) {
    let hub = relay.agents().hub();
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
                            Err(error) => {
                                tracing::warn!(agent = session.agent, %error, "unreadable frame from agent");
                            }
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => break "closed by the agent",
                    Some(Ok(_)) => {}
                    Some(Err(_)) => break "connection broke",
                }
            },
            _ = ping.tick() => {
                silent_ticks += 1;
                if silent_ticks >= 3 {
                    break "no answer to pings";
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break "send failed";
                }
            }
        }
    };
    hub.disconnect(&session.agent, session.id);
    tracing::info!(agent = session.agent, reason, "agent disconnected");
}
