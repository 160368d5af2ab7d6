// Overview: per-minute traffic (received, delivered, failed, dead-lettered), success rate,
// queue, latency percentiles and histogram, per source and destination. Refreshes every 10 s.

import { h, mount, table, empty, errorBox, select, field, panel } from './ui.js';
import { get } from './api.js';
import { destinationLink } from './links.js';
import { lineChart, barChart } from './chart.js';
import { num, pct, ms, latency } from './format.js';
import { successRate } from './health.js';

const MINUTE = 60000;
const SERIES = [
  { key: 'received', label: 'Received', scope: 'source' },
  { key: 'delivered', label: 'Delivered', scope: 'destination' },
  { key: 'dead_lettered', label: 'Dead-lettered', scope: 'destination' },
  { key: 'failed', label: 'Failed attempts', scope: 'destination' },
];
const RANGES = [['15', 'Last 15 minutes'], ['60', 'Last hour'], ['360', 'Last 6 hours'], ['1440', 'Last 24 hours']];
const BUCKETS = ['10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '30000', '60000', 'inf'];

/** Sums the points per (scope, name) → metric → value. */
export function byObject(points, scope) {
  const out = new Map();
  for (const p of points) {
    if (p.scope !== scope) continue;
    if (!out.has(p.name)) out.set(p.name, {});
    const row = out.get(p.name);
    row[p.metric] = (row[p.metric] || 0) + p.value;
  }
  return out;
}

/**
 * The latency percentile `q` (0..1) from bucket counts, as text: "250 ms", "> 60 s" beyond
 * the largest bucket, "—" without deliveries.
 */
export function percentile(counts, q) {
  const total = BUCKETS.reduce((sum, b) => sum + (counts[`latency_le_${b}`] || 0), 0);
  if (total === 0) return ms(null);
  let seen = 0;
  for (const b of BUCKETS) {
    seen += counts[`latency_le_${b}`] || 0;
    if (seen >= q * total) return b === 'inf' ? `> ${ms(60000)}` : ms(Number(b));
  }
  return ms(null);
}

function card(label, value, sub, cls = '', test = '') {
  return h('div', { class: `card ${cls}`, 'data-test': test || undefined },
    h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), h('div', { class: 'sub' }, sub));
}

function series(report, from, count) {
  const minutes = Array.from({ length: count }, (_, i) => new Date(from + i * MINUTE));
  const index = new Map(minutes.map((m, i) => [m.getTime(), i]));
  const lines = SERIES.map((x) => ({ ...x, values: new Array(count).fill(0) }));
  const queue = { key: 'queue_depth', label: 'Queue depth', values: new Array(count).fill(0) };
  for (const p of report.points) {
    const i = index.get(new Date(p.minute).getTime());
    if (i === undefined) continue;
    if (p.metric === 'queue_depth') {
      queue.values[i] = Math.max(queue.values[i], p.value);
      continue;
    }
    const line = lines.find((x) => x.key === p.metric && x.scope === p.scope);
    if (line) line.values[i] += p.value;
  }
  return { minutes, lines, queue };
}

