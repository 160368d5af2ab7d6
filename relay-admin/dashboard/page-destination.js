// One destination (#/destinations/{name}): its success rate and latency over time, its circuit
// and why it is open or the destination disabled (by whom, when: an operator, a 410 Gone
// answer or the breaker), its last errors, and links to its events and dead letters.

import { h, mount, table, badge, empty, panel, select, field } from './ui.js';
import { get, seg } from './api.js';
import { lineChart } from './chart.js';
import { ago, dateTime, ms, num, pct, shortId } from './format.js';
import { eventLink, listHref } from './links.js';

const MINUTE = 60000;
const RANGES = [['60', 'Last hour'], ['360', 'Last 6 hours'], ['1440', 'Last 24 hours']];
const CIRCUIT = { closed: 'Closed', half_open: 'Probing', open: 'Open' };

/** Per-minute rows of the destination's metric points over `range` minutes from `from`. */
function perMinute(points, from, range) {
  const rows = Array.from({ length: range }, () => ({}));
  for (const p of points) {
    const i = Math.floor((new Date(p.minute).getTime() - from) / MINUTE);
    if (i >= 0 && i < range) rows[i][p.metric] = (rows[i][p.metric] || 0) + p.value;
  }
  return rows;
}

/** The latency percentile `q` (0..1) in ms of one row's `latency_le_*` buckets, or null. */
export function latencyPercentile(row, q) {
  const buckets = Object.keys(row)
    .filter((k) => k.startsWith('latency_le_'))
    .map((k) => [k.slice('latency_le_'.length), row[k]])
    .map(([b, n]) => [b === 'inf' ? Infinity : Number(b), n])
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return null;
  let seen = 0;
  for (const [bound, n] of buckets) {
    seen += n;
    if (seen >= q * total) return bound;
  }
  return null;
}

/** Success rate in percent per minute: delivered ÷ (delivered + dead-lettered + failed
 * attempts); a minute without outcomes keeps the previous minute's rate. */
function successSeries(rows) {
  let last = null;
  const values = rows.map((r) => {
    const done = (r.delivered || 0) + (r.dead_lettered || 0) + (r.failed || 0);
    if (done > 0) last = (100 * (r.delivered || 0)) / done;
    return last === null ? 0 : Math.round(last * 10) / 10;
  });
  return values;
}

/** What the circuit and the enabled switch say, in words. */
function why(d) {
  const b = d.breaker || {};
  const lines = [];
  if (d.disabled) {
    const by = d.disabled.by === '410' ? 'the receiver answering 410 Gone'
      : d.disabled.by === 'circuit breaker' ? 'the circuit breaker (its circuit opened too often)'
        : d.disabled.by;
    lines.push(h('p', { 'data-test': 'disabled-why' }, h('strong', null, 'Disabled'), ` by ${by}, ${dateTime(d.disabled.at)}`,
      d.disabled.reason ? ` — ${d.disabled.reason}` : '', '. Deliveries wait in the queue until it is enabled.'));
  }
  if (b.state === 'open' || b.state === 'half_open') {
    lines.push(h('p', { 'data-test': 'circuit-why' }, h('strong', null, `Circuit ${CIRCUIT[b.state]}`),
      b.why ? `: ${b.why}` : '', b.opened_at ? ` · opened ${dateTime(b.opened_at)}` : '',
      b.until ? ` · next probe ${dateTime(b.until)}` : '',
      b.probes ? ` · probes ${num(b.probes.succeeded)} of ${num(b.probes.sent)} succeeded` : ''));
  } else {
    lines.push(h('p', { 'data-test': 'circuit-why' }, h('strong', null, 'Circuit closed'),
      `: ${num(b.failures || 0)} of ${num(b.attempts || 0)} attempts failed (${num(b.failure_rate_percent || 0)}%) in the breaker's window.`));
  }
  return lines;
}

function state(d) {
  if (!d.enabled) return badge('paused', 'Disabled');
  if (d.circuit === 'open') return badge('open', 'Circuit open');
  if (d.circuit === 'half_open') return badge('half_open', 'Probing');
  return badge('enabled', 'Enabled');
}

