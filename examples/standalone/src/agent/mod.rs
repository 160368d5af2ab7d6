//! `relay agent`: one outbound WebSocket to the gateway; each delivery it receives is POSTed
//! to the local URL of its destination (`--forward DESTINATION=URL`, else the default
//! `--forward URL`) and its outcome sent back, recorded by the gateway as the attempt.
//! Reconnects with backoff (0.5 s doubling to 30 s, jittered); a refusal (revoked token,
//! target outside the destination's allow list) ends it with a clear message.

mod connect;
mod forward;

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use relay_core::control::agent::{
    AgentFrame, AgentTargets, DeliverFrame, GatewayFrame, OutcomeFrame,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Why the agent stopped.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A flag cannot be used.
    #[error("{0}")]
    Usage(String),
    /// The gateway refused this agent; reconnecting would not help.
    #[error("the gateway refused this agent ({status}): {message}")]
    Refused {
        /// 401 (token unknown, revoked or rotated) or 403 (target not allowed).
        status: u16,
        /// The gateway's reason.
        message: String,
    },
    /// The connection could not be made or broke (retried).
    #[error("{0}")]
    Connect(String),
}

/// What `relay agent` needs.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The gateway's base URL.
    pub gateway: String,
    /// The agent token (`rag_…`).
    pub token: String,
    /// Where deliveries are POSTed: `URL` (every destination) or `DESTINATION=URL`.
    pub forward: Vec<String>,
    /// Extra trusted CA certificates (PEM) for an `https://` gateway.
    pub ca_file: Option<PathBuf>,
}

/// Told about every forwarded delivery (for `relay listen`'s log lines).
pub type OnOutcome = Box<dyn Fn(&DeliverFrame, &OutcomeFrame) + Send + Sync>;

/// How long a stopping agent waits for the deliveries it was sent to be answered.
const DRAIN_FOR: Duration = Duration::from_secs(60);

/// How one connection ended.
enum Served {
    /// The gateway closed it (or it broke after the welcome: `true`).
    Closed(bool),
    /// `stop` resolved: the agent drained and closed it.
    Stopped,
}

/// Runs the agent until `stop` resolves or the gateway refuses it. On `stop`, a connected
/// agent drains: it tells the gateway to send nothing more, answers what it was sent, then
/// closes (so a delivery is neither lost nor sent twice when the agent moves to another node).
pub async fn run(
    options: AgentOptions,
    on_outcome: Option<OnOutcome>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), AgentError> {
    let forward = AgentTargets::parse(options.forward.iter().map(String::as_str))
        .map_err(|e| AgentError::Usage(format!("--forward: {e}")))?;
    let url = connect::connect_url(&options.gateway)?;
    let tls = connect::tls(options.ca_file.as_deref())?;
    let client = forward::client().map_err(|e| AgentError::Usage(e.to_string()))?;
    let on_outcome = std::sync::Arc::new(on_outcome);
    let stop = futures_util::FutureExt::shared(Box::pin(stop));
    let mut backoff = Duration::from_millis(500);
    loop {
        let socket = tokio::select! {
            socket = connect::open(&url, &options.token, &forward, &tls) => socket,
            () = stop.clone() => return Ok(()),
        };
        let ended = match socket {
            Ok(socket) => serve(socket, &client, &forward, &on_outcome, stop.clone()).await,
            Err(error) => Err(error),
        };
        match ended {
            Err(error @ AgentError::Refused { .. }) => return Err(error),
            Err(error @ AgentError::Usage(_)) => return Err(error),
            Ok(Served::Stopped) => return Ok(()),
            Ok(Served::Closed(served)) => {
                if served {
                    backoff = Duration::from_millis(500);
                }
                tracing::warn!("the gateway closed the connection; reconnecting");
            }
            Err(AgentError::Connect(error)) => {
                tracing::warn!(%error, retry_in = ?backoff, "cannot reach the gateway");
            }
        }
        let jitter = Duration::from_millis(rand::random::<u64>() % 250);
        tokio::select! {
            () = tokio::time::sleep(backoff + jitter) => {}
            () = stop.clone() => return Ok(()),
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

async fn send(sink: &mut connect::Sink, frame: &AgentFrame) -> Result<(), AgentError> {
    let text = serde_json::to_string(frame).map_err(|e| AgentError::Connect(e.to_string()))?;
    sink.send(Message::Text(text.into()))
        .await
        .map_err(|e| AgentError::Connect(e.to_string()))
}

/// Serves one connection until it ends, or until `stop`, then drains it.
async fn serve(
    socket: connect::Socket,
    client: &reqwest::Client,
    forward: &AgentTargets,
    on_outcome: &std::sync::Arc<Option<OnOutcome>>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Served, AgentError> {
    let (mut sink, mut stream) = socket.split();
    let (outcomes, mut finished) = mpsc::unbounded_channel::<OutcomeFrame>();
    let mut welcomed = false;
    let mut in_flight = 0usize;
    let mut draining = false;
    // Armed when draining starts.
    let drain_deadline = tokio::time::sleep(DRAIN_FOR);
    tokio::pin!(stop, drain_deadline);
    loop {
        tokio::select! {
            () = &mut stop, if !draining => {
                draining = true;
                send(&mut sink, &AgentFrame::Draining).await?;
                drain_deadline.as_mut().reset(tokio::time::Instant::now() + DRAIN_FOR);
                tracing::info!(in_flight, "stopping: answering the deliveries already sent");
            }
            () = &mut drain_deadline, if draining => {
                tracing::warn!(in_flight, "stopping with deliveries unanswered; the gateway retries them");
                let _ = sink.send(Message::Close(None)).await;
                return Ok(Served::Stopped);
            }
            message = stream.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => {
                        return Ok(if draining { Served::Stopped } else { Served::Closed(welcomed) });
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return Err(AgentError::Connect(error.to_string())),
                };
                match serde_json::from_str::<GatewayFrame>(text.as_str()) {
                    Ok(GatewayFrame::Welcome { agent, targets, .. }) => {
                        welcomed = true;
                        let targets = targets.values().join(", ");
                        tracing::info!(agent, targets, "connected; forwarding deliveries");
                        eprintln!("relay agent {agent:?} connected; forwarding to {targets}");
                    }
                    Ok(GatewayFrame::Deliver(frame)) => {
                        in_flight += 1;
                        let client = client.clone();
                        let forward = forward.clone();
                        let outcomes = outcomes.clone();
                        let on_outcome = std::sync::Arc::clone(on_outcome);
                        tokio::spawn(async move {
                            let outcome = forward::forward(&client, &forward, &frame).await;
                            if let Some(report) = on_outcome.as_ref() {
                                report(&frame, &outcome);
                            }
                            let _ = outcomes.send(outcome);
                        });
                    }
                    Err(error) => tracing::warn!(%error, "unreadable frame from the gateway"),
                }
            }
            Some(outcome) = finished.recv() => {
                in_flight = in_flight.saturating_sub(1);
                send(&mut sink, &AgentFrame::Outcome(outcome)).await?;
            }
        }
        if draining && in_flight == 0 {
            let _ = sink.send(Message::Close(None)).await;
            return Ok(Served::Stopped);
        }
    }
}
