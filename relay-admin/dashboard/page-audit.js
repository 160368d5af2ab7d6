// Audit log: who did what to which object, newest first, with each field-level change
// (before → after) as a table. Secrets appear only as [redacted].

import { h, mount, table, badge, empty, errorBox, field, loading } from './ui.js';
import { get } from './api.js';
import { inline } from './json-view.js';
import { ago, dateTime } from './format.js';

function changes(entry) {
  if (entry.changes.length === 0) return h('span', { class: 'muted' }, 'no field changes');
  return h('div', { class: 'nested' }, table([
    { title: 'Field', cell: (c) => h('code', null, c.field) },
    { title: 'Before', cell: (c) => inline(c.before) },
    { title: 'After', cell: (c) => inline(c.after) },
  ], entry.changes, { rowAttrs: () => ({ 'data-test': 'change-row' }) }));
}

function actionBadge(action) {
  const cls = /delete|revoke|discard|disable|sig_failed|locked/.test(action) ? 'bad'
    : /create|enable|replay|rotate/.test(action) ? 'ok' : 'info';
  return h('span', { class: `badge ${cls}` }, action);
}

function rows(items) {
  return table([
    { title: 'When', cell: (e) => h('span', { title: dateTime(e.at) }, ago(e.at)) },
    { title: 'Actor', cell: (e) => h('code', null, e.actor) },
    { title: 'Client', cell: (e) => (e.client ? h('code', null, e.client) : h('span', { class: 'muted' }, '—')) },
    { title: 'Action', cell: (e) => actionBadge(e.action) },
    { title: 'Object', cell: (e) => h('div', null, badge(e.object_kind), ' ', h('code', null, e.object_id)) },
    { title: 'Changes', cell: changes },
  ], items, { rowAttrs: () => ({ 'data-test': 'audit-row' }) });
}

/** Renders the audit log with its object and action filters. */
export async function render(root, ctx) {
  const kind = h('input', { name: 'object_kind', placeholder: 'e.g. api_key, destination', value: ctx.params.get('object_kind') || '' });
  const id = h('input', { name: 'object_id', placeholder: 'name or id', value: ctx.params.get('object_id') || '' });
  const action = h('input', { name: 'action', placeholder: 'e.g. replay, discard', value: ctx.params.get('action') || '', 'data-test': 'filter-action' });
  const list = h('section', { class: 'panel flush' }, loading());
  mount(root,
    h('form', {
      class: 'panel filters',
      onsubmit: (event) => {
        event.preventDefault();
        ctx.navigate('audit', { object_kind: kind.value.trim(), object_id: id.value.trim(), action: action.value.trim() });
      },
    }, field('Object kind', kind), field('Object', id, true), field('Action', action),
    h('button', { type: 'submit', class: 'primary', 'data-test': 'apply-audit-filters' }, 'Filter')),
    list);
  const query = { object_kind: kind.value.trim(), object_id: id.value.trim(), action: action.value.trim(), limit: 50 };
  let page;
  try {
    page = await get('/audit', query);
  } catch (error) {
    mount(list, h('div', { class: 'panel' }, errorBox(error)));
    return;
  }
  if (page.items.length === 0) {
    mount(list, empty('Nothing recorded yet', 'Every change through the API or the CLI is listed here.'));
    return;
  }
  const shown = rows(page.items);
  const more = h('div', { class: 'table-foot' });
  const footer = (p) => mount(more, p.next_cursor
    ? h('button', {
      type: 'button',
      onclick: async () => {
        try {
          const next = await get('/audit', { ...query, cursor: p.next_cursor });
          shown.tBodies[0].append(...rows(next.items).tBodies[0].rows);
          footer(next);
        } catch (error) {
          mount(more, errorBox(error));
        }
      },
    }, 'Load more')
    : h('span', { class: 'muted' }, 'Start of the log'));
  footer(page);
  mount(list, shown, more);
}
