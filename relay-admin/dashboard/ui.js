// DOM helpers: elements, tables, badges, empty and error states, dialogs and toasts.
// Text always goes in as text nodes (never innerHTML), so API data cannot inject markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function assign(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'selected') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element: h('div', {class: 'x'}, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  assign(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  assign(el, attrs);
  append(el, children);
  return el;
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const STATE_CLASS = {
  delivered: 'ok',
  closed: 'ok',
  enabled: 'ok',
  active: 'ok',
  pending: 'info',
  in_flight: 'info',
  retrying: 'warn',
  half_open: 'warn',
  disabled: 'warn',
  paused: 'warn',
  no_route: '',
  discarded: '',
  open: 'dead',
  dead_lettered: 'dead',
  failed: 'bad',
  healthy: 'ok',
  degraded: 'warn',
  failing: 'bad',
  idle: '',
  replay: 'info',
};

/** A coloured badge for a state such as `delivered` or `dead_lettered`. */
export function badge(state, label) {
  const cls = STATE_CLASS[state] ?? '';
  return h('span', { class: `badge ${cls}`, dataset: { state } }, label || String(state).replace(/_/g, ' '));
}

/**
 * A table: columns are {title, cell: row => node|text, class?}; options.onRow makes rows
 * clickable, options.rowAttrs adds attributes per row.
 */
export function table(columns, rows, options = {}) {
  const head = h('tr', null, columns.map((c) => h('th', { class: c.class }, c.title)));
  const body = rows.map((row) => {
    const attrs = options.rowAttrs ? options.rowAttrs(row) : {};
    if (options.onRow) {
      attrs.class = `${attrs.class || ''} link`;
      attrs.onclick = (event) => {
        if (event.target.closest('button, input, a, label')) return;
        options.onRow(row);
      };
    }
    return h('tr', attrs, columns.map((c) => h('td', { class: c.class }, c.cell(row))));
  });
  return h('table', { class: options.class }, h('thead', null, head), h('tbody', null, body));
}

/** An empty state: a title and a hint. */
export function empty(title, ...hint) {
  return h('div', { class: 'empty', 'data-test': 'empty' }, h('div', { class: 'title' }, title), h('div', null, hint));
}

/** An error message box. */
export function errorBox(error) {
  return h('div', { class: 'error', role: 'alert', 'data-test': 'error' }, error.message || String(error));
}

/** A loading placeholder. */
export function loading(text = 'Loading…') {
  return h('div', { class: 'loading' }, text);
}

/** A short message in the corner. */
export function toast(message, kind = '') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast ${kind}`, 'data-test': 'toast' }, message);
  box.append(el);
  setTimeout(() => el.remove(), 5000);
}

/** A modal dialog; resolves to true when confirmed. */
export function confirmDialog({ title, message, confirm = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'data-test': 'confirm-dialog' });
    const close = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    mount(
      dialog,
      h('h2', null, title),
      h('p', { class: 'muted' }, message),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
        h('button', {
          type: 'button', class: danger ? 'danger solid' : 'primary', 'data-test': 'confirm', onclick: () => close(true),
        }, confirm)),
    );
    dialog.addEventListener('cancel', () => close(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A modal that shows a secret once, with a copy button. */
export function secretDialog(title, explanation, secret) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'data-test': 'secret-dialog' });
    mount(
      dialog,
      h('h2', null, title),
      h('p', { class: 'muted' }, explanation),
      h('div', { class: 'secret', 'data-test': 'secret' }, secret),
      h('div', { class: 'actions' },
        copyButton(secret, 'Copy secret'),
        h('button', {
          type: 'button',
          class: 'primary',
          'data-test': 'done',
          onclick: () => {
            dialog.close();
            dialog.remove();
            resolve();
          },
        }, 'I have stored it')),
    );
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A button that copies `text` to the clipboard. */
export function copyButton(text, label = 'Copy') {
  return h('button', {
    type: 'button',
    class: 'small',
    onclick: async (event) => {
      const button = event.currentTarget;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = 'Copied';
      } catch {
        button.textContent = 'Select and copy';
      }
      setTimeout(() => { button.textContent = label; }, 1500);
    },
  }, label);
}

/** A labelled form field. */
export function field(label, input, grow = false) {
  return h('label', { class: `field${grow ? ' grow' : ''}` }, label, input);
}

/** A <select> with an "any" option and `options` (strings or [value, label]). */
export function select(name, options, value, anyLabel = 'Any') {
  const items = options.map((o) => (Array.isArray(o) ? o : [o, o]));
  return h('select', { name },
    anyLabel === null ? null : h('option', { value: '' }, anyLabel),
    items.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));
}

/** A panel with a heading, optional actions on the right, and content. */
export function panel(title, actions, ...content) {
  return h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', null, title), h('div', { class: 'spacer' }), actions),
    content);
}

/**
 * A modal form: `fields` are [label, input] pairs (or nodes), `submit(form)` does the work and
 * may throw an ApiError, shown in the dialog (422: every field's message). Resolves to what
 * `submit` returned, or null when cancelled.
 */
export function formDialog({ title, intro, fields, confirm = 'Save', submit, testId = 'form-dialog' }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'data-test': testId });
    const message = h('div');
    const button = h('button', { type: 'submit', class: 'primary', 'data-test': 'submit' }, confirm);
    const close = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    const form = h('form', {
      class: 'stack',
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        mount(message);
        try {
          close(await submit(form));
        } catch (error) {
          mount(message, errorBox(error));
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h2', null, title),
    intro ? h('p', { class: 'muted' }, intro) : null,
    fields.map((f) => (Array.isArray(f) ? field(f[0], f[1]) : f)),
    message,
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => close(null) }, 'Cancel'), button));
    dialog.addEventListener('cancel', () => close(null));
    mount(dialog, form);
    document.body.append(dialog);
    dialog.showModal();
  });
}
