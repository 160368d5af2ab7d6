//! Agents: deliveries to apps the gateway cannot reach.
//!
//! An agent (`relay agent`) runs beside a private app, opens one outbound, authenticated
//! WebSocket to the gateway ([`CONNECT_PATH`]), receives the attempts of the destinations of
//! kind `agent` bound to it, POSTs each to its local target and sends back the outcome, which
//! the gateway records as the attempt like any other (under the delivery's lease: an outcome
//! that arrives after the attempt timed out or its connection was replaced is dropped, never
//! recorded twice). With no agent connected to the process making the attempt, or when the
//! connection breaks before the outcome, the attempt fails as `agent_offline` and follows the
//! destination's retry policy, then dead-letters like any other.
//!
//! Credentials are `rag_<name>_<secret>` tokens: only a SHA-256 digest of the secret part is
//! stored, compared in constant time; see [`Agents::create`](crate::control::agent::Agents::create).

mod credentials;
mod frames;
mod hub;

pub use credentials::{AgentCredential, AgentView, Agents, parse_agent_token};
pub use frames::{
    AgentFrame, CONNECT_PATH, DeliverFrame, GatewayFrame, OutcomeFrame, TARGET_HEADER,
    normalise_target, target_allowed,
};
pub use hub::{AgentFailure, AgentHub, AgentSession};