async function load(body, range, status) {
  const now = Date.now();
  const from = Math.floor(now / MINUTE) * MINUTE - (range - 1) * MINUTE;
  const [report, pending, dead] = await Promise.all([
    get('/metrics/points', { from: new Date(from).toISOString() }),
    get('/events', { state: 'pending', limit: 200 }),
    get('/dead-letters', { limit: 200 }),
  ]);
  const t = report.totals;
  const { minutes, lines, queue } = series(report, from, range);
  const count = (page) => `${num(page.items.length)}${page.next_cursor ? '+' : ''}`;
  const rate = report.success_rate;
  const bars = BUCKETS.map((b) => ({
    label: b === 'inf' ? '>60s' : Number(b) >= 1000 ? `${Number(b) / 1000}s` : `${b}ms`,
    value: t[`latency_le_${b}`] || 0,
  }));
  const sources = [...byObject(report.points, 'source')];
  const destinations = [...byObject(report.points, 'destination')];
  const hasTraffic = report.points.length > 0;
  mount(body,
    h('div', { class: 'cards' },
      card('Received', num(t.received || 0), `${num(t.accepted || 0)} accepted · ${num(t.duplicates || 0)} duplicates`, '', 'card-received'),
      card('Delivered', num(t.delivered || 0), `${num(t.failed || 0)} failed attempts`, 'ok', 'card-delivered'),
      card('Dead-lettered', num(t.dead_lettered || 0), `${count(dead)} waiting in dead letters`, (t.dead_lettered || 0) > 0 ? 'bad' : '', 'card-dead'),
      card('Success rate', pct(rate), 'delivered ÷ (delivered + dead letters not replayed)', rate !== undefined && rate < 0.95 ? 'bad' : 'ok', 'card-success'),
      card('Queue', num(report.queue_depth ?? null), `deliveries waiting · ${count(pending)} events`, '', 'card-queue'),
      card('Delivery latency p50', latency(report, 'latency_p50'), h('span', null, 'received → delivered · ', h('span', { 'data-test': 'p95' }, `p95 ${latency(report, 'latency_p95')}`), ' · ', h('span', { 'data-test': 'p99' }, `p99 ${latency(report, 'latency_p99')}`)), '', 'card-latency'),
      card('Rejected', num((t.sig_failures || 0) + (t.rate_limited || 0) + (t.unknown_source || 0)),
        `${num(t.sig_failures || 0)} bad signatures · ${num(t.rate_limited || 0)} rate-limited`)),
    panel('Traffic per minute', null,
      hasTraffic ? null : h('div', { class: 'notice' }, 'No traffic in this period yet. Points appear within 5 seconds of the first webhook.'),
      lineChart(minutes, lines, 'traffic-chart'),
      h('div', { class: 'legend' }, SERIES.map((x) => h('span', { class: `s-${x.key}` }, x.label)))),
    h('div', { class: 'halves' },
      panel('Delivery latency', h('span', { class: 'muted' }, 'event received → delivered, per bucket'), barChart(bars, 'latency-chart', 520),
        h('div', { class: 'legend' },
          h('span', { class: 's-received' }, `p50 ${latency(report, 'latency_p50')}`),
          h('span', { class: 's-failed' }, `p95 ${latency(report, 'latency_p95')}`),
          h('span', { class: 's-dead_lettered' }, `p99 ${latency(report, 'latency_p99')}`))),
      panel('Queue depth', h('span', { class: 'muted' }, 'largest per minute'), lineChart(minutes, [queue], 'queue-chart', 520),
        h('div', { class: 'legend' }, h('span', { class: 's-queue_depth' }, 'Deliveries pending or in flight')))),
    h('div', { class: 'halves' },
      panel('By source', null, sources.length === 0 ? empty('No source traffic', 'in this period.') : table([
        { title: 'Source', cell: ([name]) => h('a', { href: `#/events?source=${encodeURIComponent(name)}` }, name) },
        { title: 'Received', class: 'num', cell: ([, m]) => num(m.received || 0) },
        { title: 'Rejected', class: 'num', cell: ([, m]) => num((m.sig_failures || 0) + (m.rate_limited || 0)) },
      ], sources)),
      panel('By destination', null, destinations.length === 0 ? empty('No deliveries', 'in this period.') : table([
      { title: 'Destination', cell: ([name]) => destinationLink(name) },
      { title: 'Delivered', class: 'num', cell: ([, m]) => num(m.delivered || 0) },
      { title: 'Failed attempts', class: 'num', cell: ([, m]) => num(m.failed || 0) },
      { title: 'Dead-lettered', class: 'num', cell: ([, m]) => num(m.dead_lettered || 0) },
      { title: 'Success', class: 'num', cell: ([, m]) => pct(successRate(m)) },
      { title: 'p95', class: 'num', cell: ([, m]) => percentile(m, 0.95) },
    ], destinations))));
  mount(status, `Updated ${new Date().toLocaleTimeString()}`);
}

/** Renders the overview and refreshes it every 10 seconds until the page changes. */
export async function render(root, ctx) {
  const range = Number(ctx.params.get('range') || 60);
  const status = h('span', { class: 'muted', 'data-test': 'updated' });
  const rangeSelect = select('range', RANGES, String(range), null);
  rangeSelect.addEventListener('change', () => ctx.navigate('overview', { range: rangeSelect.value }));
  const body = h('div', { class: 'stack', 'data-test': 'overview' });
  const error = h('div');
  mount(root, h('div', { class: 'filters' }, field('Period', rangeSelect), h('div', { class: 'spacer' }), status), error, body);
  const refresh = async () => {
    try {
      await load(body, range, status);
      mount(error);
    } catch (e) {
      if (e.status !== 401) mount(error, errorBox(e));
    }
  };
  await refresh();
  const timer = setInterval(refresh, 10000);
  ctx.onCleanup(() => clearInterval(timer));
}
