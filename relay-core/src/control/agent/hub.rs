//! [`AgentHub`]: the agents connected to this process (of every tenant) and the attempts
//! awaiting their answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::frames::{DeliverFrame, OutcomeFrame};
use super::targets::AgentTargets;
use crate::model::time::Timestamp;
use crate::store::HeldAgent;

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
    /// The agent (its tenant and name).
    pub agent: HeldAgent,
    /// Where it forwards each destination's attempts.
    pub targets: AgentTargets,
    /// Tells this connection from an earlier or later one of the same agent.
    pub id: u64,
    /// When it connected.
    pub since: Timestamp,
    /// Names this connection in presence records (unique across processes).
    pub presence_session: String,
    /// The frames to send to the agent.
    pub frames: mpsc::UnboundedReceiver<DeliverFrame>,
}

struct Connected {
    session: u64,
    since: Timestamp,
    targets: AgentTargets,
    outbox: mpsc::UnboundedSender<DeliverFrame>,
    pending: HashMap<u64, oneshot::Sender<OutcomeFrame>>,
}

struct State {
    agents: HashMap<HeldAgent, Connected>,
    /// Connections draining (see [`AgentHub::drain`]), by agent and session.
    draining: HashMap<(HeldAgent, u64), Connected>,
    next_id: u64,
    /// Names this process in presence records when its node has no identity.
    process: String,
    /// When this process started looking after agents.
    started: Timestamp,
}

impl Default for State {
    fn default() -> Self {
        Self {
            agents: HashMap::new(),
            draining: HashMap::new(),
            next_id: 0,
            process: format!("process-{:016x}", rand::random::<u64>()),
            started: Timestamp::now(),
        }
    }
}

/// The agents connected to this process, of every tenant. One connection per agent: a new
/// one replaces the old (whose attempts awaiting an answer fail as `agent_offline` and are
/// retried per the destination's policy). Cloning shares it.
#[derive(Clone, Default)]
pub struct AgentHub {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for AgentHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentHub")
            .field("connected", &self.held())
            .finish()
    }
}

impl AgentHub {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a connection of `agent` forwarding to `targets`, replacing any earlier one.
    pub fn connect(&self, agent: &HeldAgent, targets: AgentTargets) -> AgentSession {
        let (outbox, frames) = mpsc::unbounded_channel();
        let since = Timestamp::now();
        let mut state = self.state();
        state.next_id += 1;
        let id = state.next_id;
        let presence_session = format!("{}-{id}", state.process);
        let replaced = state.agents.insert(
            agent.clone(),
            Connected {
                session: id,
                since,
                targets: targets.clone(),
                outbox,
                pending: HashMap::new(),
            },
        );
        if replaced.is_some() {
            tracing::info!(
                agent = agent.agent,
                tenant = %agent.tenant,
                "agent reconnected; its earlier connection is dropped"
            );
        }
        AgentSession {
            agent: agent.clone(),
            targets,
            id,
            since,
            presence_session,
            frames,
        }
    }

    /// Removes the connection `session` of `agent` (a later connection is left alone); whether
    /// it was the current one. Attempts still awaiting its answer fail as `agent_offline`.
    pub fn disconnect(&self, agent: &HeldAgent, session: u64) -> bool {
        let mut state = self.state();
        state.draining.remove(&(agent.clone(), session));
        let current = (state.agents.get(agent)).is_some_and(|c| c.session == session);
        if current {
            state.agents.remove(agent);
        }
        current
    }

    /// Stops sending to the connection `session` of `agent` (the agent is stopping): it is no
    /// longer connected for leasing and new attempts, while the outcomes of the attempts it
    /// was sent are still taken until it disconnects. Whether it was the current connection.
    pub fn drain(&self, agent: &HeldAgent, session: u64) -> bool {
        let mut state = self.state();
        if (state.agents.get(agent)).is_none_or(|c| c.session != session) {
            return false;
        }
        if let Some(connected) = state.agents.remove(agent) {
            state.draining.insert((agent.clone(), session), connected);
        }
        true
    }

    /// Closes `agent`'s connection, whichever it is (after its credential was revoked or
    /// rotated). Attempts still awaiting its answer fail as `agent_offline`.
    pub fn drop_agent(&self, agent: &HeldAgent) {
        let mut state = self.state();
        state.agents.remove(agent);
        state.draining.retain(|(a, _), _| a != agent);
    }

