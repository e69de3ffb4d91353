// The signed-in person: the shop's (or the operator's) key, kept in sessionStorage only, so it is gone when
// the tab closes and never written to disk by the page.
import { request } from '../shared/api.js';

const KEY = 'mall.backoffice.key';
const ROLE = 'mall.backoffice.role';
// Answers that mean the key no longer opens this back office: sign the person out and say why.
const SIGN_OUT_CODES = new Set(['missing_api_key', 'invalid_api_key', 'wrong_role', 'not_authenticated']);

let onSignedOut = () => {};

export function session() {
  const key = sessionStorage.getItem(KEY);
  return key ? { key, role: sessionStorage.getItem(ROLE) || 'retailer' } : null;
}

export function signIn(key, role) {
  sessionStorage.setItem(KEY, key);
  sessionStorage.setItem(ROLE, role);
}

export function signOut(reason) {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(ROLE);
  onSignedOut(reason);
}

export function whenSignedOut(listener) {
  onSignedOut = listener;
}

/** request() with the session's key; an answer refusing the key signs the person out. */
export async function call(path, options = {}) {
  const current = session();
  try {
    return await request(path, { ...options, key: options.key || (current && current.key) });
  } catch (error) {
    if (!options.key && current && (error.status === 401 || SIGN_OUT_CODES.has(error.code))) {
      signOut('expired');
    }
    throw error;
  }
}
