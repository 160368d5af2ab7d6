// Browser end-to-end test of the Relay dashboard, run by examples/standalone/tests/dashboard.rs
// against a running gateway with seeded traffic. Environment:
//   RELAY_URL, RELAY_USER, RELAY_PASSWORD   the gateway and the bootstrap admin
//   RELAY_EVENT_KEY                         the idempotency key of an event to search for
//   RELAY_EVENTS, RELAY_DEAD                how many events were seeded, how many dead-lettered
//   RELAY_OLD_EVENT                         an event received two hours ago whose delivery is a
//                                           dead letter already (not in the metrics), listed
//                                           beside the seeded ones
//   RELAY_CHROMIUM                          the browser (default /usr/bin/chromium)
//   RELAY_DASHBOARD_NODE_MODULES            where playwright-core is installed
//   RELAY_SCREENSHOTS                       where to save one PNG per page
// Exits non-zero on the first failed check (and on any page error or CSP violation).

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { attemptViewOfTheReplay, slowReplayReadsOver60s } from './attempts.mjs';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const base = env('RELAY_URL');
const user = env('RELAY_USER');
const password = env('RELAY_PASSWORD');
const eventKey = env('RELAY_EVENT_KEY');
const seeded = Number(env('RELAY_EVENTS'));
const dead = Number(env('RELAY_DEAD'));
const oldEvent = env('RELAY_OLD_EVENT');
// Listed: the seeded events and dead letters, and the old event with its dead letter.
const listed = seeded + 1;
const deadListed = dead + 1;
const shots = env('RELAY_SCREENSHOTS');
const require = createRequire(join(env('RELAY_DASHBOARD_NODE_MODULES'), 'noop.js'));
const { chromium } = require('playwright-core');

