// Routes: which source and event types go where, through which conditions and transformer.

import { h, mount, table, badge, empty, panel } from './ui.js';
import { get } from './api.js';
import { inline } from './json-view.js';

function conditions(route) {
  if (!Array.isArray(route.conditions) || route.conditions.length === 0) {
    return h('span', { class: 'muted' }, 'none');
  }
  return h('div', null, route.conditions.map((c) => h('div', null,
    h('code', null, c.path), ' ', h('strong', null, c.op), ' ', c.value === undefined ? null : inline(c.value))));
}

/** Renders the routes. */
export async function render(root) {
  const items = await get('/routes');
  if (items.length === 0) {
    mount(root, h('section', { class: 'panel' }, empty('No routes', 'Without a route, events are stored but go nowhere.')));
    return;
  }
  mount(root, panel('Routes', h('span', { class: 'muted' }, 'Higher priority first'), table([
    { title: 'Name', cell: (r) => h('strong', null, r.name) },
    { title: 'Source', cell: (r) => r.source || h('span', { class: 'muted' }, 'any') },
    {
      title: 'Event types',
      cell: (r) => (Array.isArray(r.event_types) && r.event_types.length
        ? r.event_types.map((t) => h('code', null, t, ' '))
        : h('span', { class: 'muted' }, 'all')),
    },
    { title: 'Conditions', cell: conditions },
    { title: 'Transformer', cell: (r) => r.transformer || h('span', { class: 'muted' }, 'identity') },
    { title: 'Destinations', cell: (r) => r.destinations.join(', ') },
    { title: 'Priority', class: 'num', cell: (r) => r.priority },
    { title: 'Status', cell: (r) => ((r.enabled ?? r.active) ? badge('active', 'Active') : badge('disabled', 'Inactive')) },
  ], items, { rowAttrs: (r) => ({ 'data-test': 'route-row', 'data-name': r.name }) })));
}
