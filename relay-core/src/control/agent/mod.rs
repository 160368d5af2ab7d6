//! Agents: deliveries to apps the gateway cannot reach.
//!
//! An agent (`relay agent`) runs beside a private app, opens one outbound, authenticated
//! WebSocket to the gateway ([`CONNECT_PATH`]), receives the attempts of the destinations of
//! kind `agent` bound to it, POSTs each to its local target and sends back the outcome, which
//! the gateway records as the attempt like any other (under the delivery's lease: an outcome
//! that arrives after the attempt timed out or its connection was replaced is dropped, never
//! recorded twice).
//!
//! With several nodes, the deliveries of an agent's destinations are leased only by a node
//! holding that agent's connection (the lease query is given [`AgentHub::held`]); with the
//! agent connected nowhere they wait, unattempted and uncounted. A delivery leased just before
//! its agent left the node goes back to the queue without an attempt. When the connection
//! breaks while an attempt awaits its outcome, the attempt fails as `agent_offline` and
//! follows the destination's retry policy, then dead-letters like any other.
//!
//! Every tenant has its own agents; an agent delivers only its tenant's destinations.
//! Credentials are `rag_<name>_<secret>` tokens (`rag_<tenant>~<name>_<secret>` outside the
//! default tenant): only a SHA-256 digest of the secret part is
//! stored, compared in constant time; see [`Agents::create`](crate::control::agent::Agents::create).

mod connections;
mod credentials;
mod frames;
mod hub;
mod targets;
mod watch;

pub use connections::PRESENCE_TTL;
pub use credentials::{AgentCredential, AgentView, Agents, parse_agent_token, token_agent};
pub use frames::{
    AgentFrame, CONNECT_PATH, DeliverFrame, GatewayFrame, OutcomeFrame, TARGET_HEADER,
    VERSION_HEADER, normalise_target, target_allowed,
};
pub use hub::{AgentFailure, AgentHub, AgentSession};
pub use targets::{AgentTargets, TargetsError};
