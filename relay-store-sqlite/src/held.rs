//! Which due deliveries the lease query leaves alone.

/// The condition that `d` (due at `?1`) waits for its destination: disabled (its stored
/// state), or its circuit open until after `?1`. The lease query leaves such deliveries
/// alone, so a held backlog costs no writes and is due the moment it is released.
pub(crate) const HELD: &str = "(EXISTS (
         SELECT 1 FROM object_state s
         WHERE s.tenant = d.tenant AND s.kind = 'destination' AND s.name = d.destination
             AND s.enabled = 0)
     OR EXISTS (
         SELECT 1 FROM circuits c
         WHERE c.tenant = d.tenant AND c.destination = d.destination
             AND c.phase = 'open' AND c.until > ?1))";

/// The condition that `d` is bound to no agent, or to one of the agents the leasing node
/// holds: `?3` is a JSON array of [`HeldAgent::key`](relay_core::store::HeldAgent::key)s.
pub(crate) const AGENT_HERE: &str = "(d.agent IS NULL
     OR d.tenant || char(31) || d.agent IN (SELECT value FROM json_each(?3)))";