const profile = mkdtempSync(join(tmpdir(), 'relay-dashboard-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: env('RELAY_CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = context.pages()[0] ?? await context.newPage();
page.setDefaultTimeout(20000);
const problems = [];
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('console', (message) => {
  if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
});

const step = (name) => console.log(`✓ ${name}`);
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const go = async (hash) => {
  await page.goto(`${base}/#/${hash}`);
  await page.waitForSelector(`[data-test="page-${hash.split(/[/?]/)[0]}"]`);
};

try {
  // Login: five wrong passwords lock a username, and the page says so.
  await page.goto(`${base}/`);
  await page.waitForSelector('[data-test="login-form"]');
  await page.fill('input[name="username"]', 'target');
  for (let i = 0; i < 5; i += 1) {
    await page.fill('input[name="password"]', `wrong password ${i}`);
    await page.click('[data-test="login"]');
    await page.waitForSelector('[data-test="error"]');
    await page.waitForSelector('[data-test="login"]:not([disabled])');
  }
  await page.fill('input[name="password"]', 'wrong password 5');
  await page.click('[data-test="login"]');
  await page.waitForFunction(() => /locked/.test(document.querySelector('[data-test="error"]')?.textContent ?? ''));
  step('lockout message after repeated failures');

  // A wrong password is refused with a message; the right one opens the overview.
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', 'not the password');
  await page.click('[data-test="login"]');
  await page.waitForSelector('[data-test="error"]');
  assert.match(await page.textContent('[data-test="error"]'), /Wrong username or password/);
  await shot('login');
  await page.fill('input[name="password"]', password);
  await page.click('[data-test="login"]');
  await page.waitForSelector('[data-test="page-overview"]');
  assert.equal(await page.textContent('[data-test="role"]'), 'admin');
  step('login (wrong password refused, then logged in as admin)');

  // Overview: the traffic chart has non-zero points; the cards count the seeded traffic.
  await page.waitForSelector('svg[data-test="traffic-chart"] circle[data-value]');
  const points = await page.$$eval('svg[data-test="traffic-chart"] circle[data-value]',
    (dots) => dots.map((d) => [d.dataset.series, Number(d.dataset.value)]));
  const sum = (series) => points.filter(([s]) => s === series).reduce((a, [, v]) => a + v, 0);
  assert.equal(sum('received'), seeded, `received points ${JSON.stringify(points)}`);
  assert.equal(sum('delivered'), seeded);
  assert.equal(sum('dead_lettered'), dead);
  assert.equal(sum('failed'), dead, 'one failed attempt before each dead letter');
  assert.equal((await page.textContent('[data-test="card-received"] .value')).trim(), String(seeded));
  const rate = Math.round((1000 * seeded) / (seeded + dead)) / 10;
  assert.equal((await page.textContent('[data-test="card-success"] .value')).trim(), `${rate}%`);
  assert.ok(await page.$('svg[data-test="latency-chart"] rect.bar[data-value]:not([data-value="0"])'));
  assert.match((await page.textContent('[data-test="card-queue"] .value')).trim(), /^\d+$/, 'a stored queue depth');
  assert.ok(await page.$('svg[data-test="queue-chart"] path.line'));
  await shot('overview');
  step(`overview chart: ${points.length} non-zero points, ${seeded} received`);

  // Events: search by idempotency key, open the event, see payload, headers, attempts.
  await page.click('[data-test="nav-events"]');
  await page.waitForSelector('[data-test="event-row"]');
  assert.equal((await page.$$('[data-test="event-row"]')).length, listed);
  await shot('events');
  await page.fill('[data-test="search"]', 'no-such-key');
  await page.click('[data-test="apply-filters"]');
  await page.waitForSelector('[data-test="empty"]');
  assert.match(await page.textContent('[data-test="empty"]'), /No events match/);
  await page.fill('[data-test="search"]', eventKey);
  await page.click('[data-test="apply-filters"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-test="event-row"]').length === 1);
  const eventId = await page.getAttribute('[data-test="event-row"]', 'data-id');
  await page.click('[data-test="event-row"]');
  await page.waitForSelector('[data-test="event-detail"]');
  assert.equal(await page.textContent('[data-test="idempotency-key"]'), eventKey);
  const payload = await page.textContent('[data-test="payload"]');
  assert.match(payload, /"order"/);
  assert.match(payload, /1003/);
  await page.waitForSelector('[data-test="delivery"][data-destination="warehouse"][data-status="delivered"]');
  await page.waitForSelector('[data-test="delivery"][data-destination="crm"][data-status="dead_lettered"]');
  assert.equal((await page.$$('[data-test="delivery"][data-destination="crm"] [data-test="attempt-row"]')).length, 2);
  // Attempts are timed to the millisecond, with the wait before each.
  const started = await page.$$eval('[data-test="delivery"][data-destination="crm"] [data-test="attempt-row"] td:nth-child(2)', (cells) => cells.map((c) => c.textContent));
  for (const text of started) assert.match(text, /\d{2}:\d{2}:\d{2}\.\d{3}$/, 'started to the millisecond');
  await shot('event');
  step(`event ${eventId} found by its key and opened (payload, 2 deliveries, attempts)`);

  // Pages: events and dead letters load more by cursor; select-all covers every loaded row.
  await go('events?limit=4');
  const rowsShown = (n) => page.waitForFunction((want) => document.querySelectorAll('[data-test="event-row"], [data-test="dead-letter-row"]').length === want, n);
  await rowsShown(4);
  await page.click('[data-test="load-more"]');
  await rowsShown(8);
  await page.click('[data-test="load-more"]');
  await rowsShown(listed);
  await page.waitForSelector('text=End of the list');
  // Dead letters: every page is read (2 at a time here) and shown newest first, with the
  // event's source and type.
  await go('dead-letters?limit=2');
  await rowsShown(deadListed);
  const deadSince = await page.$$eval('[data-test="dead-since"]', (cells) => cells.map((c) => c.dataset.at));
  assert.deepEqual(deadSince, [...deadSince].sort().reverse(), 'dead letters newest first');
  const oldRow = `[data-test="dead-letter-row"][data-event="${oldEvent}"]`;
  assert.equal(await page.getAttribute('[data-test="dead-letter-row"]:last-child', 'data-event'), oldEvent, 'the oldest last');
  assert.match(await page.textContent(oldRow), /shop.*order\.created.*crm/s, 'source, event type and destination');
  await page.check('[data-test="select-all"]');
  assert.equal((await page.textContent('[data-test="replay-selected"]')).trim(), `Replay selected (${deadListed})`);
  await page.uncheck('[data-test="select-all"]');
  assert.equal((await page.textContent('[data-test="replay-selected"]')).trim(), 'Replay selected (0)');
  step('events page by cursor; dead letters newest first with source and event type');

  // Dead letters: replay one (the receiver recovered) with progress; it becomes delivered.
  await go('dead-letters');
  await page.waitForSelector('[data-test="dead-letter-row"]');
  assert.equal((await page.$$('[data-test="dead-letter-row"]')).length, deadListed);
  await shot('dead-letters');
  const row = `[data-test="dead-letter-row"][data-event="${eventId}"]`;
  await page.check(`${row} input[type="checkbox"]`);
  await page.click('[data-test="replay-selected"]');
  await page.waitForFunction(() => /Replayed 1 of 1/.test(document.querySelector('[data-test="progress-label"]')?.textContent ?? ''));
  await page.waitForFunction((n) => document.querySelectorAll('[data-test="dead-letter-row"]').length === n, dead);
  await go(`events/${eventId}`);
  await page.waitForSelector('[data-test="delivery"][data-destination="crm"][data-status="delivered"]', { timeout: 60000 });
  await shot('event-replayed');
  step('dead letter replayed from the list and delivered');

  await attemptViewOfTheReplay(page, shot, step);
  await slowReplayReadsOver60s(page, go, shot, step, { oldRow, dead, oldEvent });

  // Discard another, after confirming.
  await go('dead-letters');
  await page.waitForSelector('[data-test="dead-letter-row"]');
  await page.check('[data-test="dead-letter-row"] input[type="checkbox"]');
  await page.click('[data-test="discard-selected"]');
  await page.click('[data-test="confirm-dialog"] [data-test="confirm"]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-test="dead-letter-row"]').length === n, dead - 2);
  step('dead letter discarded after confirmation');

  // Sources: the ingest URL to paste into the provider; create a signed source, then rotate
  // its secret. Both secrets are printed for the Rust test, which checks that both verify.
  await go('sources');
  assert.equal(await page.textContent('[data-test="source-row"][data-name="shop"] [data-test="ingest-url"]'), `${base}/webhooks/shop`);
  await page.click('[data-test="new-source"]');
  await page.fill('[data-test="source-dialog"] input[name="name"]', 'github-app');
  await page.selectOption('[data-test="source-dialog"] select[name="scheme"]', 'github');
  await page.click('[data-test="source-dialog"] [data-test="submit"]');
  const first = (await page.textContent('[data-test="secret-dialog"] [data-test="secret"]')).trim();
  assert.ok(first.length >= 16, 'a generated secret');
  await page.click('[data-test="secret-dialog"] button.primary');
  const github = '[data-test="source-row"][data-name="github-app"]';
  await page.waitForSelector(`${github} [data-test="secret-item"]`);
  assert.equal(await page.textContent(`${github} [data-test="ingest-url"]`), `${base}/webhooks/github-app`);
  await page.click(`${github} [data-test="rotate-secret"]`);
  await page.click('[data-test="rotate-dialog"] [data-test="submit"]');
  const second = (await page.textContent('[data-test="secret-dialog"] [data-test="secret"]')).trim();
  assert.notEqual(second, first);
  await page.click('[data-test="secret-dialog"] button.primary');
  await page.waitForFunction((row) => document.querySelectorAll(`${row} [data-test="secret-item"]`).length === 2, github);
  assert.match(await page.textContent(`${github} [data-test="secrets"]`), /expires/);
  await shot('sources');
  console.log(`ROTATED ${first} ${second}`);
  step('source created and its secret rotated (old one expiring)');

  // Destinations: health, disable and enable (the audit log's words).
  await go('destinations');
  await page.waitForSelector('[data-test="destination-row"][data-name="crm"]');
  const crm = '[data-test="destination-row"][data-name="crm"]';
  await page.click(`${crm} [data-test="disable"]`);
  await page.click('[data-test="confirm-dialog"] [data-test="confirm"]');
  await page.waitForSelector(`${crm} [data-state="paused"]`);
  await page.click(`${crm} [data-test="enable"]`);
  await page.waitForSelector(`${crm} [data-state="enabled"]`);
  await shot('destinations');
  step('destination disabled and enabled');

  // Routes: try a route on a sample payload, matching then not.
  await go('routes');
  await page.waitForSelector('[data-test="route-row"][data-name="big-orders-to-crm"]');
  await page.selectOption('[data-test="route-test"] select[name="route"]', 'big-orders-to-crm');
  await page.click('[data-test="run-test"]');
  await page.waitForSelector('[data-test="test-result"][data-matched="true"] [data-test="condition-row"][data-passed="true"]');
  assert.match(await page.textContent('[data-test="test-delivery"]'), /Sent to crm/);
  await page.fill('[data-test="test-payload"]', JSON.stringify({ type: 'order.created', order: { total: 5 } }));
  await page.click('[data-test="run-test"]');
  await page.waitForSelector('[data-test="test-result"][data-matched="false"] [data-test="condition-row"][data-passed="false"]');
  await page.fill('[data-test="test-payload"]', JSON.stringify({ type: 'order.created', order: { total: 70 } }, null, 2));
  await page.click('[data-test="run-test"]');
  await page.waitForSelector('[data-test="test-result"][data-matched="true"]');
  await shot('routes');
  step('route tested on a sample payload (matches, then a failing condition)');

  // Access: an API key made here works once and is revoked; a user gets a generated password.
  await go('access');
  await page.click('[data-test="new-key"]');
  await page.fill('[data-test="key-dialog"] input[name="name"]', 'browser-key');
  await page.selectOption('[data-test="key-dialog"] select[name="role"]', 'operator');
  await page.click('[data-test="key-dialog"] [data-test="submit"]');
  const token = (await page.textContent('[data-test="secret-dialog"] [data-test="secret"]')).trim();
  assert.match(token, /^rk_/);
  const whoami = (bearer) => fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${bearer}` } });
  assert.equal((await whoami(token)).status, 200, 'the new key works');
  await page.click('[data-test="secret-dialog"] [data-test="done"]');
  const keyRow = '[data-test="key-row"][data-name="browser-key"]';
  await page.click(`${keyRow} [data-test="revoke-key"]`);
  await page.click('[data-test="confirm-dialog"] [data-test="confirm"]');
  await page.waitForFunction((row) => /revoked/.test(document.querySelector(row)?.textContent ?? ''), keyRow);
  assert.equal((await whoami(token)).status, 401, 'the revoked key is refused');
  await page.click('[data-test="new-user"]');
  await page.fill('[data-test="user-dialog"] input[name="username"]', 'browser-user');
  await page.click('[data-test="user-dialog"] [data-test="submit"]');
  const generated = (await page.textContent('[data-test="secret-dialog"] [data-test="secret"]')).trim();
  assert.equal(generated.length, 24);
  await page.click('[data-test="secret-dialog"] [data-test="done"]');
  await page.waitForSelector('[data-test="user-row"][data-name="browser-user"]');
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'browser-user', password: generated }),
  });
  assert.equal(login.status, 200, 'the generated password logs in');
  await shot('access');
  step('access: API key created, used and revoked; user created with a generated password');

  // Audit: the browser's actions, with field-level changes.
  await go('audit');
  await page.waitForSelector('[data-test="audit-row"]');
  const audit = await page.textContent('[data-test="page-audit"]');
  for (const action of ['replay', 'discard', 'disable', 'enable', 'rotate_secret', 'revoke']) assert.ok(audit.includes(action), action);
  assert.ok(audit.includes('user:admin'));
  await shot('audit');
  step('audit log shows the actions');
  await page.fill('[data-test="filter-action"]', 'replay');
  await page.click('[data-test="apply-audit-filters"]');
  await page.waitForFunction(() => location.hash.includes('action=replay'));
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('[data-test="audit-row"] > td:nth-child(4)')];
    return cells.length > 0 && cells.every((c) => c.textContent.trim() === 'replay');
  });
  step('audit log filtered by action');

  // Logout ends the session: the pages go back to the login form.
  await page.click('[data-test="logout"]');
  await page.waitForSelector('[data-test="login-form"]');
  // A link to an event opened while logged out lands on that event after login.
  await page.goto(`${base}/#/events/${eventId}`);
  await page.waitForSelector('[data-test="login-form"]');
  step('logout');

  // A viewer sees everything but cannot change anything.
  await page.fill('input[name="username"]', 'watcher');
  await page.fill('input[name="password"]', env('RELAY_VIEWER_PASSWORD'));
  await page.click('[data-test="login"]');
  await page.waitForSelector('[data-test="event-detail"]');
  assert.equal(await page.evaluate(() => location.hash), `#/events/${eventId}`);
  assert.equal(await page.textContent('[data-test="role"]'), 'viewer');
  step('login deep link: the event opened while logged out is shown after login');
  await go('dead-letters');
  await page.waitForSelector('[data-test="dead-letter-row"]');
  for (const button of ['replay-selected', 'discard-selected', 'replay-all', 'discard-all']) {
    assert.ok(await page.isDisabled(`[data-test="${button}"]`), button);
  }
  await go(`events/${eventId}`);
  await page.waitForSelector('[data-test="event-detail"]');
  assert.equal(await page.$('[data-test="replay-event"]'), null);
  assert.match(await page.textContent('[data-test="event-detail"]'), /needs the operator role/);
  await go('sources');
  await page.waitForSelector('[data-test="source-row"]');
  assert.equal(await page.$('[data-test="new-source"]'), null);
  assert.equal(await page.$('[data-test="rotate-secret"]'), null);
  assert.equal(await page.$('[data-test="nav-access"]'), null, 'no Access page for a viewer');
  await go('access');
  assert.match(await page.textContent('[data-test="page-access"]'), /Admins only/);
  step('viewer: read-only (actions disabled or hidden)');

  // A tenant's user logs in with the tenant field and sees only that tenant, with the ingest
  // URL that resolves in it. The platform admin makes the tenant through the API.
  const adminLogin = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user, password }),
  });
  const cookie = adminLogin.headers.get('set-cookie').split(';')[0];
  const call = async (headers, method, path, body) => {
    const response = await fetch(`${base}/api/v1${path}`, {
      method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    assert.equal(response.status, 201, `${method} ${path}: ${await response.clone().text()}`);
    return response.json();
  };
  await call({ cookie }, 'POST', '/tenants', { name: 'acme' });
  const acmeKey = await call({ cookie }, 'POST', '/tenants/acme/api-keys', { name: 'acme-admin', role: 'admin' });
  const acme = { authorization: `Bearer ${acmeKey.token}` };
  await call(acme, 'POST', '/users', { username: 'ana', password: 'a long enough password', role: 'admin' });
  await call(acme, 'POST', '/sources', { name: 'shop', scheme: 'none' });
  await page.click('[data-test="logout"]');
  await page.waitForSelector('[data-test="login-form"]');
  await page.fill('input[name="username"]', 'ana');
  await page.fill('input[name="password"]', 'a long enough password');
  await page.fill('input[name="tenant"]', 'acme');
  await page.click('[data-test="login"]');
  await page.waitForSelector('[data-test="page-overview"]');
  assert.equal(await page.textContent('[data-test="tenant"]'), 'acme');
  await go('sources');
  await page.waitForSelector('[data-test="source-row"][data-name="shop"]');
  assert.equal((await page.$$('[data-test="source-row"]')).length, 1, "only the tenant's source");
  assert.equal(await page.textContent('[data-test="ingest-url"]'), `${base}/webhooks/acme/shop`);
  await shot('tenant-sources');
  step("tenant user: logs in with the tenant, sees only the tenant's source and its ingest URL");

  // Consumer portal: the platform admin makes a one-time link into acme; opening it lands on
  // acme's events with the portal role, the pages it may not use are gone, it adds an
  // endpoint, and it sees nothing of the default tenant. The link works once; an expired
  // one is refused.
  const link = await call({ cookie }, 'POST', '/tenants/acme/portal-links', {});
  assert.match(link.url, /\/portal\/rpl_/);
  await page.click('[data-test="logout"]');
  await page.waitForSelector('[data-test="login-form"]');
  await page.goto(link.url);
  await page.waitForSelector('[data-test="page-events"]');
  assert.equal(await page.textContent('[data-test="role"]'), 'portal');
  assert.equal(await page.textContent('[data-test="tenant"]'), 'acme');
  await page.waitForSelector('[data-test="empty"]');
  assert.equal((await page.$$('[data-test="event-row"]')).length, 0, "none of the default tenant's events");
  for (const hidden of ['overview', 'audit', 'access']) {
    assert.equal(await page.$(`[data-test="nav-${hidden}"]`), null, `no ${hidden} page for the portal`);
  }
  await page.goto(`${base}/#/audit`);
  await page.waitForFunction(() => location.hash === '#/events');
  await page.waitForSelector('[data-test="page-events"]');
  await go('destinations');
  await page.click('[data-test="new-destination"]');
  await page.fill('[data-test="destination-dialog"] input[name="name"]', 'customer-endpoint');
  await page.fill('[data-test="destination-dialog"] input[name="url"]', `${base}/nowhere`);
  await page.click('[data-test="destination-dialog"] [data-test="submit"]');
  assert.match((await page.textContent('[data-test="secret-dialog"] [data-test="secret"]')).trim(), /^whsec_/);
  await page.click('[data-test="secret-dialog"] button.primary');
  await page.waitForSelector('[data-test="destination-row"][data-name="customer-endpoint"]');
  assert.equal((await page.$$('[data-test="destination-row"]')).length, 1, "only the tenant's endpoint");
  await shot('portal-destinations');
  const inPage = (method, path) => page.evaluate(async ([m, p]) => (await fetch(`/api/v1${p}`, {
    method: m, headers: { 'content-type': 'application/json' }, body: m === 'GET' ? undefined : '{}',
  })).status, [method, path]);
  assert.equal(await inPage('GET', `/events/${eventId}`), 404, "the default tenant's event");
  assert.equal(await inPage('GET', '/tenants'), 404);
  assert.equal(await inPage('GET', '/audit'), 403);
  assert.equal(await inPage('GET', '/api-keys'), 403);
  assert.equal(await inPage('POST', `/dead-letters/replay`), 200, 'its own (no) dead letters');
  await page.goto(link.url);
  await page.waitForSelector('[data-test="portal-refused"]');
  const expiring = await call({ cookie }, 'POST', '/tenants/acme/portal-links', { ttl_secs: 1 });
  await new Promise((resolve) => { setTimeout(resolve, 1500); });
  await page.goto(expiring.url);
  await page.waitForSelector('[data-test="portal-refused"]');
  step('portal: a one-time link logs in once, scoped to its tenant; expired and used links are refused');

  assert.deepEqual(problems, []);
  console.log('dashboard e2e: all checks passed');
} catch (error) {
  await shot('failure').catch(() => {});
  console.error(error);
  console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
