// The dashboard shell: hash routing (#/events, #/events/evt_…), the sidebar and header,
// the session (401 → login page) and the role of the user. A consumer-portal session (role
// `portal`, from a one-time link) sees only its tenant's events, dead letters, sources,
// destinations and routes, with the rights PORTAL gives it on each page.

import { h, mount, errorBox, loading } from './ui.js';
import { asset, get, post, setRole, setUnauthorizedHandler } from './api.js';
import * as login from './page-login.js';
import * as overview from './page-overview.js';
import * as events from './page-events.js';
import * as event from './page-event.js';
import * as deadLetters from './page-dead-letters.js';
import * as audit from './page-audit.js';
import * as sources from './page-sources.js';
import * as destinations from './page-destinations.js';
import * as destination from './page-destination.js';
import * as routes from './page-routes.js';
import * as agents from './page-agents.js';
import * as access from './page-access.js';

const PAGES = [
  { path: 'overview', title: 'Overview', page: overview },
  { path: 'events', title: 'Events', page: events },
  { path: 'dead-letters', title: 'Dead letters', page: deadLetters },
  { path: 'sources', title: 'Sources', page: sources },
  { path: 'destinations', title: 'Destinations', page: destinations },
  { path: 'routes', title: 'Routes', page: routes },
  { path: 'agents', title: 'Agents', page: agents },
  { path: 'audit', title: 'Audit log', page: audit },
  { path: 'access', title: 'Access', page: access, role: 'admin' },
];

const DETAILS = {
  events: { title: 'Event', page: event },
  destinations: { title: 'Destination', page: destination },
};

const RANK = { viewer: 0, operator: 1, admin: 2 };
// What a portal session may do on each page (as the ranked role named); others are hidden.
const PORTAL = { events: 'operator', 'dead-letters': 'operator', sources: 'viewer', destinations: 'admin', routes: 'admin' };
const isPortal = () => me && me.role === 'portal';
/** Whether the user may see page `p`. */
const visible = (p) => (isPortal() ? p.path in PORTAL : !p.role || RANK[me.role] >= RANK[p.role]);
/** Whether the user may do, on page `path`, what `role` may. */
const allowed = (path, role) => RANK[isPortal() ? PORTAL[path] : me.role] >= RANK[role];
/** The page to land on. */
const home = () => (isPortal() ? 'events' : 'overview');
const root = document.getElementById('app');
let me = null;
let cleanups = [];

/** Parses the hash: #/events/evt_1?q=x → {path: 'events', id: 'evt_1', params}. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [route, search = ''] = raw.split('?');
  const [path = '', id] = route.split('/').map(decodeURIComponent);
  return { path, id, params: new URLSearchParams(search) };
}

/** Goes to `#/{path}`; `params` become the hash's query. */
export function navigate(path, params) {
  const search = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString() : '';
  const hash = `#/${path}${search ? `?${search}` : ''}`;
  if (location.hash === hash) render();
  else location.hash = hash;
}

/** After login: to the route `next` (a hash route such as `events/evt_…`), else home. */
function goTo(next) {
  const route = (next || '').replace(/^[#/]+/, '');
  if (!route || route.startsWith('login')) navigate(home());
  else location.hash = `#/${route}`;
}

function runCleanups() {
  for (const fn of cleanups) fn();
  cleanups = [];
}

async function logout() {
  try {
    await post('/auth/logout');
  } finally {
    me = null;
    navigate('login');
  }
}

function layout(current, title) {
  const name = isPortal() ? 'Customer portal' : me.actor.replace(/^(user|key):/, '');
  const content = h('main', { class: 'content', 'data-test': `page-${current}` });
  mount(root,
    h('div', { class: 'shell' },
      h('nav', { class: 'side', id: 'side-nav' },
        h('div', { class: 'brand' }, h('img', { src: asset('favicon.svg'), alt: '' }), 'Relay'),
        h('div', { class: 'nav' }, PAGES.filter(visible).map((p) => h('a', {
          href: `#/${p.path}`, class: p.path === current ? 'active' : '', 'data-test': `nav-${p.path}`,
        }, h('span', { class: 'dot' }), p.title))),
        h('div', { class: 'foot' }, 'Webhook gateway')),
      h('div', { class: 'main' },
        h('header', { class: 'top' },
          h('button', {
            type: 'button', class: 'menu-toggle', 'aria-controls': 'side-nav', 'aria-expanded': 'false', 'data-test': 'menu',
            onclick: (e) => e.currentTarget.setAttribute('aria-expanded', String(root.querySelector('.shell').classList.toggle('menu-open'))),
          }, 'Menu'),
          h('h1', null, title),
          h('div', { class: 'who' },
            h('span', { 'data-test': 'user' }, name),
            me.tenant && me.tenant !== 'default' ? h('span', { class: 'badge', 'data-test': 'tenant' }, me.tenant) : null,
            h('span', { class: 'badge role', 'data-test': 'role' }, me.role),
            h('button', { type: 'button', class: 'small', 'data-test': 'logout', onclick: logout }, 'Log out'))),
        content)));
  return content;
}

async function render() {
  runCleanups();
  const { path, id, params } = parseHash();
  if (path === 'login') {
    me = null;
    login.render(root, { onLogin: (who) => { me = who; setRole(who.role); goTo(params.get('next')); } });
    return;
  }
  if (!me) {
    mount(root, loading());
    try {
      me = await get('/auth/me');
      setRole(me.role);
    } catch (error) {
      if (error.status !== 401) mount(root, h('div', { class: 'content' }, errorBox(error)));
      return;
    }
  }
  // A ranked role may open any page (one it may not use says so); a portal only its own.
  const known = PAGES.find((p) => p.path === path && (!isPortal() || p.path in PORTAL));
  if (!known) {
    navigate(home());
    return;
  }
  // A page of one object: #/events/{id}, #/destinations/{name}.
  const detail = id && DETAILS[path];
  const content = layout(path, detail ? detail.title : known.title);
  const ctx = {
    me,
    id,
    params,
    navigate,
    can: (role) => allowed(path, role),
    onCleanup: (fn) => cleanups.push(fn),
    rerender: render,
  };
  try {
    await (detail ? detail.page : known.page).render(content, ctx);
  } catch (error) {
    if (error.status !== 401) mount(content, errorBox(error));
  }
}

setUnauthorizedHandler(() => {
  if (parseHash().path === 'login') return;
  me = null;
  runCleanups();
  // The whole route (#/events/evt_…?q=x), so a deep link lands where it pointed after login.
  const here = location.hash.replace(/^#\/?/, '');
  navigate('login', here ? { next: here } : undefined);
});

window.addEventListener('hashchange', render);
root.classList.remove('boot');
render();
