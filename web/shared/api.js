// The one small API client both web apps use (contract: see the README's "Web apps" section).
// JSON in and out; every non-2xx answer becomes an ApiError carrying the API's one error shape
// {"error": {"code", "message", "fields": [{field, message}], "details": {}}}.

let apiUrlPromise = null;

/** The API's base URL, read once from /config.json on the page's own origin (written by `make run` or the deploy). */
export async function apiUrl() {
  if (!apiUrlPromise) {
    apiUrlPromise = fetch(new URL('/config.json', location.origin), { cache: 'no-store' })
      .then((response) => {
        if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
        return response.json();
      })
      .then((config) => String(config.api_url || '').replace(/\/+$/, ''))
      .catch((error) => {
        apiUrlPromise = null; // let a later call try again
        throw error;
      });
  }
  return apiUrlPromise;
}

/** The whole config.json (e.g. a Stripe publishable key), read once. */
let configPromise = null;
export async function config() {
  if (!configPromise) {
    configPromise = fetch(new URL('/config.json', location.origin), { cache: 'no-store' }).then((r) => r.json());
  }
  return configPromise;
}

export class ApiError extends Error {
  constructor(status, code, message, fields, details) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || 'error';
    this.fields = fields || [];
    this.details = details || {};
  }
}

/**
 * Call the API. `path` starts with "/" (e.g. "/products?q=choco"); `body` is sent as JSON.
 * Returns the parsed JSON, or null for 204. Network failures become ApiError(0, 'network_error', ...).
 */
export async function request(
  path,
  { method = 'GET', body, headers = {}, key, cartToken, orderToken, idempotencyKey } = {},
) {
  const base = await apiUrl();
  const all = { Accept: 'application/json', ...headers };
  if (body !== undefined) all['Content-Type'] = 'application/json';
  if (key) all.Authorization = `Bearer ${key}`;
  if (cartToken) all['X-Cart-Token'] = cartToken;
  if (orderToken) all['X-Order-Token'] = orderToken;
  if (idempotencyKey) all['Idempotency-Key'] = idempotencyKey;
  let response;
  try {
    response = await fetch(base + path, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, 'network_error', error && error.message ? error.message : 'Network error');
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(response.status, e.code, e.message, e.fields, e.details);
  }
  return data;
}

/** A fresh Idempotency-Key for one user action (retries of the same action reuse it). */
export function newIdempotencyKey() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}
