// The admin API client: JSON in and out, errors as ApiError, 401 sends the user to login.

/** An error answer of the admin API (`{"error": code, "message"?, "fields"?}`). */
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(describe(status, body, retryAfter));
    this.status = status;
    this.code = body && body.error;
    this.fields = (body && body.fields) || [];
  }
}

let onUnauthorized = () => {};
let currentRole = 'viewer';

/** What to do when a call answers 401 (the session ended). */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/** The role of the user, to name it in 403 messages. */
export function setRole(role) {
  currentRole = role;
}

function describe(status, body, retryAfter) {
  const message = body && body.message;
  switch (status) {
    case 0: return 'Cannot reach the gateway. Check that it is running.';
    case 401: return 'Your session has ended. Log in again.';
    case 403: return `Your role (${currentRole}) cannot do this.`;
    case 404: return message || 'Not found: it may have been removed.';
    case 409: return message || 'Conflict: it already exists or changed meanwhile.';
    case 422: {
      const fields = (body && body.fields) || [];
      const detail = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
      return `Invalid request${detail ? ` — ${detail}` : message ? ` — ${message}` : ''}.`;
    }
    case 429: {
      const minutes = retryAfter ? Math.ceil(Number(retryAfter) / 60) : null;
      return `Too many failed logins: this account is locked${minutes ? ` for about ${minutes} min` : ''}.`;
    }
    case 503: return 'The gateway cannot reach its store right now. Try again shortly.';
    default: return message || `The gateway answered ${status}${body && body.error ? ` (${body.error})` : ''}.`;
  }
}

// The API is `api/v1` next to the `dashboard/` folder this module is served from, so the
// dashboard works wherever the control plane is mounted (`/`, `/ops/`, …).
const API_BASE = new URL('../api/v1', import.meta.url).pathname;

/** The URL of a file of the dashboard (e.g. `favicon.svg`), wherever it is mounted. */
export const asset = (name) => new URL(name, import.meta.url).pathname;

function query(params) {
  if (!params) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Calls `METHOD /api/v1{path}`; resolves to the JSON answer (null for 204). */
export async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`${API_BASE}${path}`, init);
  } catch {
    throw new ApiError(0, null);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: 'invalid_response', message: text.slice(0, 200) };
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data, response.headers.get('retry-after'));
    if (response.status === 401 && path !== '/auth/login') onUnauthorized();
    throw error;
  }
  return data;
}

/** `GET /api/v1{path}?{params}`. */
export const get = (path, params) => call('GET', path + query(params));

/** `POST /api/v1{path}` with a JSON body (`{}` when none). */
export const post = (path, body) => call('POST', path, body === undefined ? {} : body);

/** `PUT /api/v1{path}` with a JSON body. */
export const put = (path, body) => call('PUT', path, body);

/** `DELETE /api/v1{path}`. */
export const del = (path) => call('DELETE', path);

/** The path segment for a name or id. */
export const seg = (value) => encodeURIComponent(value);
