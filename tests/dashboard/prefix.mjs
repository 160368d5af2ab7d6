// The dashboard mounted under a path prefix (`/ops`) of a host app, in headless Chromium.
// Run by tests/tests/dashboard_prefix.rs. Environment:
//   RELAY_URL, RELAY_PREFIX                 the host app and where it nests the control plane
//   RELAY_ENTRIES                           the paths to open the page at (space-separated)
//   RELAY_USER, RELAY_PASSWORD              a dashboard user
//   RELAY_CHROMIUM                          the browser (default /usr/bin/chromium)
//   RELAY_DASHBOARD_NODE_MODULES            where playwright-core is installed
// Opens the page at each entry (`{prefix}`, `{prefix}/`), logs in, visits pages, and fails on any page error, CSP
// violation, failed request or request outside the prefix.

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
const prefix = env('RELAY_PREFIX');
const require = createRequire(join(env('RELAY_DASHBOARD_NODE_MODULES'), 'noop.js'));
const { chromium } = require('playwright-core');

const profile = mkdtempSync(join(tmpdir(), 'relay-dashboard-prefix-'));
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
const requested = [];
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('console', (message) => {
  if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
});
page.on('response', (response) => {
  const url = new URL(response.url());
  requested.push(url.pathname);
  if (!url.pathname.startsWith(prefix)) problems.push(`outside the prefix: ${url.pathname}`);
  // 401 is the answer to /auth/me before logging in.
  if (response.status() >= 400 && response.status() !== 401) problems.push(`${response.status()} ${url.pathname}`);
});
page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
const step = (name) => console.log(`✓ ${name}`);

try {
  for (const entry of env('RELAY_ENTRIES').split(' ')) {
    await page.goto(`${base}${entry}`);
    await page.waitForSelector('[data-test="login-form"]');
    await page.waitForFunction(() => document.querySelector('.brand img')?.complete);
    const logo = await page.$eval('.brand img', (img) => new URL(img.src).pathname);
    assert.equal(logo, `${prefix}/dashboard/favicon.svg`);
    step(`login page at ${entry}`);
  }
  await page.fill('input[name="username"]', env('RELAY_USER'));
  await page.fill('input[name="password"]', env('RELAY_PASSWORD'));
  await page.click('[data-test="login"]');
  await page.waitForSelector('[data-test="page-overview"]');
  step('logged in: the overview');
  for (const name of ['events', 'dead-letters', 'destinations', 'audit']) {
    await page.click(`[data-test="nav-${name}"]`);
    await page.waitForSelector(`[data-test="page-${name}"]`);
    await page.waitForLoadState('networkidle');
  }
  step('pages under the prefix');
  assert.ok(requested.some((p) => p.startsWith(`${prefix}/api/v1/`)), `the API was called under ${prefix}: ${requested}`);
  assert.ok(requested.includes(`${prefix}/dashboard/app.js`), 'the scripts load under the prefix');
  await page.click('[data-test="logout"]');
  await page.waitForSelector('[data-test="login-form"]');
  step('logged out');
  assert.deepEqual(problems, []);
  step('no errors, no request outside the prefix');
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
