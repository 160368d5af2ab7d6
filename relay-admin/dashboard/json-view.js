// A read-only, syntax-coloured JSON viewer (pretty-printed, built from text nodes).

import { h, copyButton } from './ui.js';

function render(value, indent, out) {
  const pad = '  '.repeat(indent);
  if (value === null) {
    out.push(h('span', { class: 'z' }, 'null'));
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      out.push('[]');
      return;
    }
    out.push('[\n');
    value.forEach((item, i) => {
      out.push(`${pad}  `);
      render(item, indent + 1, out);
      out.push(i < value.length - 1 ? ',\n' : '\n');
    });
    out.push(`${pad}]`);
  } else if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) {
      out.push('{}');
      return;
    }
    out.push('{\n');
    entries.forEach(([key, item], i) => {
      out.push(`${pad}  `, h('span', { class: 'k' }, JSON.stringify(key)), ': ');
      render(item, indent + 1, out);
      out.push(i < entries.length - 1 ? ',\n' : '\n');
    });
    out.push(`${pad}}`);
  } else if (typeof value === 'string') {
    out.push(h('span', { class: 's' }, JSON.stringify(value)));
  } else if (typeof value === 'number') {
    out.push(h('span', { class: 'n' }, String(value)));
  } else {
    out.push(h('span', { class: 'b' }, String(value)));
  }
}

/** A <pre> showing `value` as indented, coloured JSON, with a copy button above it. */
export function jsonView(value, testId = 'json') {
  const parts = [];
  render(value, 0, parts);
  return h('div', null,
    h('div', { class: 'actions' }, copyButton(JSON.stringify(value, null, 2), 'Copy JSON')),
    h('pre', { class: 'code', 'data-test': testId }, parts));
}

/** A compact one-line rendering of a JSON value for table cells. */
export function inline(value) {
  if (value === undefined) return h('span', { class: 'muted' }, '—');
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return h('code', null, text.length > 120 ? `${text.slice(0, 117)}…` : text);
}
