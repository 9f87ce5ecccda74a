// The vault's own JSON API, called with the session cookie. State changes carry the session's
// CSRF token; a 401 means the session ended and sends the user back to sign in.

let csrfToken = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function configure({ csrf, signedOut }) {
  if (csrf !== undefined) csrfToken = csrf;
  if (signedOut) onSignedOut = signedOut;
}

/** request('POST', path, {form: {Name: value}}) → the parsed JSON (null for 204). */
export async function request(method, path, { form, json, signal, allow401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (form) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) {
      if (value !== undefined && value !== null) params.append(name, String(value));
    }
    body = params;
  } else if (json) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, { method, headers, body, signal, credentials: 'same-origin', redirect: 'error' });
  if (response.status === 401 && !allow401) {
    onSignedOut();
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, parsed?.code ?? response.status,
      parsed?.message ?? `The vault answered ${response.status} ${response.statusText}`);
  }
  return parsed;
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, form, options) => request('POST', path, { ...options, form });
export const del = (path, options) => request('DELETE', path, options);

/** Every item of a /2010-04-01 list, following next_page_uri (for short lists: accounts, keys). */
export async function all(path, key) {
  const items = [];
  let next = path;
  while (next) {
    const page = await get(next);
    items.push(...page[key]);
    next = page.next_page_uri;
  }
  return items;
}

export const accountPath = sid => `/2010-04-01/Accounts/${encodeURIComponent(sid)}`;

let statusesOnce = null;

/** A recording's statuses, as the API document spells them (the server's one list; fetched once). */
export async function recordingStatuses() {
  statusesOnce ??= get('/openapi/v1.json').then(doc => doc.components.schemas.Recording.properties.status.enum);
  return statusesOnce;
}
