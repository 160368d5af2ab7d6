// Events: find one by its id, a delivery's id or its idempotency key; filter by source, type
// (a glob such as order.*), state, destination, response status and time; page by cursor. The
// filters live in the hash (#/events?q=…&state=…), so a filtered view can be shared. The list
// is live: every few seconds it asks for newer events and offers "N new" to show them.

import { h, mount, table, badge, empty, errorBox, field, select, loading } from './ui.js';
import { get } from './api.js';
import { ago, dateTime, shortId, fromLocalInput, toLocalInput } from './format.js';

const STATES = [['pending', 'Pending'], ['delivered', 'Delivered'], ['dead_lettered', 'Dead-lettered'], ['no_route', 'No route']];
const FILTERS = ['q', 'source', 'event_type', 'state', 'destination', 'status', 'since', 'until'];
/** How often the list asks for newer events. */
const LIVE_MS = 3000;

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
  const [sources, destinations] = await Promise.all([
    get('/sources').catch(() => []), get('/destinations').catch(() => [])]);
  const q = h('input', { name: 'q', type: 'search', placeholder: 'Event id, delivery id or idempotency key…', value: current.q, 'data-test': 'search' });
  const source = select('source', sources.map((x) => x.name), current.source);
  const type = h('input', { name: 'event_type', placeholder: 'e.g. order.*', value: current.event_type, 'data-test': 'filter-type' });
  const state = select('state', STATES, current.state);
  const destination = select('destination', destinations.map((x) => x.name), current.destination);
  destination.dataset.test = 'filter-destination';
  const status = h('input', { name: 'status', type: 'number', min: 100, max: 599, placeholder: 'e.g. 503', value: current.status, 'data-test': 'filter-status' });
  const since = h('input', { name: 'since', type: 'datetime-local', value: toLocalInput(current.since) });
  const until = h('input', { name: 'until', type: 'datetime-local', value: toLocalInput(current.until) });
  const apply = (event) => {
    event.preventDefault();
    ctx.navigate('events', {
      q: q.value.trim(), source: source.value, event_type: type.value.trim(), state: state.value,
      destination: destination.value, status: status.value.trim(),
      since: fromLocalInput(since.value), until: fromLocalInput(until.value),
    });
  };
  const filtered = FILTERS.some((k) => current[k]);
  const live = h('div', { class: 'live', 'data-test': 'live' });
  const hash = location.hash;
  const list = h('section', { class: 'panel flush', 'data-test': 'event-list' }, loading());
  mount(root,
    h('form', { class: 'panel filters', onsubmit: apply },
      field('Search', q, true), field('Source', source), field('Event type', type), field('State', state),
      field('Destination', destination), field('Response status', status),
      field('Since', since), field('Until', until),
      h('button', { type: 'submit', class: 'primary', 'data-test': 'apply-filters' }, 'Search'),
      filtered ? h('button', { type: 'button', onclick: () => ctx.navigate('events') }, 'Clear') : null),
    live, list);

  const query = { ...current, limit: Number(ctx.params.get('limit')) || 50 };
  let page;
  try {
    page = await get('/events', query);
  } catch (error) {
    mount(list, h('div', { class: 'panel' }, errorBox(error)));
    return;
  }
  if (!current.until) watch(live, query, page.items[0] && page.items[0].id, ctx);
  // Tells tests (and anything watching) which view the list shows once it has loaded.
  const loaded = () => list.setAttribute('data-loaded', hash);
  if (page.items.length === 0) {
    const ingest = sources[0] ? `${location.origin}${sources[0].ingest_path}` : `${location.origin}/webhooks/<source>`;
    mount(list, filtered
      ? empty('No events match these filters.', h('button', { type: 'button', class: 'link', onclick: () => ctx.navigate('events') }, 'Clear the filters'))
      : empty('No events yet', 'Send one to ', h('code', null, ingest), '.'));
    loaded();
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
  loaded();
}

/**
 * Asks for events newer than `newest` every few seconds (with the same filters) and shows
 * "N new" in `live`; clicking it shows them. Ids are time-ordered, so newer means greater.
 */
export function watch(live, query, newest, ctx) {
  let busy = false;
  const poll = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const latest = await get('/events', { ...query, limit: 50 });
      const fresh = latest.items.filter((e) => !newest || e.id > newest).length;
      mount(live, fresh ? h('button', {
        type: 'button', class: 'primary small', 'data-test': 'new-events', onclick: () => ctx.rerender(),
      }, `${fresh}${fresh === latest.items.length && latest.next_cursor ? '+' : ''} new — show`) : null);
    } catch {
      // The next poll tries again; the list itself still shows what it had.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(poll, LIVE_MS);
  ctx.onCleanup(() => clearInterval(timer));
}
