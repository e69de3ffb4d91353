// Tiny i18n: fr, nl, en (a Belgian mall). The default comes from navigator.languages; the person's choice
// is kept in localStorage. Each app registers its own dictionaries (web/<app>/i18n/{fr,nl,en}.js).

export const LANGS = ['fr', 'nl', 'en'];
const STORAGE_KEY = 'mall.lang';
let dictionaries = { fr: {}, nl: {}, en: {} };
let current = null;
const listeners = new Set();

/** Give the app's dictionaries: {fr: {...}, nl: {...}, en: {...}}. */
export function register(dicts) {
  dictionaries = { ...dictionaries, ...dicts };
}

function fromBrowser() {
  const wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en']);
  for (const tag of wanted) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export function lang() {
  if (!current) {
    let stored = null;
    try {
      stored = localStorage.getItem(STORAGE_KEY);
    } catch {
      stored = null;
    }
    current = LANGS.includes(stored) ? stored : fromBrowser();
    document.documentElement.lang = current;
  }
  return current;
}

export function setLang(value) {
  if (!LANGS.includes(value)) return;
  current = value;
  try {
    localStorage.setItem(STORAGE_KEY, value);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.lang = value;
  for (const listener of listeners) listener(value);
}

/** Call `listener(lang)` after each language change (the app re-renders). */
export function onLangChange(listener) {
  listeners.add(listener);
}

/** The text for `key` in the current language (falling back to English, then the key), {name} filled from vars. */
export function t(key, vars = {}) {
  const l = lang();
  const text = (dictionaries[l] && dictionaries[l][key]) ?? (dictionaries.en && dictionaries.en[key]) ?? key;
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}
