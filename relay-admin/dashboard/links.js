// Links to the dashboard's objects, so every list leads to what it names.

import { h } from './ui.js';

/** `#/destinations/{name}`: the destination's own page. */
export const destinationHref = (name) => `#/destinations/${encodeURIComponent(name)}`;

/** A destination's name linking to its page. */
export function destinationLink(name) {
  return h('a', { href: destinationHref(name), class: 'object-link', 'data-test': 'destination-link', onclick: (e) => e.stopPropagation() }, name);
}

/** `#/events/{id}`: the event's page. */
export const eventHref = (id) => `#/events/${encodeURIComponent(id)}`;

/** An event's id (shortened) linking to its page. */
export function eventLink(id, text = id) {
  return h('a', { href: eventHref(id), class: 'object-link mono', 'data-test': 'event-link', onclick: (e) => e.stopPropagation() }, text);
}

/** `#/{page}?{params}`: a filtered list. */
export function listHref(page, params) {
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString();
  return `#/${page}${search ? `?${search}` : ''}`;
}
