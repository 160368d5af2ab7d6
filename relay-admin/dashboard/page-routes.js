// Routes: which source and event types go where, through which conditions and transformer.
// Operators pause and resume them, admins create and delete them, and anyone can try a route
// on a sample payload: condition by condition, with the body each destination would get.

import { h, mount, table, badge, empty, panel, field, select, toast, confirmDialog, formDialog, errorBox } from './ui.js';
import { get, post, del, seg } from './api.js';
import { inline, jsonView } from './json-view.js';
import { destinationLink } from './links.js';

const SAMPLE = { type: 'order.created', order: { id: 1234, total: 99.5, currency: 'EUR' } };

function conditions(route) {
  if (route.conditions.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('div', null, route.conditions.map((c) => h('div', null,
    h('code', null, c.path), ' ', h('strong', null, c.op), ' ', c.value === undefined ? null : inline(c.value))));
}

/** Parses "$.path op value" lines; the value is JSON when it parses, else text. */
export function parseConditions(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const [path, op, ...rest] = line.split(/\s+/);
    const raw = rest.join(' ');
    if (!raw) return { path, op };
    try {
      return { path, op, value: JSON.parse(raw) };
    } catch {
      return { path, op, value: raw };
    }
  });
}

async function create(ctx, sources, destinations, transformers) {
  const name = h('input', { name: 'name', required: true });
  const source = select('source', sources.map((x) => x.name), '', 'Any source');
  const types = h('input', { name: 'event_types', placeholder: '* (all), or e.g. push, payment.*' });
  const boxes = destinations.map((d) => h('input', { type: 'checkbox', value: d.name }));
  const conditionsText = h('textarea', { name: 'conditions', placeholder: '$.order.total gte 10\n$.ref eq "refs/heads/main"' });
  const transformer = select('transformer', transformers, '', 'None (body as received)');
  const priority = h('input', { name: 'priority', type: 'number', value: '0' });
  const answer = await formDialog({
    title: 'New route',
    fields: [
      ['Name', name], ['Source', source], ['Event types (comma-separated globs)', types],
      h('div', { class: 'field' }, 'Destinations', h('div', { class: 'actions' },
        boxes.map((b) => h('label', { class: 'checkbox' }, b, b.value)))),
      ['Conditions, one per line: path op value', conditionsText], ['Transformer', transformer], ['Priority', priority],
    ],
    confirm: 'Create route',
    testId: 'route-dialog',
    submit: () => post('/routes', {
      name: name.value.trim(),
      ...(source.value ? { source: source.value } : {}),
      event_types: types.value.split(',').map((t) => t.trim()).filter(Boolean).concat(types.value.trim() ? [] : ['*']),
      destinations: boxes.filter((b) => b.checked).map((b) => b.value),
      conditions: parseConditions(conditionsText.value),
      ...(transformer.value ? { transformer: transformer.value } : {}),
      priority: Number(priority.value || 0),
    }),
  });
  if (answer) {
    toast(`Route ${answer.name} created.`);
    ctx.rerender();
  }
}

async function act(route, ctx, action) {
  if (action !== 'enable') {
    const ok = await confirmDialog({
      title: `${action === 'delete' ? 'Delete' : 'Disable'} ${route.name}?`,
      message: 'New events stop matching it; deliveries already planned go on.',
      confirm: action === 'delete' ? 'Delete' : 'Disable',
      danger: true,
    });
    if (!ok) return;
  }
  try {
    if (action === 'delete') await del(`/routes/${seg(route.name)}`);
    else await post(`/routes/${seg(route.name)}/${action}`);
    toast(`${route.name}: ${action}d.`);
    ctx.rerender();
  } catch (error) {
    toast(error.message, 'bad');
  }
}

function check(label, ok) {
  return h('span', { class: ok ? 'pass' : 'fail' }, `${ok ? '✓' : '✗'} ${label}`);
}

