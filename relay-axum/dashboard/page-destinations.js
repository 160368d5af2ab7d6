// Destinations: health (circuit breaker, last hour's deliveries, success rate, p95 latency)
// and enable/disable for operators.

import { h, mount, table, badge, empty, toast, confirmDialog, panel } from './ui.js';
import { get, post, seg } from './api.js';
import { byObject, percentile } from './page-overview.js';
import { num, pct, ms } from './format.js';

const CIRCUIT = { closed: 'Healthy', half_open: 'Probing', open: 'Open (failing)' };

async function toggle(d, ctx) {
  const enable = d.disabled;
  if (!enable) {
    const ok = await confirmDialog({
      title: `Pause ${d.name}?`,
      message: 'Deliveries to it wait in the queue (nothing is dropped) until it is enabled again.',
      confirm: 'Pause deliveries',
      danger: true,
    });
    if (!ok) return;
  }
  try {
    await post(`/destinations/${seg(d.name)}/${enable ? 'enable' : 'disable'}`);
    toast(`${d.name} ${enable ? 'enabled' : 'paused'}.`);
    ctx.rerender();
  } catch (error) {
    toast(error.message, 'bad');
  }
}

/** Renders the destinations with their health. */
export async function render(root, ctx) {
  const hourAgo = new Date(Date.now() - 3600000).toISOString();
  const [items, report] = await Promise.all([
    get('/destinations'),
    get('/metrics/points', { from: hourAgo, scope: 'destination' }).catch(() => ({ points: [] })),
  ]);
  if (items.length === 0) {
    mount(root, h('section', { class: 'panel' }, empty('No destinations', 'Add [[destinations]] to the configuration file.')));
    return;
  }
  const health = byObject(report.points, 'destination');
  const operator = ctx.can('operator');
  mount(root, panel('Destinations', h('span', { class: 'muted' }, 'Traffic of the last hour'), table([
    { title: 'Name', cell: (d) => h('div', null, h('strong', null, d.name), d.managed_by ? h('div', { class: 'muted' }, `managed by ${d.managed_by}`) : null) },
    { title: 'URL', cell: (d) => (d.url ? h('code', null, d.url) : h('span', { class: 'muted' }, 'in-process handler')) },
    { title: 'Circuit', cell: (d) => badge(d.circuit, CIRCUIT[d.circuit] || d.circuit) },
    { title: 'Status', cell: (d) => (d.disabled ? badge('paused', 'Paused') : badge('enabled', 'Enabled')) },
    { title: 'Delivered', class: 'num', cell: (d) => num((health.get(d.name) || {}).delivered || 0) },
    { title: 'Failed', class: 'num', cell: (d) => num((health.get(d.name) || {}).failed || 0) },
    { title: 'Dead', class: 'num', cell: (d) => num((health.get(d.name) || {}).dead_lettered || 0) },
    {
      title: 'Success',
      class: 'num',
      cell: (d) => {
        const m = health.get(d.name) || {};
        return pct((m.delivered || 0) / ((m.delivered || 0) + (m.dead_lettered || 0)));
      },
    },
    { title: 'p95', class: 'num', cell: (d) => ms(percentile(health.get(d.name) || {}, 0.95)) },
    {
      title: '',
      cell: (d) => h('button', {
        type: 'button',
        class: `small${d.disabled ? ' primary' : ''}`,
        'data-test': d.disabled ? 'enable' : 'disable',
        disabled: !operator || undefined,
        title: operator ? undefined : 'Needs the operator role',
        onclick: () => toggle(d, ctx),
      }, d.disabled ? 'Enable' : 'Pause'),
    },
  ], items, { rowAttrs: (d) => ({ 'data-test': 'destination-row', 'data-name': d.name }) })));
}
