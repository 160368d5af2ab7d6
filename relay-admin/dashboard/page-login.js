// Login: username, password and (for a tenant's users) the tenant, against
// POST /api/v1/auth/login (sets the session cookie).

import { h, mount, errorBox } from './ui.js';
import { asset, post } from './api.js';

/** Renders the login form into `root`; `onLogin(who)` runs after a successful login. */
export function render(root, { onLogin }) {
  const message = h('div');
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const tenant = h('input', { name: 'tenant', autocomplete: 'organization', placeholder: 'default' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'login' }, 'Log in');
  const form = h('form', {
    'data-test': 'login-form',
    onsubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      mount(message);
      try {
        const login = { username: username.value, password: password.value };
        if (tenant.value.trim()) login.tenant = tenant.value.trim();
        const who = await post('/auth/login', login);
        onLogin(who);
      } catch (error) {
        const text = error.status === 401 ? 'Wrong username or password.' : error.message;
        mount(message, errorBox(new Error(text)));
        password.value = '';
        password.focus();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('div', { class: 'brand' }, h('img', { src: asset('favicon.svg'), alt: '' }), 'Relay'),
  h('div', { class: 'muted' }, 'Sign in to the webhook gateway.'),
  h('label', { class: 'field' }, 'Username', username),
  h('label', { class: 'field' }, 'Password', password),
  h('label', { class: 'field' }, 'Tenant (optional)', tenant),
  message,
  submit,
  h('div', { class: 'muted' }, 'The first start prints the password of the user "admin" once.'));
  mount(root, h('div', { class: 'login' }, form));
}
