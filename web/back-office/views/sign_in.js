// Sign in with the shop's key (or, below, the operator's). The key is checked by one API call before it is
// kept, so a wrong key is refused here in words.
import { t } from '../../shared/i18n.js';
import { request } from '../../shared/api.js';
import { el, field, notice, errorText, put } from '../ui.js';
import { signIn } from '../session.js';

function keyForm(role, testid) {
  const input = el('input', {
    type: 'password', autocomplete: 'off', spellcheck: 'false', required: true,
    'data-testid': `${testid}-key`, name: 'key',
  });
  const message = el('div', { 'aria-live': 'polite' });
  const button = el('button', { type: 'submit', 'data-testid': `${testid}-submit` }, t('signIn.submit'));
  const form = el('form', { class: 'card', 'data-testid': testid },
    field(role === 'operator' ? t('signIn.operatorKey') : t('signIn.shopKey'), input), message, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    message.replaceChildren();
    try {
      await request(role === 'operator' ? '/operator/commission' : '/retailer/shop', { key });
      signIn(key, role);
      const target = role === 'operator' ? '#/operator' : '#/orders';
      if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'));
      else location.hash = target;
    } catch (error) {
      const wrong = error.status === 401 || error.status === 403;
      message.replaceChildren(notice('error', wrong ? t('signIn.wrongKey') : errorText(error), 'sign-in-error'));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export function signInView(root, reason) {
  put(root, 
    el('h1', {}, t('signIn.title')),
    reason === 'expired' ? notice('error', t('signIn.expired'), 'signed-out-reason') : null,
    reason === 'byUser' ? notice('ok', t('signIn.signedOut'), 'signed-out-reason') : null,
    el('p', {}, t('signIn.help')),
    keyForm('retailer', 'sign-in'),
    el('details', { class: 'operator-sign-in' },
      el('summary', {}, t('signIn.operator')),
      keyForm('operator', 'operator-sign-in')),
  );
}