    /// Closes every connection `keep` refuses, given the agent and when it connected (after
    /// another node revoked, rotated or deleted its credential).
    pub fn retain(&self, keep: impl Fn(&HeldAgent, Timestamp) -> bool) {
        self.state().agents.retain(|agent, c| {
            let kept = keep(agent, c.since);
            if !kept {
                tracing::info!(
                    agent = agent.agent,
                    tenant = %agent.tenant,
                    "agent credential changed; closing its connection"
                );
            }
            kept
        });
    }

    /// Hands an outcome to the attempt awaiting it. An outcome for an attempt that is no longer
    /// waiting (it timed out, or its connection was replaced) is dropped: it is never recorded.
    pub fn complete(&self, agent: &HeldAgent, session: u64, outcome: OutcomeFrame) -> bool {
        let mut state = self.state();
        let State {
            agents, draining, ..
        } = &mut *state;
        let connected = match agents.get_mut(agent) {
            Some(connected) if connected.session == session => connected,
            _ => match draining.get_mut(&(agent.clone(), session)) {
                Some(connected) => connected,
                None => return false,
            },
        };
        match connected.pending.remove(&outcome.id) {
            Some(waiting) => waiting.send(outcome).is_ok(),
            None => false,
        }
    }

    /// The agents connected to this process (what its lease query may lease for), sorted.
    pub fn held(&self) -> Vec<HeldAgent> {
        let mut list: Vec<_> = self.state().agents.keys().cloned().collect();
        list.sort();
        list
    }

    /// The name of this process in presence records, for a node without an identity.
    pub fn process_name(&self) -> String {
        self.state().process.clone()
    }

    /// When this hub (this process's relay) was made.
    pub fn started(&self) -> Timestamp {
        self.state().started
    }

    /// The id of `agent`'s current connection to this process.
    pub fn session_of(&self, agent: &HeldAgent) -> Option<u64> {
        self.state().agents.get(agent).map(|c| c.session)
    }

    /// Whether `agent` is connected to this process.
    pub fn is_connected(&self, agent: &HeldAgent) -> bool {
        self.state().agents.contains_key(agent)
    }

    /// The targets of `agent`'s connection, if it is connected.
    pub fn targets_of(&self, agent: &HeldAgent) -> Option<AgentTargets> {
        self.state().agents.get(agent).map(|c| c.targets.clone())
    }

    /// Sends one attempt to `agent` (`frame`'s `id` and `target` are set here: the agent's URL
    /// for the frame's destination) and waits at most `timeout` for its outcome. `allowed` is
    /// the destination's allow list: an agent whose URL for it is outside the list (or that has
    /// none) is not sent anything.
    pub async fn deliver(
        &self,
        agent: &HeldAgent,
        allowed: &[String],
        mut frame: DeliverFrame,
        timeout: Duration,
    ) -> Result<OutcomeFrame, AgentFailure> {
        let name = &agent.agent;
        let (answer, waiting) = oneshot::channel();
        let (session, id) = {
            let mut state = self.state();
            state.next_id += 1;
            let id = state.next_id;
            let Some(connected) = state.agents.get_mut(agent) else {
                return Err(AgentFailure::Offline(format!(
                    "agent {name:?} is not connected to this node"
                )));
            };
            if let Some(refusal) = connected.targets.refusal(&frame.destination, allowed) {
                return Err(AgentFailure::Offline(format!("agent {name:?}: {refusal}")));
            }
            let target = connected.targets.for_destination(&frame.destination);
            frame.id = id;
            frame.target = target.unwrap_or_default().to_owned();
            if connected.outbox.send(frame).is_err() {
                return Err(AgentFailure::Offline(format!(
                    "agent {name:?} is disconnecting"
                )));
            }
            connected.pending.insert(id, answer);
            (connected.session, id)
        };
        match tokio::time::timeout(timeout, waiting).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => Err(AgentFailure::Offline(format!(
                "agent {name:?} disconnected before answering"
            ))),
            Err(_) => {
                let mut state = self.state();
                if let Some(connected) = state.agents.get_mut(agent)
                    && connected.session == session
                {
                    connected.pending.remove(&id);
                }
                if let Some(connected) = state.draining.get_mut(&(agent.clone(), session)) {
                    connected.pending.remove(&id);
                }
                Err(AgentFailure::Timeout {
                    agent: name.clone(),
                    after: timeout,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;
