// Browser test of the dashboard's search, live list, destination pages and layout, run by
// examples/standalone/tests/dashboard_console.rs against a running gateway with seeded
// traffic. Environment:
//   RELAY_URL, RELAY_USER, RELAY_PASSWORD    the gateway and the bootstrap admin
//   RELAY_EVENT_ID, RELAY_DELIVERY_ID        an event (key order-1002) and its warehouse delivery
//   RELAY_EVENTS, RELAY_PAID                 orders seeded, how many of them are paid (dead at crm)
//   RELAY_CHROMIUM                           the browser (default /usr/bin/chromium)
//   RELAY_DASHBOARD_NODE_MODULES             where playwright-core is installed
//   RELAY_SCREENSHOTS                        where to save the PNGs
// Exits non-zero on the first failed check (and on any page error or CSP violation).

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const base = env('RELAY_URL');
const eventId = env('RELAY_EVENT_ID');
const deliveryId = env('RELAY_DELIVERY_ID');
const seeded = Number(env('RELAY_EVENTS'));
const paid = Number(env('RELAY_PAID'));
const shots = env('RELAY_SCREENSHOTS');
const require = createRequire(join(env('RELAY_DASHBOARD_NODE_MODULES'), 'noop.js'));
const { chromium } = require('playwright-core');

