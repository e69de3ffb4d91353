// Webhook settings: the URL the mall signs and posts the shop's events to, its last delivery, and the
// signing secret (shown once, when registering).
import { t } from '../../shared/i18n.js';
import { el, field, notice, errorText, when, put } from '../ui.js';
import { call } from '../session.js';

export async function webhookView(root) {
  let current = null;
  try {
    current = await call('/retailer/webhook');
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  const url = el('input', { type: 'url', required: true, value: current ? current.url : '', placeholder: 'https://', 'data-testid': 'webhook-url' });
  const message = el('div', { 'aria-live': 'polite' });
  const form = el('form', { class: 'card', 'data-testid': 'webhook-form' }, field(t('webhook.url'), url, t('webhook.help')), message,
    el('button', { type: 'submit', 'data-testid': 'webhook-save' }, t('save')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const created = await call('/retailer/webhook', { method: 'PUT', body: { url: url.value.trim() } });
      message.replaceChildren(notice('ok', t('webhook.saved'), 'webhook-saved'),
        el('p', {}, t('webhook.secret')), el('code', { class: 'secret', 'data-testid': 'webhook-secret' }, created.secret));
    } catch (error) {
      message.replaceChildren(notice('error', errorText(error), 'webhook-error'));
    }
  });
  const remove = el('button', { type: 'button', class: 'danger', hidden: !current }, t('webhook.remove'));
  remove.addEventListener('click', async () => {
    if (!window.confirm(t('webhook.confirmRemove'))) return;
    try {
      await call('/retailer/webhook', { method: 'DELETE' });
      url.value = '';
      remove.hidden = true;
      message.replaceChildren(notice('ok', t('webhook.removed')));
    } catch (error) {
      message.replaceChildren(notice('error', errorText(error), 'webhook-error'));
    }
  });
  const last = current && current.last_delivery;
  put(root, el('h1', {}, t('nav.webhook')), form,
    last ? el('p', { 'data-testid': 'webhook-last' }, t('webhook.last', { status: last.status, code: last.http_status ?? '–', at: when(last.at) })) : null,
    remove);
}
