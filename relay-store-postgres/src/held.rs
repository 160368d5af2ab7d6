//! Which due deliveries the lease query leaves alone.

/// The condition that `d` (due at `$1`) waits for its destination: disabled (its stored
/// state), or its circuit open until after `$1`. The lease query leaves such deliveries
/// alone, so a held backlog costs no writes and is due the moment it is released.
///
/// Written as `IN` over the (few) held destinations rather than a correlated `EXISTS` per
/// delivery, so PostgreSQL evaluates each subquery once per statement into a hash table
/// (a "hashed SubPlan") instead of probing `object_state` and `circuits` for every row it
/// scans. Every column compared is `NOT NULL`, so `IN` answers exactly as `EXISTS` would.
pub(crate) const HELD: &str = "((d.tenant, d.destination) IN (
         SELECT s.tenant, s.name FROM object_state s
         WHERE s.kind = 'destination' AND NOT s.enabled)
     OR (d.tenant, d.destination) IN (
         SELECT c.tenant, c.destination FROM circuits c
         WHERE c.phase = 'open' AND c.until > $1::int8))";

/// The condition that `d` is bound to no agent, or to one of the agents the leasing node
/// holds: `$5` is the array of their [`HeldAgent::key`](relay_core::store::HeldAgent::key)s.
pub(crate) const AGENT_HERE: &str =
    "(d.agent IS NULL OR d.tenant || chr(31) || d.agent = ANY($5::text[]))";
