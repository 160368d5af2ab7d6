// The attempt view: every attempt of a delivery with the request it sent (method, URL,
// headers with signatures and credentials redacted, body as sent), the response (status,
// headers, body excerpt), its timing in ms, the wait before it, and whether it followed a
// manual replay and by whom (the audit log's actor). Times to the millisecond.

import { h, table, badge } from './ui.js';
import { ms, preciseMs, timeMs } from './format.js';

function headerList(headers, test) {
  if (!headers || headers.length === 0) return h('div', { class: 'muted' }, 'None kept.');
  return h('dl', { class: 'kv headers', 'data-test': test },
    headers.map((x) => [
      h('dt', null, h('code', null, x.name)),
      h('dd', null, x.value === '[redacted]' ? badge('redacted') : h('code', null, x.value)),
    ]));
}

function requestPart(a) {
  const r = a.request;
  if (!r) {
    return h('div', { class: 'muted' }, a.error && a.error.startsWith('transform')
      ? 'Nothing was sent: the transformer failed.'
      : 'The request of this attempt was not kept (recorded before requests were).');
  }
  return h('div', { 'data-test': 'attempt-request' },
    h('div', null, h('code', { 'data-test': 'request-line' }, [r.method, r.url].filter(Boolean).join(' ') || 'in-process handler')),
    h('h4', null, 'Headers'),
    headerList(r.headers, 'request-headers'),
    h('h4', null, 'Body'),
    r.body_source === 'transformed'
      ? h('pre', { class: 'code', 'data-test': 'request-body' }, r.body)
      : h('div', { class: 'muted', 'data-test': 'request-body' }, 'The event\'s payload as received (shown above).'));
}

function responsePart(a) {
  const r = a.response || {};
  return h('div', { 'data-test': 'attempt-response' },
    h('div', null, r.status_code ? h('code', null, `HTTP ${r.status_code}`) : h('span', { class: 'muted' }, a.error || 'No response')),
    h('h4', null, 'Headers'),
    headerList(r.headers, 'response-headers'),
    h('h4', null, 'Body excerpt'),
    r.body_excerpt ? h('pre', { class: 'code', 'data-test': 'response-body' }, r.body_excerpt) : h('div', { class: 'muted' }, 'Empty.'));
}

function replayCell(a) {
  if (!a.replay) return h('span', { class: 'muted' }, a.number === 1 ? 'first attempt' : 'retry');
  const who = a.replay.by ? `${a.replay.action || 'replay'} by ${a.replay.by}` : 'replay (audit entry pruned)';
  return h('span', { 'data-test': 'replayed-by', title: a.replay.at || '' }, badge('replay', who));
}

function detailRow(a, columns) {
  return h('tr', { class: 'attempt-detail', 'data-test': 'attempt-detail', hidden: true },
    h('td', { colspan: columns },
      h('div', { class: 'two' },
        h('div', null, h('h3', null, 'Request'), requestPart(a)),
        h('div', null, h('h3', null, 'Response'), responsePart(a)))));
}

/** The attempts of one delivery; a row opens its request and response. */
export function attemptView(attempts) {
  if (!attempts || attempts.length === 0) return h('div', { class: 'muted' }, 'No attempt yet.');
  const columns = [
    { title: '#', class: 'num', cell: (a) => a.number },
    { title: 'Started', cell: (a) => h('span', { class: 'mono', title: a.started_at }, timeMs(a.started_at)) },
    { title: 'Wait before', class: 'num', cell: (a) => h('span', { 'data-test': 'attempt-wait' }, ms(a.wait_ms)) },
    { title: 'Latency (this request)', class: 'num', cell: (a) => h('span', { 'data-test': 'attempt-latency' }, a.latency_us !== undefined ? preciseMs(a.latency_us) : ms(a.latency_ms)) },
    { title: 'Status', cell: (a) => (a.status_code ? h('code', null, a.status_code) : h('span', { class: 'muted' }, '—')) },
    { title: 'Outcome', cell: (a) => badge(a.outcome) },
    { title: 'Why', cell: (a) => replayCell(a) },
    { title: 'Error / response', cell: (a) => h('div', null, a.error ? h('div', null, a.error) : null, a.response_excerpt ? h('code', { class: 'muted excerpt' }, a.response_excerpt.slice(0, 120)) : null) },
  ];
  const view = table(columns, attempts, { rowAttrs: () => ({ 'data-test': 'attempt-row', class: 'link', title: 'Show the request and response' }) });
  const body = view.querySelector('tbody');
  for (const [i, row] of [...body.querySelectorAll('tr')].entries()) {
    const detail = detailRow(attempts[i], columns.length);
    row.after(detail);
    row.addEventListener('click', () => { detail.hidden = !detail.hidden; });
  }
  return h('div', { class: 'nested' }, view);
}
