// Events: search by idempotency key, filter by source, type, state and time, page by cursor.
// The filters live in the hash (#/events?q=…&state=…), so a filtered view can be shared.

import { h, mount, table, badge, empty, errorBox, field, select, loading } from './ui.js';
import { get } from './api.js';
import { ago, dateTime, shortId, fromLocalInput, toLocalInput } from './format.js';

const STATES = [['pending', 'Pending'], ['delivered', 'Delivered'], ['dead_lettered', 'Dead-lettered'], ['no_route', 'No route']];
const FILTERS = ['q', 'source', 'event_type', 'state', 'since', 'until'];

/** "2 delivered · 1 dead" for an event's delivery counts. */
export function deliverySummary(c) {
  const parts = [];
  if (c.delivered) parts.push(`${c.delivered} delivered`);
  if (c.pending || c.in_flight) parts.push(`${c.pending + c.in_flight} pending`);
  if (c.dead_lettered) parts.push(`${c.dead_lettered} dead`);
  if (c.discarded) parts.push(`${c.discarded} discarded`);
  return parts.length ? parts.join(' · ') : 'none';
}

function eventsTable(items, ctx) {
  return table([
    { title: 'Received', cell: (e) => h('span', { title: dateTime(e.received_at) }, ago(e.received_at)) },
    { title: 'Type', cell: (e) => h('div', null, h('strong', null, e.event_type), h('div', { class: 'muted mono' }, shortId(e.id))) },
    { title: 'Source', cell: (e) => e.source },
    { title: 'Idempotency key', cell: (e) => h('code', null, e.idempotency_key) },
    { title: 'State', cell: (e) => badge(e.state) },
    { title: 'Deliveries', cell: (e) => h('span', { class: 'muted' }, deliverySummary(e.counts)) },
  ], items, {
    onRow: (e) => ctx.navigate(`events/${encodeURIComponent(e.id)}`),
    rowAttrs: (e) => ({ 'data-test': 'event-row', 'data-id': e.id }),
  });
}

/** Renders the event list with its filter bar. */
export async function render(root, ctx) {
  const current = Object.fromEntries(FILTERS.map((k) => [k, ctx.params.get(k) || '']));
  const sources = await get('/sources').catch(() => []);
  const q = h('input', { name: 'q', type: 'search', placeholder: 'Search idempotency keys…', value: current.q, 'data-test': 'search' });
  const source = select('source', sources.map((x) => x.name), current.source);
  const type = h('input', { name: 'event_type', placeholder: 'e.g. push', value: current.event_type });
  const state = select('state', STATES, current.state);
  const since = h('input', { name: 'since', type: 'datetime-local', value: toLocalInput(current.since) });
  const until = h('input', { name: 'until', type: 'datetime-local', value: toLocalInput(current.until) });
  const apply = (event) => {
    event.preventDefault();
    ctx.navigate('events', {
      q: q.value.trim(), source: source.value, event_type: type.value.trim(), state: state.value,
      since: fromLocalInput(since.value), until: fromLocalInput(until.value),
    });
  };
  const filtered = FILTERS.some((k) => current[k]);
  const list = h('section', { class: 'panel flush' }, loading());
  mount(root,
    h('form', { class: 'panel filters', onsubmit: apply },
      field('Search', q, true), field('Source', source), field('Event type', type), field('State', state),
      field('Since', since), field('Until', until),
      h('button', { type: 'submit', class: 'primary', 'data-test': 'apply-filters' }, 'Search'),
      filtered ? h('button', { type: 'button', onclick: () => ctx.navigate('events') }, 'Clear') : null),
    list);

  const query = { ...current, limit: Number(ctx.params.get('limit')) || 50 };
  let page;
  try {
    page = await get('/events', query);
  } catch (error) {
    mount(list, h('div', { class: 'panel' }, errorBox(error)));
    return;
  }
  if (page.items.length === 0) {
    const ingest = sources[0] ? `${location.origin}${sources[0].ingest_path}` : `${location.origin}/webhooks/<source>`;
    mount(list, filtered
      ? empty('No events match these filters.', h('button', { type: 'button', class: 'link', onclick: () => ctx.navigate('events') }, 'Clear the filters'))
      : empty('No events yet', 'Send one to ', h('code', null, ingest), '.'));
    return;
  }
  const rows = h('div');
  const more = h('div', { class: 'table-foot' });
  let shown = null;
  const show = (p) => {
    const part = eventsTable(p.items, ctx);
    if (shown) shown.tBodies[0].append(...part.tBodies[0].rows);
    else rows.append((shown = part));
    mount(more, p.next_cursor
      ? h('button', {
        type: 'button',
        onclick: async () => {
          more.querySelector('button').disabled = true;
          try {
            show(await get('/events', { ...query, cursor: p.next_cursor }));
          } catch (error) {
            mount(more, errorBox(error));
          }
        },
        'data-test': 'load-more',
      }, 'Load more')
      : h('span', { class: 'muted' }, 'End of the list'));
  };
  mount(list, rows, more);
  show(page);
}