/** Renders the page of destination `ctx.id`. */
export async function render(root, ctx) {
  const name = ctx.id;
  const range = Number(ctx.params.get('range') || 60);
  const from = Math.floor(Date.now() / MINUTE) * MINUTE - (range - 1) * MINUTE;
  const [d, report, dead, events, audit] = await Promise.all([
    get(`/destinations/${seg(name)}`),
    get('/metrics/points', { from: new Date(from).toISOString(), scope: 'destination', name }).catch(() => ({ points: [] })),
    get('/dead-letters', { destination: name, limit: 200 }).catch(() => ({ items: [] })),
    get('/events', { destination: name, limit: 10 }).catch(() => ({ items: [] })),
    get('/audit', { object_kind: 'destination', object_id: name, limit: 10 }).catch(() => ({ items: [] })),
  ]);
  const rows = perMinute(report.points.filter((p) => p.scope === 'destination' && p.name === name), from, range);
  const minutes = rows.map((_, i) => new Date(from + i * MINUTE));
  const total = rows.reduce((sum, r) => {
    for (const [k, v] of Object.entries(r)) sum[k] = (sum[k] || 0) + v;
    return sum;
  }, {});
  const outcomes = (total.delivered || 0) + (total.dead_lettered || 0);
  const p95 = rows.map((r) => {
    const v = latencyPercentile(r, 0.95);
    return v === null ? 0 : Math.min(v, 60000);
  });
  const rangeSelect = select('range', RANGES, String(range), null);
  rangeSelect.addEventListener('change', () => ctx.navigate(`destinations/${encodeURIComponent(name)}`, { range: rangeSelect.value }));
  const lastErrors = [...dead.items].sort((a, b) => (a.updated_at < b.updated_at ? 1 : -1)).slice(0, 10);
  mount(root,
    h('div', { class: 'filters' },
      h('a', { href: '#/destinations', class: 'back' }, '← Destinations'),
      h('div', { class: 'spacer' }), field('Period', rangeSelect)),
    panel(d.name, h('div', { class: 'actions' }, state(d),
      h('a', { class: 'button small', href: listHref('events', { destination: name }), 'data-test': 'destination-events' }, 'Its events'),
      h('a', { class: 'button small', href: listHref('dead-letters', { destination: name }), 'data-test': 'destination-dead-letters' },
        `Its dead letters (${num(dead.items.length)}${dead.next_cursor ? '+' : ''})`)),
    h('div', { class: 'destination-facts', 'data-test': 'destination-facts' },
      h('div', null, h('span', { class: 'muted' }, 'URL '), d.url ? h('code', null, d.url) : 'in-process handler'),
      h('div', null, h('span', { class: 'muted' }, 'Managed by '), d.managed_by === 'api' ? 'the API' : 'the config file', d.signed ? ' · signed' : ''),
      h('div', null, h('span', { class: 'muted' }, 'Success '), h('strong', { 'data-test': 'destination-success' }, outcomes ? pct((total.delivered || 0) / outcomes) : '—'),
        ` · ${num(total.delivered || 0)} delivered · ${num(total.failed || 0)} failed attempts · ${num(total.dead_lettered || 0)} dead-lettered`),
      h('div', null, h('span', { class: 'muted' }, 'Latency '), `p50 ${ms(latencyPercentile(total, 0.5))} · p95 ${ms(latencyPercentile(total, 0.95))}`)),
    h('div', { class: 'why', 'data-test': 'destination-why' }, why(d))),
    h('div', { class: 'halves' },
      panel('Success rate', h('span', { class: 'muted' }, '% per minute'),
        lineChart(minutes, [{ key: 'delivered', label: 'Success %', values: successSeries(rows) }], 'destination-success-chart', 520)),
      panel('Latency', h('span', { class: 'muted' }, 'p95 per minute, ms'),
        lineChart(minutes, [{ key: 'failed', label: 'p95 ms', values: p95 }], 'destination-latency-chart', 520))),
    h('div', { class: 'halves' },
      panel('Last errors', null, lastErrors.length === 0
        ? empty('No dead letters', 'Nothing waits for a replay.')
        : table([
          { title: 'When', cell: (x) => h('span', { title: dateTime(x.updated_at) }, ago(x.updated_at)) },
          { title: 'Event', cell: (x) => eventLink(x.event_id, shortId(x.event_id)) },
          { title: 'Error', cell: (x) => h('span', { class: 'error-text' }, x.last_error || '—') },
        ], lastErrors, { rowAttrs: () => ({ 'data-test': 'destination-error' }) })),
      panel('Recent events', h('a', { href: listHref('events', { destination: name }) }, 'All'), events.items.length === 0
        ? empty('No events', 'have been routed here.')
        : table([
          { title: 'Received', cell: (e) => h('span', { title: dateTime(e.received_at) }, ago(e.received_at)) },
          { title: 'Event', cell: (e) => eventLink(e.id, e.event_type) },
          { title: 'State', cell: (e) => badge(e.state) },
        ], events.items, { onRow: (e) => ctx.navigate(`events/${encodeURIComponent(e.id)}`) }))),
    panel('History', h('a', { href: '#/audit' }, 'Audit log'), audit.items.length === 0
      ? empty('No changes recorded', 'Enabling, disabling and edits appear here.')
      : table([
        { title: 'When', cell: (a) => h('span', { title: dateTime(a.at) }, ago(a.at)) },
        { title: 'Who', cell: (a) => a.actor },
        { title: 'Action', cell: (a) => h('strong', null, a.action) },
      ], audit.items, { rowAttrs: () => ({ 'data-test': 'destination-history' }) })));
}
