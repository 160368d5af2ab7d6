// Access (admins only): the API keys and the dashboard users of this gateway. A new key's
// token and a generated password are shown once; keys are revoked (never deleted, so the
// audit log keeps naming them), users are deleted.

import {
  h, mount, table, badge, empty, toast, panel, confirmDialog, secretDialog, formDialog, select,
} from './ui.js';
import { get, post, del, seg } from './api.js';
import { dateTime } from './format.js';

const ROLES = [['viewer', 'viewer: reads'], ['operator', 'operator: also replays, pauses'], ['admin', 'admin: everything']];

/** 24 random characters from a 62-letter alphabet (about 143 bits). */
function randomPassword() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

async function createKey(ctx) {
  const name = h('input', { name: 'name', required: true, maxlength: 100, placeholder: 'e.g. ci-replays' });
  const role = select('role', ROLES, 'viewer', null);
  const answer = await formDialog({
    title: 'New API key',
    intro: 'Programs send it as "Authorization: Bearer <token>". The token is shown once.',
    fields: [['Label', name], ['Role', role]],
    confirm: 'Create key',
    testId: 'key-dialog',
    submit: () => post('/api-keys', { name: name.value.trim(), role: role.value }),
  });
  if (!answer) return;
  await secretDialog(`API key ${answer.name} created`,
    'Copy the token now: only its hash is stored, and it is never shown again.', answer.token);
  ctx.rerender();
}

async function revokeKey(key, ctx) {
  const ok = await confirmDialog({
    title: `Revoke ${key.name}?`,
    message: 'Requests with this key get 401 from now on. This cannot be undone.',
    confirm: 'Revoke key',
    danger: true,
  });
  if (!ok) return;
  try {
    await del(`/api-keys/${seg(key.id)}`);
    toast(`${key.name}: revoked.`);
    ctx.rerender();
  } catch (error) {
    toast(error.message, 'bad');
  }
}

async function createUser(ctx) {
  const username = h('input', { name: 'username', required: true, pattern: '[A-Za-z0-9._@\\-]{1,64}', placeholder: 'e.g. ana@example.com' });
  const role = select('role', ROLES, 'viewer', null);
  const password = h('input', { name: 'password', type: 'text', minlength: 12, placeholder: 'leave empty to generate one' });
  let chosen = '';
  const answer = await formDialog({
    title: 'New user',
    intro: 'Users log in to this dashboard. Passwords have at least 12 characters.',
    fields: [['Username', username], ['Role', role], ['Password', password]],
    confirm: 'Create user',
    testId: 'user-dialog',
    submit: () => {
      chosen = password.value || randomPassword();
      return post('/users', { username: username.value.trim(), password: chosen, role: role.value });
    },
  });
  if (!answer) return;
  if (password.value) {
    toast(`User ${answer.username} created.`);
  } else {
    await secretDialog(`User ${answer.username} created`,
      'Give them this generated password: it is shown only now.', chosen);
  }
  ctx.rerender();
}

async function deleteUser(user, ctx) {
  const ok = await confirmDialog({
    title: `Delete ${user.username}?`,
    message: 'They can no longer log in; their sessions end.',
    confirm: 'Delete user',
    danger: true,
  });
  if (!ok) return;
  try {
    await del(`/users/${seg(user.username)}`);
    toast(`${user.username}: deleted.`);
    ctx.rerender();
  } catch (error) {
    toast(error.message, 'bad');
  }
}

function keysPanel(keys, ctx) {
  const add = h('button', { type: 'button', class: 'primary', 'data-test': 'new-key', onclick: () => createKey(ctx) }, 'New API key');
  if (keys.length === 0) return panel('API keys', add, empty('No API keys yet', 'Create one, or run: relay key add NAME --role ROLE'));
  return panel('API keys', add, table([
    { title: 'Label', class: 'nowrap', cell: (x) => h('div', null, h('strong', null, x.name), h('div', { class: 'muted' }, x.id)) },
    { title: 'Role', cell: (x) => h('span', { class: 'badge role' }, x.role) },
    { title: 'Created', class: 'nowrap', cell: (x) => h('div', null, dateTime(x.created_at), h('div', { class: 'muted' }, `by ${x.created_by}`)) },
    { title: 'Status', cell: (x) => (x.revoked_at ? badge('disabled', `revoked ${dateTime(x.revoked_at)}`) : badge('enabled', 'Active')) },
    {
      title: '',
      cell: (x) => (x.revoked_at ? null : h('button', { type: 'button', class: 'small danger', 'data-test': 'revoke-key', onclick: () => revokeKey(x, ctx) }, 'Revoke')),
    },
  ], keys, { rowAttrs: (x) => ({ 'data-test': 'key-row', 'data-name': x.name }) }));
}

function usersPanel(users, ctx) {
  const add = h('button', { type: 'button', class: 'primary', 'data-test': 'new-user', onclick: () => createUser(ctx) }, 'New user');
  const self = ctx.me.actor.replace(/^user:/, '');
  return panel('Users', add, users.length === 0
    ? empty('No users yet', 'Create one, or run: relay user add NAME --role ROLE')
    : table([
      { title: 'Username', class: 'nowrap', cell: (x) => h('strong', null, x.username) },
      { title: 'Role', cell: (x) => h('span', { class: 'badge role' }, x.role) },
      { title: 'Created', class: 'nowrap', cell: (x) => dateTime(x.created_at) },
      { title: 'Status', cell: (x) => (x.locked_until ? badge('retrying', `locked until ${dateTime(x.locked_until)}`) : badge('enabled', 'Active')) },
      {
        title: '',
        cell: (x) => (x.username === self ? h('span', { class: 'muted' }, 'you')
          : h('button', { type: 'button', class: 'small danger', 'data-test': 'delete-user', onclick: () => deleteUser(x, ctx) }, 'Delete')),
      },
    ], users, { rowAttrs: (x) => ({ 'data-test': 'user-row', 'data-name': x.username }) }));
}

/** Renders the API keys and users (admins only). */
export async function render(root, ctx) {
  if (!ctx.can('admin')) {
    mount(root, panel('Access', null, empty('Admins only', `Your role (${ctx.me.role}) cannot manage API keys or users.`)));
    return;
  }
  const [keys, users] = await Promise.all([get('/api-keys'), get('/users')]);
  mount(root, keysPanel(keys, ctx), usersPanel(users, ctx));
}
