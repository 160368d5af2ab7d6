// One event: summary, payload, headers, every delivery with every attempt, and replay.
// While a delivery is pending the page refreshes itself every 3 s.

import { h, mount, table, badge, empty, errorBox, toast, confirmDialog, panel, copyButton } from './ui.js';
import { get, post, seg } from './api.js';
import { jsonView } from './json-view.js';
import { ago, dateTime } from './format.js';
import { attemptView } from './attempt-view.js';
import { deliverySummary } from './page-events.js';
import { destinationLink } from './links.js';

function deliveryCard(d, ctx, reload) {
  const act = async (action) => {
    if (action === 'discard') {
      const ok = await confirmDialog({
        title: 'Discard this dead letter?',
        message: `The delivery to ${d.destination} will be marked discarded for good and never retried.`,
        confirm: 'Discard',
        danger: true,
      });
      if (!ok) return;
    }
    try {
      await post(`/dead-letters/${seg(d.id)}/${action}`);
      toast(action === 'replay' ? `Replayed: back in ${d.destination}'s queue.` : 'Discarded.');
      reload();
    } catch (error) {
      toast(error.message, 'bad');
    }
  };
  const operator = ctx.can('operator');
  return h('div', { class: 'panel', 'data-test': 'delivery', 'data-destination': d.destination, 'data-status': d.status },
    h('div', { class: 'panel-head' },
      h('h2', null, destinationLink(d.destination)), badge(d.status),
      h('span', { class: 'muted' }, `via route ${d.route} · ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`),
      h('div', { class: 'spacer' }),
      d.status === 'dead_lettered' && operator
        ? h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'small', onclick: () => act('replay') }, 'Replay'),
          h('button', { type: 'button', class: 'small danger', onclick: () => act('discard') }, 'Discard'))
        : null),
    h('dl', { class: 'kv' },
      h('dt', null, 'Delivery id'), h('dd', { class: 'mono' }, d.id),
      d.status === 'pending' ? [h('dt', null, 'Next attempt'), h('dd', null, ago(d.next_attempt_at))] : null,
      d.waiting ? [h('dt', null, 'Waiting'), h('dd', { class: 'warn-text', 'data-test': 'waiting' }, d.waiting)] : null,
      d.last_error ? [h('dt', null, 'Last error'), h('dd', null, d.last_error)] : null,
      h('dt', null, 'Updated'), h('dd', null, dateTime(d.updated_at))),
    h('h3', null, 'Attempts'),
    h('div', { class: 'muted' }, 'Click an attempt for the request it sent and the response it got.'),
    attemptView(d.attempt_log));
}

function replayControls(e, ctx, reload) {
  if (!ctx.can('operator')) {
    return h('span', { class: 'muted', title: 'Replaying needs the operator role' }, 'Replay needs the operator role');
  }
  const force = h('input', { type: 'checkbox', name: 'force', 'data-test': 'replay-force' });
  const button = h('button', {
    type: 'button',
    class: 'primary',
    'data-test': 'replay-event',
    onclick: async () => {
      button.disabled = true;
      try {
        const result = await post(`/events/${seg(e.id)}/replay`, { force: force.checked });
        const skipped = result.skipped.length ? `; skipped ${result.skipped.join(', ')} (already delivered)` : '';
        toast(result.scheduled.length
          ? `Replay scheduled to ${result.scheduled.length} destination(s)${skipped}.`
          : `Nothing to replay${skipped}. Tick "force" to send again.`);
        reload();
      } catch (error) {
        toast(error.message, 'bad');
      } finally {
        button.disabled = false;
      }
    },
  }, 'Replay');
  return h('div', { class: 'actions' },
    h('label', { class: 'checkbox', title: 'Also send to destinations that already have it' }, force, 'Force (resend delivered)'),
    button);
}

/** Renders the event named by `ctx.id`. */
export async function render(root, ctx) {
  let timer = null;
  ctx.onCleanup(() => clearTimeout(timer));
  const draw = async () => {
    const e = await get(`/events/${seg(ctx.id)}`);
    const reload = () => { clearTimeout(timer); timer = setTimeout(() => draw().catch((error) => mount(root, errorBox(error))), 500); };
    mount(root,
      h('div', null, h('a', { href: '#/events' }, '← All events')),
      h('section', { class: 'panel', 'data-test': 'event-detail', 'data-state': e.state },
        h('div', { class: 'panel-head' },
          h('h2', null, e.event_type), badge(e.state), h('div', { class: 'spacer' }), replayControls(e, ctx, reload)),
        h('dl', { class: 'kv' },
          h('dt', null, 'Event id'), h('dd', { class: 'copy-row' }, h('code', null, e.id), copyButton(e.id)),
          h('dt', null, 'Source'), h('dd', null, e.source),
          h('dt', null, 'Idempotency key'), h('dd', null, h('code', { 'data-test': 'idempotency-key' }, e.idempotency_key)),
          h('dt', null, 'Received'), h('dd', null, `${dateTime(e.received_at)} (${ago(e.received_at)})`),
          h('dt', null, 'Deliveries'), h('dd', null, deliverySummary(e.counts)))),
      h('div', { class: 'two' },
        panel('Payload', null, e.payload !== undefined
          ? jsonView(e.payload, 'payload')
          : h('pre', { class: 'code', 'data-test': 'payload' }, e.body_text || '')),
        panel('Headers', null, e.headers.length === 0 ? empty('No headers') : table([
          { title: 'Name', cell: (x) => h('code', null, x.name) },
          { title: 'Value', cell: (x) => (x.value === '[redacted]' ? badge('redacted') : h('code', null, x.value)) },
        ], e.headers))),
      h('h2', null, 'Deliveries'),
      e.deliveries.length === 0
        ? h('div', { class: 'panel' }, empty('No deliveries', 'No route matched this event when it arrived.'))
        : e.deliveries.map((d) => deliveryCard(d, ctx, reload)));
    if (e.deliveries.some((d) => d.status === 'pending' || d.status === 'in_flight')) {
      timer = setTimeout(() => draw().catch(() => {}), 3000);
    }
  };
  await draw();
}
