// Destinations: health (circuit breaker, last hour's deliveries, success rate, p95 latency),
// pause and resume for operators; admins create destinations (the signing secret is shown
// once) and delete the ones created here.

import { h, mount, table, badge, empty, toast, confirmDialog, panel, formDialog, secretDialog } from './ui.js';
import { get, post, del, seg } from './api.js';
import { byObject, percentile } from './page-overview.js';
import { num, pct, ms, dateTime } from './format.js';
import { destinationHealth, successRate } from './health.js';
import { destinationLink } from './links.js';

const CIRCUIT = { closed: 'Closed', half_open: 'Half-open', open: 'Open' };

// The circuit's state with the breaker's window: failures of attempts (rate) within the window,
// or, once open, those that opened it, why and since when.
function circuitCell(d, m) {
  const b = d.breaker || {};
  const [state, label] = destinationHealth(d, m);
  const figures = `${num(b.failures || 0)} of ${num(b.attempts || 0)} failed (${num(b.failure_rate_percent || 0)}%)`;
  const since = b.opened_at ? ` · since ${dateTime(b.opened_at)}` : '';
  return h('div', null,
    h('span', { 'data-test': 'health', 'data-health': state }, badge(state, label)),
    h('div', { class: 'muted' }, `circuit ${CIRCUIT[d.circuit] || d.circuit}: `, b.why ? `${b.why}${since}` : `${figures} in the window`));
}

const paused = (d) => !d.enabled;

async function create(ctx) {
  const name = h('input', { name: 'name', required: true, placeholder: 'e.g. billing-service' });
  const url = h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://…' });
  const timeout = h('input', { name: 'timeout_ms', type: 'number', min: 100, placeholder: '10000' });
  const attempts = h('input', { name: 'max_attempts', type: 'number', min: 1, placeholder: '8' });
  const answer = await formDialog({
    title: 'New destination',
    intro: 'Deliveries are signed with Standard Webhooks headers; the secret is generated and shown once.',
    fields: [['Name', name], ['URL', url], ['Timeout (ms)', timeout], ['Attempts before dead-lettering', attempts]],
    confirm: 'Create destination',
    testId: 'destination-dialog',
    submit: () => post('/destinations', {
      name: name.value.trim(),
      url: url.value.trim(),
      ...(timeout.value ? { timeout_ms: Number(timeout.value) } : {}),
      ...(attempts.value ? { retry: { max_attempts: Number(attempts.value) } } : {}),
    }),
  });
  if (!answer) return;
  await secretDialog(`Destination ${answer.destination.name} created`,
    'Give the receiver this secret to verify the webhook-signature header. It is shown only once.',
    answer.signing_secret);
  ctx.rerender();
}

async function remove(d, ctx) {
  const ok = await confirmDialog({
    title: `Delete ${d.name}?`,
    message: 'Routes must not send to it any more. Its delivery history stays.',
    confirm: 'Delete destination',
    danger: true,
  });
  if (!ok) return;
  try {
    await del(`/destinations/${seg(d.name)}`);
    toast(`${d.name} deleted.`);
    ctx.rerender();
  } catch (error) {
    toast(error.message, 'bad');
  }
}

async function toggle(d, ctx) {
  const enable = paused(d);
  if (!enable) {
    const ok = await confirmDialog({
      title: `Disable ${d.name}?`,
      message: 'Deliveries to it wait in the queue (nothing is dropped) until it is enabled again.',
      confirm: 'Disable',
      danger: true,
    });
    if (!ok) return;
  }
  try {
    await post(`/destinations/${seg(d.name)}/${enable ? 'enable' : 'disable'}`);
    toast(`${d.name} ${enable ? 'enabled' : 'disabled'}.`);
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
  const add = ctx.can('admin')
    ? h('button', { type: 'button', class: 'primary', 'data-test': 'new-destination', onclick: () => create(ctx) }, 'New destination')
    : null;
  const head = h('div', { class: 'actions' }, h('span', { class: 'muted' }, 'Traffic of the last hour'), add);
  if (items.length === 0) {
    mount(root, panel('Destinations', head, empty('No destinations yet', 'Create one, or add [[destinations]] to the configuration file.')));
    return;
  }
  const health = byObject(report.points, 'destination');
  const operator = ctx.can('operator');
  mount(root, panel('Destinations', head, table([
    {
      title: 'Name',
      cell: (d) => h('div', null, destinationLink(d.name),
        h('div', { class: 'muted' }, `${d.managed_by === 'api' ? 'created here' : 'config file'}${d.signed ? ' · signed' : ''}`)),
    },
    { title: 'URL', cell: (d) => (d.url ? h('code', null, d.url) : h('span', { class: 'muted' }, 'in-process handler')) },
    { title: 'Health', cell: (d) => circuitCell(d, health.get(d.name) || {}) },
    { title: 'Status', cell: (d) => (paused(d) ? badge('paused', `Disabled${(d.disabled ? ` by ${d.disabled.by}${d.disabled.reason ? ` (${d.disabled.reason})` : ''}, ${dateTime(d.disabled.at)}` : '')}`) : badge('enabled', 'Enabled')) },
    { title: 'Delivered', class: 'num', cell: (d) => num((health.get(d.name) || {}).delivered || 0) },
    { title: 'Failed', class: 'num', cell: (d) => num((health.get(d.name) || {}).failed || 0) },
    { title: 'Dead', class: 'num', cell: (d) => num((health.get(d.name) || {}).dead_lettered || 0) },
    {
      title: 'Success',
      class: 'num',
      cell: (d) => {
        return pct(successRate(health.get(d.name) || {}));
      },
    },
    { title: 'p95', class: 'num', cell: (d) => percentile(health.get(d.name) || {}, 0.95) },
    {
      title: '',
      cell: (d) => h('div', { class: 'actions' },
        h('button', {
          type: 'button',
          class: `small${paused(d) ? ' primary' : ''}`,
          'data-test': paused(d) ? 'enable' : 'disable',
          disabled: !operator || undefined,
          title: operator ? undefined : 'Needs the operator role',
          onclick: () => toggle(d, ctx),
        }, paused(d) ? 'Enable' : 'Disable'),
        ctx.can('admin') && d.managed_by === 'api'
          ? h('button', { type: 'button', class: 'small danger', onclick: () => remove(d, ctx) }, 'Delete')
          : null),
    },
  ], items, { rowAttrs: (d) => ({ 'data-test': 'destination-row', 'data-name': d.name }) })));
}