function result(answer) {
  const body = (text) => {
    try {
      return jsonView(JSON.parse(text), 'test-body');
    } catch {
      return h('pre', { class: 'code', 'data-test': 'test-body' }, text);
    }
  };
  return h('div', { class: 'stack', 'data-test': 'test-result', 'data-matched': String(answer.matched) },
    h('div', { class: 'actions' },
      answer.matched ? badge('delivered', 'Matches') : badge('dead_lettered', 'Does not match'),
      check('active', answer.active), check('source', answer.source_matches), check('event type', answer.event_type_matches)),
    answer.conditions.length === 0 ? null : table([
      { title: 'Condition', cell: (c) => h('span', null, h('code', null, c.path), ' ', h('strong', null, c.op), ' ', c.value === undefined ? null : inline(c.value)) },
      { title: 'Result', cell: (c) => check(c.passed ? 'holds' : 'fails', c.passed) },
    ], answer.conditions, { class: 'nested', rowAttrs: (c) => ({ 'data-test': 'condition-row', 'data-passed': String(c.passed) }) }),
    answer.deliveries.map((d) => h('div', { class: 'result', 'data-test': 'test-delivery', 'data-delivered-by': d.delivered_by || undefined },
      h('h3', null, d.delivered_by ? `Would be sent to ${d.destination} — but it gets route ${d.delivered_by}'s delivery` : `Sent to ${d.destination}`),
      d.delivered_by
        ? h('div', { class: 'notice', 'data-test': 'claimed-by' },
          `Route ${d.delivered_by} also matches and has a higher priority: an event gets one delivery per destination, so ${d.destination} receives ${d.delivered_by}'s delivery (its transformer), not this body.`)
        : null,
      d.error ? errorBox(new Error(`The transformer refuses this sample: ${d.error}`)) : body(d.body || ''),
      Object.keys(d.headers).length ? h('div', { class: 'muted' }, Object.entries(d.headers).map(([k, v]) => `${k}: ${v}`).join(' · ')) : null)));
}

function tester(items, sources) {
  const route = select('route', items.map((r) => r.name), items[0].name, null);
  const source = select('source', sources.map((x) => x.name), '', "The route's source");
  const type = h('input', { name: 'event_type', value: SAMPLE.type, required: true });
  const payload = h('textarea', { name: 'payload', 'data-test': 'test-payload' });
  payload.value = JSON.stringify(SAMPLE, null, 2);
  const out = h('div');
  const run = async (event) => {
    event.preventDefault();
    let parsed;
    try {
      parsed = JSON.parse(payload.value);
    } catch (error) {
      mount(out, errorBox(new Error(`The payload is not JSON: ${error.message}`)));
      return;
    }
    try {
      const answer = await post(`/routes/${seg(route.value)}/test`, {
        event_type: type.value.trim(), payload: parsed, ...(source.value ? { source: source.value } : {}),
      });
      mount(out, result(answer));
    } catch (error) {
      mount(out, errorBox(error));
    }
  };
  return panel('Test a route', h('span', { class: 'muted' }, 'Nothing is stored or delivered'),
    h('form', { class: 'stack', onsubmit: run, 'data-test': 'route-test' },
      h('div', { class: 'filters' }, field('Route', route), field('Source', source), field('Event type', type, true)),
      field('Sample payload (JSON)', payload),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-test': 'run-test' }, 'Try it'))),
    out);
}

/** Renders the routes and the route tester. */
export async function render(root, ctx) {
  const [items, sources, destinations, transformers] = await Promise.all([
    get('/routes'), get('/sources'), get('/destinations'), get('/transformers').catch(() => []),
  ]);
  const add = ctx.can('admin')
    ? h('button', { type: 'button', class: 'primary', 'data-test': 'new-route', onclick: () => create(ctx, sources, destinations, transformers) }, 'New route')
    : null;
  if (items.length === 0) {
    mount(root, panel('Routes', add, empty('No routes yet', 'Without a route, events are stored but go nowhere.')));
    return;
  }
  const buttons = (r) => h('div', { class: 'actions' },
    ctx.can('operator')
      ? h('button', { type: 'button', class: 'small', onclick: () => act(r, ctx, r.active ? 'disable' : 'enable') }, r.active ? 'Disable' : 'Enable')
      : null,
    ctx.can('admin') && r.managed_by === 'api'
      ? h('button', { type: 'button', class: 'small danger', onclick: () => act(r, ctx, 'delete') }, 'Delete')
      : null);
  mount(root, panel('Routes', add, table([
    { title: 'Name', cell: (r) => h('div', null, h('strong', null, r.name), h('div', { class: 'muted' }, r.managed_by === 'api' ? 'created here' : 'config file')) },
    { title: 'Source', cell: (r) => r.source || h('span', { class: 'muted' }, 'any') },
    { title: 'Event types', cell: (r) => r.event_types.map((t) => h('div', null, h('code', null, t))) },
    { title: 'Conditions', cell: conditions },
    { title: 'Transformer', cell: (r) => r.transformer || h('span', { class: 'muted' }, 'none') },
    { title: 'Destinations', cell: (r) => h('span', null, r.destinations.flatMap((n, i) => [i ? ', ' : null, destinationLink(n)])) },
    { title: 'Priority', class: 'num', cell: (r) => r.priority },
    { title: 'Status', cell: (r) => (r.active ? badge('active', 'Active') : badge('paused', `Disabled${(r.disabled ? ` by ${r.disabled.by}${r.disabled.reason ? ` (${r.disabled.reason})` : ''}` : '')}`)) },
    { title: '', cell: buttons },
  ], items, { rowAttrs: (r) => ({ 'data-test': 'route-row', 'data-name': r.name }) })),
  tester(items, sources));
}
