// Health and rates from the per-minute points: one meaning everywhere.
//
// - Success rate: delivered ÷ (delivered + dead letters not replayed). A dead letter that was
//   replayed (dead_letters_replayed) stops counting as a failure; if the replay fails it is
//   dead-lettered, and counted, again.
// - A destination's health: paused or an open circuit first; otherwise its recent outcomes
//   (failed attempts and dead letters against deliveries), not only the breaker.

/** Failures that still count: dead letters minus those replayed since (never below 0). */
export function deadNotReplayed(m) {
  return Math.max(0, (m.dead_lettered || 0) - (m.dead_letters_replayed || 0));
}

/** delivered ÷ (delivered + dead letters not replayed), or null when nothing finished. */
export function successRate(m) {
  const delivered = m.delivered || 0;
  const finished = delivered + deadNotReplayed(m);
  return finished === 0 ? null : delivered / finished;
}

/**
 * A destination's health as [state, label] for a badge: `paused` (disabled), `open` (circuit),
 * `half_open`, `failing` (attempts failed and none delivered), `degraded` (some attempts or
 * deliveries failed), `healthy` (delivered, nothing failed) or `idle` (no recent attempts).
 */
export function destinationHealth(d, m) {
  if (!d.enabled) return ['paused', 'Disabled'];
  if (d.circuit === 'open') return ['open', 'Open (failing)'];
  if (d.circuit === 'half_open') return ['half_open', 'Probing'];
  const delivered = m.delivered || 0;
  const failures = (m.failed || 0) + deadNotReplayed(m);
  if (failures > 0 && delivered === 0) return ['failing', 'Failing'];
  if (failures > 0) return ['degraded', 'Degraded'];
  if (delivered > 0) return ['healthy', 'Healthy'];
  return ['idle', 'No recent attempts'];
}
