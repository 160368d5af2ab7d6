//! `relay agent`: one outbound WebSocket to the gateway; each delivery it receives is POSTed
//! to the local target and its outcome sent back, recorded by the gateway as the attempt.
//! Reconnects with backoff (0.5 s doubling to 30 s, jittered); a refusal (revoked token,
//! target outside the destination's allow list) ends it with a clear message.

mod connect;
mod forward;

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use relay_core::control::agent::{
    AgentFrame, DeliverFrame, GatewayFrame, OutcomeFrame, normalise_target,
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
    /// The local URL deliveries are POSTed to.
    pub forward: String,
    /// Extra trusted CA certificates (PEM) for an `https://` gateway.
    pub ca_file: Option<PathBuf>,
}

/// Told about every forwarded delivery (for `relay listen`'s log lines).
pub type OnOutcome = Box<dyn Fn(&DeliverFrame, &OutcomeFrame) + Send + Sync>;

/// Runs the agent until `stop` resolves or the gateway refuses it.
pub async fn run(
    options: AgentOptions,
    on_outcome: Option<OnOutcome>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), AgentError> {
    let forward = normalise_target(&options.forward).ok_or_else(|| {
        AgentError::Usage(format!(
            "--forward {:?}: not an http(s) URL",
            options.forward
        ))
    })?;
    let url = connect::connect_url(&options.gateway)?;
    let tls = connect::tls(options.ca_file.as_deref())?;
    let client = forward::client().map_err(|e| AgentError::Usage(e.to_string()))?;
    let on_outcome = std::sync::Arc::new(on_outcome);
    tokio::pin!(stop);
    let mut backoff = Duration::from_millis(500);
    loop {
        let session = async {
            let socket = connect::open(&url, &options.token, &forward, &tls).await?;
            serve(socket, &client, &forward, &on_outcome).await
        };
        let ended = tokio::select! {
            ended = session => ended,
            () = &mut stop => return Ok(()),
        };
        match ended {
            Err(error @ AgentError::Refused { .. }) => return Err(error),
            Err(error @ AgentError::Usage(_)) => return Err(error),
            Ok(served) => {
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
            () = &mut stop => return Ok(()),
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// Serves one connection until it ends; whether it was welcomed.
async fn serve(
    socket: connect::Socket,
    client: &reqwest::Client,
    forward: &str,
    on_outcome: &std::sync::Arc<Option<OnOutcome>>,
) -> Result<bool, AgentError> {
    let (mut sink, mut stream) = socket.split();
    let (outcomes, mut finished) = mpsc::unbounded_channel::<OutcomeFrame>();
    let mut welcomed = false;
    loop {
        tokio::select! {
            message = stream.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => return Ok(welcomed),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return Err(AgentError::Connect(error.to_string())),
                };
                match serde_json::from_str::<GatewayFrame>(text.as_str()) {
                    Ok(GatewayFrame::Welcome { agent, target }) => {
                        welcomed = true;
                        tracing::info!(agent, target, "connected; forwarding deliveries");
                        eprintln!("relay agent {agent:?} connected; forwarding to {target}");
                    }
                    Ok(GatewayFrame::Deliver(frame)) => {
                        let client = client.clone();
                        let forward = forward.to_owned();
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
                let text = serde_json::to_string(&AgentFrame::Outcome(outcome))
                    .map_err(|e| AgentError::Connect(e.to_string()))?;
                sink.send(Message::Text(text.into()))
                    .await
                    .map_err(|e| AgentError::Connect(e.to_string()))?;
            }
        }
    }
}
