//! [`AgentHub`]: the agents connected to this process and the attempts awaiting their answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::frames::{DeliverFrame, OutcomeFrame};
use crate::model::time::Timestamp;

/// Why an attempt through an agent got no outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentFailure {
    /// The agent is not connected to this process, or the connection broke before it answered.
    #[error("{0}")]
    Offline(String),
    /// The agent did not answer within the destination's timeout.
    #[error("agent {agent:?} did not answer within {after:?}")]
    Timeout {
        /// The agent.
        agent: String,
        /// The timeout.
        after: Duration,
    },
}

/// One connection, as the gateway's WebSocket task holds it: the frames to send, and the
/// identity to report outcomes and the end of the connection under.
#[derive(Debug)]
pub struct AgentSession {
    /// The agent's name.
    pub agent: String,
    /// The target it forwards to (normalised).
    pub target: String,
    /// Tells this connection from an earlier or later one of the same agent.
    pub id: u64,
    /// The frames to send to the agent.
    pub frames: mpsc::UnboundedReceiver<DeliverFrame>,
}

struct Connected {
    session: u64,
    since: Timestamp,
    target: String,
    outbox: mpsc::UnboundedSender<DeliverFrame>,
    pending: HashMap<u64, oneshot::Sender<OutcomeFrame>>,
}

#[derive(Default)]
struct State {
    agents: HashMap<String, Connected>,
    next_id: u64,
}

/// The agents connected to this process. One connection per agent: a new one replaces the
/// old (whose attempts awaiting an answer fail as `agent_offline` and are retried per the
/// destination's policy). Cloning shares it.
#[derive(Clone, Default)]
pub struct AgentHub {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for AgentHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentHub")
            .field("connected", &self.connected())
            .finish()
    }
}

impl AgentHub {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a connection of `agent` forwarding to `target`, replacing any earlier one.
    pub fn connect(&self, agent: &str, target: &str) -> AgentSession {
        let (outbox, frames) = mpsc::unbounded_channel();
        let mut state = self.state();
        state.next_id += 1;
        let id = state.next_id;
        let replaced = state.agents.insert(
            agent.to_owned(),
            Connected {
                session: id,
                since: Timestamp::now(),
                target: target.to_owned(),
                outbox,
                pending: HashMap::new(),
            },
        );
        if replaced.is_some() {
            tracing::info!(
                agent,
                "agent reconnected; its earlier connection is dropped"
            );
        }
        AgentSession {
            agent: agent.to_owned(),
            target: target.to_owned(),
            id,
            frames,
        }
    }

    /// Removes the connection `session` of `agent` (a later connection is left alone). Attempts
    /// still awaiting its answer fail as `agent_offline`.
    pub fn disconnect(&self, agent: &str, session: u64) {
        let mut state = self.state();
        if state
            .agents
            .get(agent)
            .is_some_and(|c| c.session == session)
        {
            state.agents.remove(agent);
        }
    }

    /// Closes `agent`'s connection, whichever it is (after its credential was revoked or
    /// rotated). Attempts still awaiting its answer fail as `agent_offline`.
    pub fn drop_agent(&self, agent: &str) {
        self.state().agents.remove(agent);
    }

    /// Closes every connection `keep` refuses, given the agent's name and when it connected
    /// (after another node revoked, rotated or deleted its credential).
    pub fn retain(&self, keep: impl Fn(&str, Timestamp) -> bool) {
        self.state().agents.retain(|name, c| {
            let kept = keep(name, c.since);
            if !kept {
                tracing::info!(
                    agent = name,
                    "agent credential changed; closing its connection"
                );
            }
            kept
        });
    }

    /// Hands an outcome to the attempt awaiting it. An outcome for an attempt that is no longer
    /// waiting (it timed out, or its connection was replaced) is dropped: it is never recorded.
    pub fn complete(&self, agent: &str, session: u64, outcome: OutcomeFrame) -> bool {
        let mut state = self.state();
        let Some(connected) = state.agents.get_mut(agent) else {
            return false;
        };
        if connected.session != session {
            return false;
        }
        match connected.pending.remove(&outcome.id) {
            Some(waiting) => waiting.send(outcome).is_ok(),
            None => false,
        }
    }

    /// The connected agents and their targets, by name.
    pub fn connected(&self) -> Vec<(String, String)> {
        let mut list: Vec<_> = (self.state().agents.iter())
            .map(|(name, c)| (name.clone(), c.target.clone()))
            .collect();
        list.sort();
        list
    }

    /// The target of `agent`'s connection, if it is connected.
    pub fn target_of(&self, agent: &str) -> Option<String> {
        self.state().agents.get(agent).map(|c| c.target.clone())
    }