const profile = mkdtempSync(join(tmpdir(), 'relay-dashboard-console-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: env('RELAY_CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  viewport: { width: 1280, height: 800 },
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
/** The ids of the listed events once the list shows the view in the address bar. */
const listed = async () => {
  await page.waitForFunction(() => {
    const list = document.querySelector('[data-test="event-list"]');
    return list && list.dataset.loaded === location.hash;
  });
  return page.$$eval('[data-test="event-row"]', (rows) => rows.map((r) => r.dataset.id));
};
/** Searches the event list with the filter form. */
const search = async (fields) => {
  await go('events');
  await listed();
  for (const [selector, value] of Object.entries(fields)) {
    const tag = await page.$eval(selector, (el) => el.tagName);
    if (tag === 'SELECT') await page.selectOption(selector, value);
    else await page.fill(selector, value);
  }
  await page.click('[data-test="apply-filters"]');
  await page.waitForFunction(() => location.hash.includes('?'));
  return listed();
};

try {
  await page.goto(`${base}/`);
  await page.waitForSelector('[data-test="login-form"]');
  await page.fill('input[name="username"]', env('RELAY_USER'));
  await page.fill('input[name="password"]', env('RELAY_PASSWORD'));
  await page.click('[data-test="login"]');
  await page.waitForSelector('[data-test="page-overview"]');
  step('logged in');

  // Search: an event id, a delivery id, a key prefix, type globs, destination, status.
  assert.deepEqual(await search({ '[data-test="search"]': eventId }), [eventId]);
  step('an event id finds its event');
  assert.deepEqual(await search({ '[data-test="search"]': deliveryId }), [eventId]);
  assert.deepEqual(await search({ '[data-test="search"]': deliveryId.slice(0, -3) }), [eventId]);
  step('a delivery id (and its prefix) finds its event');
  assert.equal((await search({ '[data-test="search"]': 'order-100' })).length, seeded);
  step('a key prefix finds every order');
  assert.equal((await search({ '[data-test="filter-type"]': 'order.*' })).length, seeded);
  assert.equal((await search({ '[data-test="filter-type"]': '*.paid' })).length, paid);
  assert.equal((await search({ '[data-test="filter-type"]': 'order.' })).length, 0);
  step('event-type globs');
  assert.equal((await search({ '[data-test="filter-destination"]': 'crm' })).length, paid);
  assert.equal((await search({ '[data-test="filter-status"]': '503' })).length, paid);
  const gone = await search({ '[data-test="filter-status"]': '410', '[data-test="filter-type"]': 'order.created' });
  assert.equal(gone.length, 1);
  await shot('events-search');
  step('filters by destination and by response status');

  // Live: an event ingested while the list is open shows as "1 new"; clicking shows it.
  await go('events');
  assert.equal((await listed()).length, seeded);
  const sent = await page.evaluate(async (url) => (await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'order-live' },
    body: JSON.stringify({ type: 'order.created', order: { id: 4242, total: 1 } }),
  })).status, `${base}/webhooks/shop`);
  assert.equal(sent, 200);
  await page.waitForSelector('[data-test="new-events"]');
  assert.match(await page.textContent('[data-test="new-events"]'), /^1 new/);
  await page.click('[data-test="new-events"]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-test="event-row"]').length === n, seeded + 1);
  assert.match(await page.textContent('[data-test="event-row"]'), /order-live/);
  await shot('events-live');
  step('the list shows new events live');

  // Destination pages, reached from links.
  await go('destinations');
  await page.click('[data-test="destination-row"][data-name="crm"] [data-test="destination-link"]');
  await page.waitForSelector('[data-test="destination-facts"]');
  assert.equal(new URL(page.url()).hash, '#/destinations/crm');
  assert.equal(await page.$$eval('[data-test="destination-error"]', (rows) => rows.length), paid);
  assert.match(await page.textContent('[data-test="destination-error"]'), /503/);
  await page.waitForSelector('[data-test="destination-success-chart"]');
  await page.waitForSelector('[data-test="destination-latency-chart"]');
  assert.match(await page.textContent('[data-test="circuit-why"]'), /Circuit closed/);
  await shot('destination');
  await page.click('[data-test="destination-dead-letters"]');
  await page.waitForSelector('[data-test="page-dead-letters"]');
  assert.match(page.url(), /destination=crm/);
  await page.goBack();
  await page.waitForSelector('[data-test="destination-events"]');
  await page.click('[data-test="destination-events"]');
  assert.equal((await listed()).length, paid);
  step('a destination page: errors, charts, links to its events and dead letters');
  await go('overview');
  await page.click('[data-test="overview"] [data-test="destination-link"]');
  await page.waitForSelector('[data-test="destination-facts"]');
  // From a dead letter's row and from an event's delivery to the destination's page.
  await go('dead-letters');
  await page.click('[data-test="dead-letter-row"] [data-test="destination-link"][href="#/destinations/crm"]');
  await page.waitForSelector('[data-test="destination-facts"]');
  assert.equal(new URL(page.url()).hash, '#/destinations/crm');
  await go(`events/${eventId}`);
  await page.click('[data-test="delivery"][data-destination="warehouse"] [data-test="destination-link"]');
  await page.waitForSelector('[data-test="destination-facts"]');
  assert.equal(new URL(page.url()).hash, '#/destinations/warehouse');
  await go('destinations/legacy-erp');
  await page.waitForSelector('[data-test="disabled-why"]');
  assert.match(await page.textContent('[data-test="disabled-why"]'), /410 Gone/);
  await shot('destination-paused');
  step('names link to the page (overview, dead letters, event), which says why a destination is paused (410 Gone)');

  // Layout at 1,280 px.
  await go('destinations');
  await page.waitForSelector('[data-test="destination-row"]');
  const fit = await page.$eval('[data-test="destination-row"]', (row) => {
    const table = row.closest('table');
    const panel = table.parentElement;
    const actions = row.querySelector('td:last-child button');
    return {
      table: table.scrollWidth, panel: panel.clientWidth, page: document.documentElement.scrollWidth,
      buttonRight: actions.getBoundingClientRect().right,
    };
  });
  assert.ok(fit.table <= fit.panel && fit.page <= 1280 && fit.buttonRight <= 1280, `destinations fit: ${JSON.stringify(fit)}`);
  await shot('destinations-1280');
  await go('overview');
  await page.waitForSelector('[data-test="latency-chart"]');
  const rows = await page.$$eval('.cards > .card', (cards) => {
    const byTop = new Map();
    for (const c of cards) byTop.set(c.offsetTop, (byTop.get(c.offsetTop) || 0) + 1);
    return [...byTop.values()];
  });
  assert.ok(rows.every((n) => n > 1), `no card alone on a row: ${rows}`);
  const overlaps = await page.$$eval('[data-test="latency-chart"] text[text-anchor="middle"]', (labels) => {
    const boxes = labels.map((l) => l.getBoundingClientRect()).sort((a, b) => a.left - b.left);
    return boxes.slice(1).filter((b, i) => b.left < boxes[i].right).length;
  });
  assert.equal(overlaps, 0, 'the histogram labels do not overlap');
  await shot('overview-1280');
  step('1,280 px: the destinations table fits, the cards fill their rows, the labels are apart');

  // 390 px: the menu is collapsed behind a button, the content takes the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await go('overview');
  await page.waitForSelector('[data-test="card-received"]');
  assert.equal(await page.isVisible('[data-test="nav-events"]'), false, 'the menu is collapsed');
  const narrow = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    content: document.querySelector('main.content').getBoundingClientRect().width,
    left: document.querySelector('main.content').getBoundingClientRect().left,
  }));
  assert.ok(narrow.page <= 390 && narrow.content >= 350 && narrow.left < 20, `the content fits: ${JSON.stringify(narrow)}`);
  await shot('mobile-overview');
  await page.click('[data-test="menu"]');
  await page.waitForSelector('[data-test="nav-events"]', { state: 'visible' });
  await shot('mobile-menu');
  await page.click('[data-test="nav-events"]');
  await page.waitForSelector('[data-test="page-events"]');
  assert.equal(await page.isVisible('[data-test="nav-events"]'), false, 'the menu closes on navigation');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the events page fits');
  step('390 px: a collapsible menu, content that fits');

  assert.deepEqual(problems, []);
  step('no page errors or CSP violations');
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
