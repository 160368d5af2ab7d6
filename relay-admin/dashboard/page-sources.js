// Sources: the URL to paste into each provider, limits and secrets (never their values).
// Admins create sources and rotate secrets (the new one is shown once; the old ones keep
// verifying for an overlap window); operators enable and disable them. Sources from the
// configuration file are read-only here, except enable/disable. Below them, the latest
// refused signatures (source, reason, client address, request id): what an operator needs
// when a provider "suddenly" fails.

import {
  h, mount, table, badge, empty, toast, panel, copyButton, confirmDialog, secretDialog, formDialog, select,
} from './ui.js';
import { get, post, del, seg } from './api.js';
import { num, bytes, seconds, dateTime, ago } from './format.js';

const SCHEMES = ['github', 'stripe', 'standard_webhooks', 'svix', 'shopify', 'slack', 'generic_hmac', 'none'];
const OVERLAPS = [['86400', '24 hours'], ['3600', '1 hour'], ['604800', '7 days'], ['0', 'None: retire them now']];

const ingestUrl = (x) => `${location.origin}${x.ingest_path}`;

async function rotate(src, ctx) {
  const overlap = select('overlap_secs', OVERLAPS, '86400', null);
  const answer = await formDialog({
    title: `Rotate the secret of ${src.name}`,
    intro: 'A new signing secret is generated. The current ones keep verifying during the overlap, so the provider can be switched without failed deliveries.',
    fields: [['Keep the current secrets for', overlap]],
    confirm: 'Rotate secret',
    testId: 'rotate-dialog',
    submit: () => post(`/sources/${seg(src.name)}/rotate-secret`, { overlap_secs: Number(overlap.value) }),
  });
  if (!answer) return;
  await secretDialog(`New secret for ${src.name}`,
    'Paste it into the provider\'s webhook settings now: it is shown only once.', answer.secret);
  ctx.rerender();
}

async function create(ctx) {
  const name = h('input', { name: 'name', required: true, pattern: '[A-Za-z0-9_.\\-]+', placeholder: 'e.g. github' });
  const scheme = select('scheme', SCHEMES, 'github', null);
  const perMinute = h('input', { name: 'per_minute', type: 'number', min: 1, placeholder: 'unlimited' });
  const eventType = h('input', { name: 'event_type', placeholder: 'scheme default, or header:X-Event or $.type' });
  const answer = await formDialog({
    title: 'New source',
    intro: 'Providers post to /webhooks/<name>. A signing secret is generated unless the scheme is "none".',
    fields: [['Name', name], ['Signature scheme', scheme], ['Rate limit (events per minute)', perMinute], ['Event type from', eventType]],
    confirm: 'Create source',
    testId: 'source-dialog',
    submit: () => post('/sources', {
      name: name.value.trim(),
      scheme: scheme.value,
      ...(perMinute.value ? { rate_limit: { per_minute: Number(perMinute.value) } } : {}),
      ...(eventType.value.trim() ? { event_type: eventType.value.trim() } : {}),
    }),
  });
  if (!answer) return;
  if (answer.secrets.length) {
    await secretDialog(`Source ${answer.source.name} created`,
      `Configure the provider to post to ${ingestUrl(answer.source)} with this secret. It is shown only once.`,
      answer.secrets[0]);
  } else {
    toast(`Source ${answer.source.name} created.`);
  }
  ctx.rerender();
}

async function act(src, ctx, action) {
  if (action === 'delete' || action === 'disable') {
    const ok = await confirmDialog({
      title: `${action === 'delete' ? 'Delete' : 'Disable'} ${src.name}?`,
      message: action === 'delete'
        ? 'Its ingest URL will answer 404. Stored events stay.'
        : 'Its ingest URL answers 404 until it is enabled again.',
      confirm: action === 'delete' ? 'Delete source' : 'Disable source',
      danger: true,
    });
    if (!ok) return;
  }
  try {
    if (action === 'delete') await del(`/sources/${seg(src.name)}`);
    else await post(`/sources/${seg(src.name)}/${action}`);
    toast(`${src.name}: ${action}d.`);
    ctx.rerender();
  } catch (error) {
    toast(error.message, 'bad');
  }
}

function secrets(src) {
  if (src.scheme === 'none') return h('span', { class: 'muted' }, 'unsigned');
  if (!src.secrets.length) return h('span', { class: 'muted' }, 'none');
  return h('div', { 'data-test': 'secrets' }, src.secrets.map((x) => h('div', { 'data-test': 'secret-item' },
    x.expires_at ? badge('retrying', `expires ${dateTime(x.expires_at)}`) : badge('active', 'current'))));
}

