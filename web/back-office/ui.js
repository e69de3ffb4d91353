// Small helpers of the back office on top of web/shared: elements are built by dom.js's h() only
// (textContent/setAttribute), so nothing the API or a person types is ever parsed as HTML.
import { h } from '../shared/dom.js';
import { t, lang } from '../shared/i18n.js';
import { formatCents } from '../shared/money.js';

export const el = h;
export const euros = formatCents;

let uid = 0;
/** A labelled field around `input` (its id is made up when it has none). */
export function field(label, input, hint) {
  if (!input.id) input.id = `f${++uid}`;
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hint ? h('small', {}, hint) : null);
}

export function when(iso) {
  if (!iso) return '';
  const locale = { fr: 'fr-BE', nl: 'nl-BE', en: 'en-GB' }[lang()] || 'en-GB';
  return new Date(iso).toLocaleString(locale, {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  });
}

/** An API error in words: our own text for its code when we have one, else the API's message. */
export function errorText(error) {
  if (!error) return t('error.unknown');
  if (!error.status) return t('error.network');
  const vars = { ...(error.details || {}) };
  if (vars.retry_after_seconds !== undefined) vars.minutes = Math.max(1, Math.ceil(vars.retry_after_seconds / 60));
  const key = `error.${error.code}`;
  const known = t(key, vars);
  const text = known === key ? error.message : known;
  const fields = (error.fields || []).map((f) => `${f.field}: ${f.message}`);
  return fields.length ? `${text} (${fields.join('; ')})` : text;
}

/** A message: role=alert for errors, role=status for confirmations. */
export function notice(kind, text, testid) {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': testid || `notice-${kind}` }, text);
}

export function statusLabel(status) {
  return t(`status.${status}`);
}

/** Append children to `node` the way h() does: arrays flattened, null/undefined/false left out (the DOM's own
 * append() would write them as the text "null"). */
export function put(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
