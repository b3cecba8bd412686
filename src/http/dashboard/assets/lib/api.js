// Talks to the management API with HTTP basic auth. The credentials live in sessionStorage (gone when
// the tab closes) and are sent explicitly; `credentials: 'omit'` keeps the browser from showing its own
// login prompt when the API answers 401 with WWW-Authenticate.

const STORAGE_KEY = 'warren.credentials';

export class ApiError extends Error {
  constructor(status, reason) {
    super(reason);
    this.status = status;
  }
}

/** base64 of UTF-8 bytes (btoa alone only takes Latin-1). */
function base64Utf8(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A path segment: vhost "/" becomes %2F as the API expects. */
export function seg(value) {
  return encodeURIComponent(value);
}

export class Api {
  constructor(storage = sessionStorage) {
    this.storage = storage;
  }

  get loggedIn() {
    return this.storage.getItem(STORAGE_KEY) !== null;
  }

  login(user, password) {
    this.storage.setItem(STORAGE_KEY, base64Utf8(`${user}:${password}`));
  }

  logout() {
    this.storage.removeItem(STORAGE_KEY);
  }

  get(path) {
    return this.request('GET', path);
  }

  put(path, body) {
    return this.request('PUT', path, body ?? {});
  }

  post(path, body) {
    return this.request('POST', path, body ?? {});
  }

  delete(path) {
    return this.request('DELETE', path);
  }

  async request(method, path, body) {
    const headers = { accept: 'application/json' };
    const token = this.storage.getItem(STORAGE_KEY);
    if (token !== null) headers.authorization = `Basic ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      credentials: 'omit',
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const json = text === '' ? undefined : parseJson(text);
    if (!response.ok) throw new ApiError(response.status, errorReason(response, json));
    return json;
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorReason(response, json) {
  if (json !== null && typeof json === 'object' && typeof json.reason === 'string') return json.reason;
  if (typeof json === 'string' && json !== '') return json;
  return `${response.status} ${response.statusText}`;
}
