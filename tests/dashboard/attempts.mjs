// Checks of the attempt view and of the overview's p99 for e2e.mjs: the attempt of a replayed
// dead letter (request as sent, response, who replayed it), and a dead letter of an event
// received long ago replayed from its row, whose delivery latency reads "> 60 s".

import assert from 'node:assert/strict';

/**
 * On an event page whose CRM delivery was dead-lettered after two attempts and replayed by
 * user:admin: the third attempt says who replayed it and opens on the request as sent
 * (webhook-id and x-relay-* shown, the signature redacted) and the response.
 */
export async function attemptViewOfTheReplay(page, shot, step) {
  const crmDelivery = '[data-test="delivery"][data-destination="crm"]';
  // Rows alternate with their (hidden) detail rows: attempt n is child 2n - 1.
  const third = `${crmDelivery} [data-test="attempt-row"]:nth-child(5)`;
  assert.match(await page.textContent(`${third} [data-test="replayed-by"]`), /replay by user:admin/);
  assert.match(await page.textContent(`${crmDelivery} [data-test="attempt-row"]:nth-child(3)`), /retry/);
  await page.click(third);
  const opened = `${crmDelivery} [data-test="attempt-detail"]:not([hidden])`;
  await page.waitForSelector(opened);
  assert.match(await page.textContent(`${opened} [data-test="request-line"]`), /^POST http:\/\/127\.0\.0\.1:\d+/);
  const sent = await page.$$eval(`${opened} [data-test="request-headers"] dt`, (names) => names.map((n) => n.textContent));
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-relay-attempt', 'x-relay-event-id', 'content-type']) {
    assert.ok(sent.includes(name), `${name} in ${sent}`);
  }
  const headerValue = (name) => page.$eval(`${opened} [data-test="request-headers"]`, (dl, n) => {
    const dt = [...dl.querySelectorAll('dt')].find((x) => x.textContent === n);
    return dt.nextElementSibling.textContent;
  }, name);
  assert.equal(await headerValue('webhook-signature'), 'redacted');
  assert.match(await headerValue('webhook-id'), /^msg_/);
  assert.equal(await headerValue('x-relay-attempt'), '3');
  assert.match(await page.textContent(`${opened} [data-test="request-body"]`), /payload as received/);
  assert.match(await page.textContent(`${opened} [data-test="attempt-response"]`), /HTTP 200/);
  assert.notEqual((await page.textContent(`${third} [data-test="attempt-latency"]`)).trim(), '0 ms');
  assert.match(await page.textContent(`${third} [data-test="attempt-wait"]`), /\d/);
  await shot('attempt-view');
  step('attempt view: request as sent (signature redacted), response, replayed by user:admin');
}

/**
 * Replays from its row the dead letter of `oldEvent` (received two hours ago): once it is
 * delivered, its latency (received → delivered) is beyond the histogram's last bucket and the
 * overview's p99 reads "> 60 s". `dead` letters are listed before (one of them replayed).
 */
export async function slowReplayReadsOver60s(page, go, shot, step, { oldRow, dead, oldEvent }) {
  await go('dead-letters');
  await page.click(`${oldRow} [data-test="replay-one"]`);
  await page.waitForFunction((n) => document.querySelectorAll('[data-test="dead-letter-row"]').length === n, dead - 1);
  await go(`events/${oldEvent}`);
  await page.waitForSelector('[data-test="delivery"][data-destination="crm"][data-status="delivered"]', { timeout: 60000 });
  await go('overview');
  await page.waitForFunction(() => /p99 > 60 s/.test(document.querySelector('[data-test="p99"]')?.textContent ?? ''), null, { timeout: 60000 });
  assert.doesNotMatch(await page.textContent('[data-test="card-latency"]'), /18446744073709552|Infinity/);
  await shot('overview-slow-replay');
  step('dead letter replayed from its row; the p99 of the slow replayed delivery reads "> 60 s"');
}
