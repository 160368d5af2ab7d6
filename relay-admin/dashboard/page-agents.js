// Agents: which are online, on which node, since when, last seen, their version and where
// they forward each destination (the same on every node: read from the stored presence).
// Admins create agents (the token is shown once), rotate and revoke their credentials.

import { h, mount, table, badge, empty, toast, panel, confirmDialog, secretDialog, formDialog } from './ui.js';
import { get, post, seg } from './api.js';
import { ago, dateTime } from './format.js';

async function create(ctx) {
  const name = h('input', { name: 'name', required: true, pattern: '[A-Za-z0-9_.\\-]+', placeholder: 'e.g. billing-dc1' });
  const answer = await formDialog({
    title: 'New agent',
    intro: 'Destinations of kind "agent" name it. Run `relay agent --token …` beside the private app.',
    fields: [['Name', name]],
    confirm: 'Create agent',
    testId: 'agent-dialog',
    submit: () => post('/agents', { name: name.value.trim() }),
  });
  if (!answer) return;
  await secretDialog(`Agent ${answer.name} created`, 'Its token is shown only once.', answer.token);
  ctx.rerender();
}

async function act(agent, ctx, action) {
  if (action === 'revoke') {
    const ok = await confirmDialog({
      title: `Revoke ${agent.name}?`,
      message: 'Its token is refused from now on and its connection closed; rotate to reissue one.',
      confirm: 'Revoke',
      danger: true,
    });
    if (!ok) return;
  }
  try {
    const answer = await post(`/agents/${seg(agent.name)}/${action}`);
    if (action === 'rotate') {
      await secretDialog(`New token for ${agent.name}`, 'The old one is refused from now on. This one is shown only once.', answer.token);
    } else {
      toast(`${agent.name}: revoked.`);
    }
    ctx.rerender();
  } catch (error) {
    toast(error.message, 'bad');
  }
}

function status(agent) {
  if (agent.revoked) return badge('disabled', 'Revoked');
  return agent.online ? badge('delivered', 'Online') : badge('failed', 'Offline');
}

function seen(agent) {
  if (!agent.last_seen) return h('span', { class: 'muted' }, 'never connected');
  return h('div', null,
    h('div', { title: dateTime(agent.last_seen) }, ago(agent.last_seen)),
    agent.connected_at ? h('div', { class: 'muted' }, `since ${dateTime(agent.connected_at)}`) : null);
}

function targets(agent) {
  if (!agent.targets.length) return h('span', { class: 'muted' }, '—');
  return h('div', null, agent.targets.map((t) => h('div', null, h('code', { 'data-test': 'agent-target' }, t))));
}

function actions(agent, ctx) {
  if (!ctx.can('admin')) return null;
  return h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'small', onclick: () => act(agent, ctx, 'rotate') }, 'Rotate token'),
    agent.revoked ? null : h('button', { type: 'button', class: 'small danger', onclick: () => act(agent, ctx, 'revoke') }, 'Revoke'));
}

/** Renders the agents. */
export async function render(root, ctx) {
  const items = await get('/agents');
  const add = ctx.can('admin')
    ? h('button', { type: 'button', class: 'primary', 'data-test': 'new-agent', onclick: () => create(ctx) }, 'New agent')
    : null;
  if (items.length === 0) {
    mount(root, panel('Agents', add, empty('No agents yet', 'An agent delivers to an app the gateway cannot reach.')));
    return;
  }
  mount(root, panel('Agents', add, table([
    { title: 'Name', class: 'nowrap', cell: (x) => h('strong', null, x.name) },
    { title: 'Status', class: 'nowrap', cell: (x) => h('span', { 'data-test': 'agent-status' }, status(x)) },
    { title: 'Node', cell: (x) => (x.node ? h('code', { 'data-test': 'agent-node' }, x.node) : h('span', { class: 'muted' }, '—')) },
    { title: 'Last seen', class: 'nowrap', cell: seen },
    { title: 'Version', cell: (x) => x.version || h('span', { class: 'muted' }, '—') },
    { title: 'Forwards to', cell: targets },
    { title: '', cell: (x) => actions(x, ctx) },
  ], items, { rowAttrs: (x) => ({ 'data-test': 'agent-row', 'data-name': x.name }) })));
}
