// Sources: the URL to paste into each provider, limits, and (for admins) secret rotation
// with an overlap window; the new secret is shown once.

import { h, mount, table, badge, empty, toast, panel, copyButton, confirmDialog, secretDialog } from './ui.js';
import { get, post, seg } from './api.js';
import { num, bytes, seconds, dateTime } from './format.js';

async function rotate(src, ctx) {
  const ok = await confirmDialog({
    title: `Rotate the secret of ${src.name}?`,
    message: 'A new signing secret is generated. The current ones keep verifying for 24 hours, so you can update the provider in the meantime.',
    confirm: 'Rotate secret',
  });
  if (!ok) return;
  try {
    const answer = await post(`/sources/${seg(src.name)}/rotate-secret`, { overlap_secs: 86400 });
    await secretDialog(`New secret for ${src.name}`,
      'Paste it into the provider\'s webhook settings now: it is shown only once.', answer.secret);
    ctx.rerender();
  } catch (error) {
    toast(error.message, 'bad');
  }
}

function secrets(src) {
  if (!Array.isArray(src.secrets)) return h('span', { class: 'muted' }, '—');
  if (src.secrets.length === 0) return h('span', { class: 'muted' }, 'none (unsigned)');
  return h('div', null, src.secrets.map((x) => h('div', { 'data-test': 'secret-fingerprint' },
    h('code', null, x.fingerprint),
    x.expires_at ? h('span', { class: 'muted' }, ` expires ${dateTime(x.expires_at)}`) : null)));
}

/** Renders the sources. */
export async function render(root, ctx) {
  const items = await get('/sources');
  if (items.length === 0) {
    mount(root, h('section', { class: 'panel' }, empty('No sources', 'Add [[sources]] to the configuration file.')));
    return;
  }
  const canRotate = ctx.can('admin');
  const rotatable = items.some((x) => Array.isArray(x.secrets));
  mount(root, panel('Sources', h('span', { class: 'muted' }, 'Providers post to the ingest URL'), table([
    {
      title: 'Name',
      cell: (x) => h('div', null, h('strong', null, x.name),
        x.scheme ? h('div', { class: 'muted' }, x.scheme) : null),
    },
    {
      title: 'Ingest URL',
      cell: (x) => {
        const url = `${location.origin}${x.ingest_path}`;
        return h('div', { class: 'copy-row' }, h('code', { 'data-test': 'ingest-url' }, url), copyButton(url));
      },
    },
    { title: 'Status', cell: (x) => (x.enabled === false ? badge('disabled') : badge('enabled', 'Enabled')) },
    { title: 'Max body', class: 'num', cell: (x) => bytes(x.max_body_bytes) },
    { title: 'Rate limit', class: 'num', cell: (x) => (x.rate_limit_per_minute ? `${num(x.rate_limit_per_minute)}/min` : 'none') },
    { title: 'Dedup window', class: 'num', cell: (x) => seconds(x.dedup_window_secs) },
    { title: 'Secrets', cell: secrets },
    {
      title: '',
      cell: (x) => (rotatable && Array.isArray(x.secrets) ? h('button', {
        type: 'button',
        class: 'small',
        'data-test': 'rotate-secret',
        disabled: !canRotate || undefined,
        title: canRotate ? undefined : 'Needs the admin role',
        onclick: () => rotate(x, ctx),
      }, 'Rotate secret') : null),
    },
  ], items, { rowAttrs: (x) => ({ 'data-test': 'source-row', 'data-name': x.name }) })));
}