function actions(src, ctx) {
  const api = src.managed_by === 'api';
  const buttons = [];
  if (ctx.can('operator')) {
    buttons.push(h('button', { type: 'button', class: 'small', onclick: () => act(src, ctx, src.enabled ? 'disable' : 'enable') },
      src.enabled ? 'Disable' : 'Enable'));
  }
  if (ctx.can('admin') && api) {
    if (src.scheme !== 'none') {
      buttons.push(h('button', { type: 'button', class: 'small', 'data-test': 'rotate-secret', onclick: () => rotate(src, ctx) }, 'Rotate secret'));
    }
    buttons.push(h('button', { type: 'button', class: 'small danger', onclick: () => act(src, ctx, 'delete') }, 'Delete'));
  }
  return h('div', { class: 'actions' }, buttons);
}

const REASONS = {
  missing_header: 'missing header',
  malformed: 'malformed header',
  no_secret_matched: 'no secret matched',
  stale_timestamp: 'stale timestamp',
  no_active_secret: 'no active secret',
};

/** The latest refused signatures of every source, or nothing for a caller that may not see them. */
async function refusals() {
  let page;
  try {
    page = await get('/signature-failures', { limit: 50 });
  } catch {
    return null;
  }
  const intro = 'At most a few per source and minute are kept; the metric sig_failures_dropped counts the rest.';
  if (page.items.length === 0) return panel('Refused signatures', null, empty('No refused signatures', intro));
  return panel('Refused signatures', null, h('p', { class: 'muted' }, intro), table([
    { title: 'When', class: 'nowrap', cell: (x) => h('span', { title: dateTime(x.at) }, ago(x.at)) },
    { title: 'Source', cell: (x) => h('code', null, x.source) },
    {
      title: 'Reason',
      cell: (x) => h('div', null, badge('failed', REASONS[x.reason] || x.reason),
        x.header ? h('div', { class: 'muted' }, h('code', null, x.header)) : null),
    },
    { title: 'Client', cell: (x) => (x.client ? h('code', null, x.client) : h('span', { class: 'muted' }, 'unknown')) },
    { title: 'Request id', cell: (x) => h('code', null, x.request_id) },
  ], page.items, { rowAttrs: (x) => ({ 'data-test': 'sig-failure-row', 'data-source': x.source }) }));
}

/** Renders the sources, and the latest refused signatures. */
export async function render(root, ctx) {
  const [items, refused] = await Promise.all([get('/sources'), refusals()]);
  const add = ctx.can('admin')
    ? h('button', { type: 'button', class: 'primary', 'data-test': 'new-source', onclick: () => create(ctx) }, 'New source')
    : null;
  if (items.length === 0) {
    mount(root, panel('Sources', add, empty('No sources yet', 'Create one, or add [[sources]] to the configuration file.')), refused);
    return;
  }
  mount(root, panel('Sources', add, table([
    {
      title: 'Name',
      class: 'nowrap',
      cell: (x) => h('div', null, h('strong', null, x.name),
        h('div', { class: 'muted' }, `${x.scheme || 'custom'} · ${x.managed_by === 'api' ? 'created here' : 'config file'}`)),
    },
    { title: 'Ingest URL', cell: (x) => h('div', { class: 'copy-row' }, h('code', { 'data-test': 'ingest-url' }, ingestUrl(x)), copyButton(ingestUrl(x))) },
    { title: 'Status', cell: (x) => (x.enabled ? badge('enabled', 'Enabled') : badge('disabled', `Disabled${(x.disabled ? ` by ${x.disabled.by}${x.disabled.reason ? ` (${x.disabled.reason})` : ''}, ${dateTime(x.disabled.at)}` : '')}`)) },
    {
      title: 'Limits',
      class: 'nowrap',
      cell: (x) => h('div', { class: 'muted' },
        h('div', null, `body ≤ ${bytes(x.max_body_bytes)}`),
        h('div', null, x.rate_limit_per_minute ? `${num(x.rate_limit_per_minute)} events/min` : 'no rate limit'),
        h('div', null, `dedup ${seconds(x.dedup_window_secs)}`)),
    },
    { title: 'Secrets', class: 'nowrap', cell: secrets },
    { title: '', cell: (x) => actions(x, ctx) },
  ], items, { rowAttrs: (x) => ({ 'data-test': 'source-row', 'data-name': x.name }) })), refused);
}
