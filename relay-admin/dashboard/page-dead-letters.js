// Dead letters, newest first, with their source and event type: replay or discard one from its
// row, the selection one by one with a progress bar, or everything matching the filter in one
// bulk call. Discarding asks first.

import { h, mount, table, empty, errorBox, field, select, toast, confirmDialog, loading } from './ui.js';
import { get, post, seg } from './api.js';
import { ago, dateTime, shortId } from './format.js';
import { destinationLink, eventLink } from './links.js';

// How many dead letters the page loads (newest first) before asking for a narrower filter.
const MAX_SHOWN = 1000;

// The outcome of the last bulk run, shown again after the list reloads.
let lastRun = null;

/** Renders the dead-letter list with its filters and bulk actions. */
export async function render(root, ctx) {
  const current = { destination: ctx.params.get('destination') || '', source: ctx.params.get('source') || '' };
  const [sources, destinations] = await Promise.all([
    get('/sources').catch(() => []),
    get('/destinations').catch(() => []),
  ]);
  const destination = select('destination', destinations.map((d) => d.name), current.destination);
  const source = select('source', sources.map((x) => x.name), current.source);
  const list = h('section', { class: 'panel flush' }, loading());
  const progress = h('div', { class: 'actions', 'data-test': 'progress' });
  const selected = new Set();
  const operator = ctx.can('operator');
  const selectedButtons = [];
  const button = (label, attrs, onclick) => {
    const b = h('button', { type: 'button', ...attrs, onclick, disabled: !operator || undefined }, label);
    if (!operator) b.title = 'Needs the operator role';
    return b;
  };
  const refreshSelection = () => {
    for (const b of selectedButtons) {
      b.disabled = !operator || selected.size === 0;
      b.textContent = `${b.dataset.label} (${selected.size})`;
    }
  };
  const pageSize = Number(ctx.params.get('limit')) || 200;
  const filter = Object.fromEntries(Object.entries(current).filter(([, v]) => v));

  const runSelected = async (action) => {
    const ids = [...selected];
    if (action === 'discard') {
      const ok = await confirmDialog({
        title: `Discard ${ids.length} dead letter(s)?`,
        message: 'Discarded deliveries are kept for the record but never retried. This cannot be undone.',
        confirm: 'Discard',
        danger: true,
      });
      if (!ok) return;
    }
    const bar = h('div');
    const label = h('span', { 'data-test': 'progress-label' });
    mount(progress, h('div', { class: 'progress' }, bar), label);
    let done = 0;
    let failed = 0;
    for (const id of ids) {
      try {
        await post(`/dead-letters/${seg(id)}/${action}`);
      } catch (error) {
        failed += 1;
        if (error.status === 401) return;
      }
      done += 1;
      bar.style.width = `${(100 * done) / ids.length}%`;
      mount(label, `${action === 'replay' ? 'Replayed' : 'Discarded'} ${done - failed} of ${ids.length}${failed ? ` (${failed} failed)` : ''}`);
    }
    lastRun = label.textContent;
    ctx.rerender();
  };
  const runAll = async (action) => {
    const scope = Object.keys(filter).length ? 'matching the filter' : 'in the list';
    const ok = await confirmDialog({
      title: `${action === 'replay' ? 'Replay' : 'Discard'} every dead letter ${scope}?`,
      message: action === 'replay'
        ? 'Each goes back to its destination\'s queue with a fresh retry budget.'
        : 'They will never be retried. This cannot be undone.',
      confirm: action === 'replay' ? 'Replay all' : 'Discard all',
      danger: action === 'discard',
    });
    if (!ok) return;
    try {
      const { count } = await post(`/dead-letters/${action}`, filter);
      toast(`${action === 'replay' ? 'Replayed' : 'Discarded'} ${count} dead letter(s).`);
      ctx.rerender();
    } catch (error) {
      toast(error.message, 'bad');
    }
  };
  const replaySelected = button('Replay selected (0)', { class: 'primary', 'data-test': 'replay-selected', dataset: { label: 'Replay selected' } }, () => runSelected('replay'));
  const discardSelected = button('Discard selected (0)', { class: 'danger', 'data-test': 'discard-selected', dataset: { label: 'Discard selected' } }, () => runSelected('discard'));
  selectedButtons.push(replaySelected, discardSelected);

  mount(root,
    h('form', {
      class: 'panel filters',
      onsubmit: (event) => {
        event.preventDefault();
        ctx.navigate('dead-letters', { destination: destination.value, source: source.value });
      },
    },
    field('Destination', destination), field('Source', source),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'),
    h('div', { class: 'spacer' }),
    button('Replay all', { 'data-test': 'replay-all' }, () => runAll('replay')),
    button('Discard all', { class: 'danger', 'data-test': 'discard-all' }, () => runAll('discard'))),
    h('div', { class: 'actions' }, replaySelected, discardSelected, progress),
    list);
  refreshSelection();
  if (lastRun) {
    const bar = h('div');
    bar.style.width = '100%';
    mount(progress, h('div', { class: 'progress' }, bar), h('span', { 'data-test': 'progress-label' }, lastRun));
    lastRun = null;
  }

  // Every dead letter up to MAX_SHOWN, newest first (the API pages by delivery id).
  const items = [];
  let cursor = null;
  try {
    do {
      const page = await get('/dead-letters', { ...filter, limit: pageSize, ...(cursor ? { cursor } : {}) });
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && items.length < MAX_SHOWN);
  } catch (error) {
    mount(list, h('div', { class: 'panel' }, errorBox(error)));
    return;
  }
  if (items.length === 0) {
    mount(list, empty('No dead letters', 'Deliveries that exhaust their retries land here.'));
    return;
  }
  items.sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0));
  const boxes = [];
  const all = h('input', {
    type: 'checkbox',
    'aria-label': 'Select all',
    'data-test': 'select-all',
    disabled: !operator || undefined,
    onchange: () => {
      for (const box of boxes) {
        box.checked = all.checked;
        if (all.checked) selected.add(box.value);
        else selected.delete(box.value);
      }
      refreshSelection();
    },
  });
  const check = (d) => {
    const box = h('input', {
      type: 'checkbox', value: d.id, 'aria-label': `Select ${d.id}`, disabled: !operator || undefined,
      onchange: () => {
        if (box.checked) selected.add(d.id);
        else selected.delete(d.id);
        refreshSelection();
      },
    });
    boxes.push(box);
    return box;
  };
  const one = async (d, action) => {
    if (action === 'discard') {
      const ok = await confirmDialog({
        title: 'Discard this dead letter?',
        message: `The delivery to ${d.destination} will never be retried. This cannot be undone.`,
        confirm: 'Discard',
        danger: true,
      });
      if (!ok) return;
    }
    try {
      await post(`/dead-letters/${seg(d.id)}/${action}`);
      toast(action === 'replay' ? `Replayed: back in ${d.destination}'s queue.` : 'Discarded.');
      ctx.rerender();
    } catch (error) {
      toast(error.message, 'bad');
    }
  };
  const columns = [
    { title: all, class: 'check', cell: check },
    { title: 'Dead since', cell: (d) => h('span', { title: dateTime(d.updated_at), 'data-test': 'dead-since', 'data-at': d.updated_at }, ago(d.updated_at)) },
    { title: 'Source', cell: (d) => d.source || h('span', { class: 'muted' }, '—') },
    { title: 'Event type', cell: (d) => (d.event_type ? h('code', null, d.event_type) : h('span', { class: 'muted' }, '—')) },
    { title: 'Destination', cell: (d) => destinationLink(d.destination) },
    { title: 'Event', cell: (d) => eventLink(d.event_id, shortId(d.event_id)) },
    { title: 'Attempts', class: 'num', cell: (d) => d.attempts },
    { title: 'Last error', cell: (d) => d.last_error || h('span', { class: 'muted' }, '—') },
    {
      title: '',
      cell: (d) => h('div', { class: 'actions' },
        button('Replay', { class: 'small primary', 'data-test': 'replay-one' }, () => one(d, 'replay')),
        button('Discard', { class: 'small danger', 'data-test': 'discard-one' }, () => one(d, 'discard'))),
    },
  ];
  const shown = table(columns, items, {
    rowAttrs: (d) => ({ 'data-test': 'dead-letter-row', 'data-id': d.id, 'data-event': d.event_id }),
  });
  const more = h('div', { class: 'table-foot' }, cursor
    ? h('span', { class: 'muted', 'data-test': 'more-dead-letters' }, `Showing ${items.length} dead letters, newest first; more exist: narrow the list with the filters.`)
    : h('span', { class: 'muted' }, `${items.length} dead letter(s), newest first`));
  mount(list, shown, more);
}