    /// Sends one attempt to `agent` (`frame`'s `id` and `target` are set here) and waits at
    /// most `timeout` for its outcome. `allowed` is the destination's allow list: an agent
    /// whose target is outside it is not sent anything.
    pub async fn deliver(
        &self,
        agent: &str,
        allowed: &[String],
        mut frame: DeliverFrame,
        timeout: Duration,
    ) -> Result<OutcomeFrame, AgentFailure> {
        let (answer, waiting) = oneshot::channel();
        let (session, id) = {
            let mut state = self.state();
            state.next_id += 1;
            let id = state.next_id;
            let Some(connected) = state.agents.get_mut(agent) else {
                return Err(AgentFailure::Offline(format!(
                    "agent {agent:?} is not connected to this node"
                )));
            };
            if !super::target_allowed(allowed, &connected.target) {
                return Err(AgentFailure::Offline(format!(
                    "agent {agent:?} forwards to {:?}, outside the destination's allow_targets",
                    connected.target
                )));
            }
            frame.id = id;
            frame.target.clone_from(&connected.target);
            if connected.outbox.send(frame).is_err() {
                return Err(AgentFailure::Offline(format!(
                    "agent {agent:?} is disconnecting"
                )));
            }
            connected.pending.insert(id, answer);
            (connected.session, id)
        };
        match tokio::time::timeout(timeout, waiting).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => Err(AgentFailure::Offline(format!(
                "agent {agent:?} disconnected before answering"
            ))),
            Err(_) => {
                let mut state = self.state();
                if let Some(connected) = state.agents.get_mut(agent)
                    && connected.session == session
                {
                    connected.pending.remove(&id);
                }
                Err(AgentFailure::Timeout {
                    agent: agent.to_owned(),
                    after: timeout,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DeliverFrame {
        DeliverFrame {
            id: 0,
            delivery_id: "d".into(),
            destination: "dest".into(),
            event_type: "push".into(),
            attempt: 1,
            target: String::new(),
            headers: Vec::new(),
            body: String::new(),
            timeout_ms: 1000,
        }
    }

    fn allowed() -> Vec<String> {
        vec!["http://127.0.0.1:3000/".into()]
    }

    #[tokio::test]
    async fn offline_answer_and_late_outcomes() {
        let hub = AgentHub::default();
        let offline = hub
            .deliver("a", &allowed(), frame(), Duration::from_secs(1))
            .await;
        assert!(
            matches!(offline, Err(AgentFailure::Offline(_))),
            "{offline:?}"
        );

        let mut session = hub.connect("a", "http://127.0.0.1:3000/x");
        let answering = {
            let hub = hub.clone();
            tokio::spawn(async move {
                let sent = session.frames.recv().await.unwrap();
                assert_eq!(sent.target, "http://127.0.0.1:3000/x");
                let outcome = OutcomeFrame {
                    id: sent.id,
                    status: Some(204),
                    latency_ms: 1,
                    error: None,
                    excerpt: None,
                    retry_after_secs: None,
                };
                assert!(hub.complete("a", session.id, outcome.clone()));
                // The same outcome again is not waited for any more.
                assert!(!hub.complete("a", session.id, outcome));
                session
            })
        };
        let outcome = hub
            .deliver("a", &allowed(), frame(), Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(outcome.status, Some(204));
        let session = answering.await.unwrap();

        // Outside the allow list: nothing is sent.
        let refused = hub
            .deliver(
                "a",
                &["http://127.0.0.1:4000/".into()],
                frame(),
                Duration::from_secs(1),
            )
            .await;
        assert!(matches!(refused, Err(AgentFailure::Offline(m)) if m.contains("allow_targets")));

        // A reconnection replaces the session; the old one's disconnect does not remove it.
        let newer = hub.connect("a", "http://127.0.0.1:3000/");
        hub.disconnect("a", session.id);
        assert_eq!(hub.connected().len(), 1);
        hub.disconnect("a", newer.id);
        assert!(hub.connected().is_empty());
    }

    #[tokio::test]
    async fn a_dropped_connection_fails_the_attempt_waiting_on_it() {
        let hub = AgentHub::default();
        let session = hub.connect("a", "http://127.0.0.1:3000/");
        let waiting = {
            let hub = hub.clone();
            tokio::spawn(async move {
                hub.deliver("a", &allowed(), frame(), Duration::from_secs(60))
                    .await
            })
        };
        while hub
            .state()
            .agents
            .get("a")
            .is_some_and(|c| c.pending.is_empty())
        {
            tokio::task::yield_now().await;
        }
        hub.disconnect("a", session.id);
        let result = waiting.await.unwrap();
        assert!(matches!(result, Err(AgentFailure::Offline(m)) if m.contains("disconnected")));
    }

    #[tokio::test]
    async fn no_answer_is_a_timeout() {
        let hub = AgentHub::default();
        let _session = hub.connect("a", "http://127.0.0.1:3000/");
        let result = hub
            .deliver("a", &allowed(), frame(), Duration::from_millis(20))
            .await;
        assert!(matches!(result, Err(AgentFailure::Timeout { .. })));
    }
}
