// The mall operator's small corner: open a shop (its first key shown once), suspend or reactivate a shop,
// rotate a shop's key, and the mall's commission.
import { t } from '../../shared/i18n.js';
import { el, field, notice, errorText, put } from '../ui.js';
import { call } from '../session.js';

function shopRow(shop, refresh, say) {
  const act = async (path, confirmKey) => {
    if (confirmKey && !window.confirm(t(confirmKey, { name: shop.profile.name }))) return;
    try {
      const result = await call(`/operator/shops/${shop.id}/${path}`, { method: 'POST' });
      if (result && result.api_key) say(notice('ok', t('operator.newKey', { name: shop.profile.name })), el('code', { class: 'secret', 'data-testid': 'new-key' }, result.api_key));
      else say(notice('ok', t('saved')));
      refresh();
    } catch (error) {
      say(notice('error', errorText(error), 'operator-error'));
    }
  };
  return el('li', { class: 'card', 'data-testid': 'operator-shop' }, el('strong', {}, shop.profile.name),
    el('span', { class: 'muted' }, ` · ${t(`operator.status.${shop.status}`)} · ${shop.api_key_prefix}…`),
    el('div', { class: 'actions' },
      shop.status === 'active'
        ? el('button', { type: 'button', class: 'danger', onclick: () => act('suspend', 'operator.confirmSuspend') }, t('operator.suspend'))
        : el('button', { type: 'button', onclick: () => act('reactivate') }, t('operator.reactivate')),
      el('button', { type: 'button', class: 'secondary', onclick: () => act('api-key', 'operator.confirmRotate') }, t('operator.rotate'))));
}

function openShopForm(say, refresh) {
  const json = el('textarea', { rows: '8', 'data-testid': 'open-shop-profile', spellcheck: 'false' });
  json.value = JSON.stringify({ name: '', categories: ['bakery'], address: { street: '', postal_code: '9000', city: 'Gent', country: 'BE' },
    location: { lat: 51.0543, lng: 3.7219 }, opening_hours: { mon: [['09:00', '18:00']] }, pickup: { enabled: true }, delivery: { enabled: false } }, null, 2);
  const form = el('form', { class: 'card' }, el('h2', {}, t('operator.open')), field(t('operator.profile'), json, t('operator.profileHelp')),
    el('button', { type: 'submit' }, t('operator.open')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(json.value);
    } catch {
      say(notice('error', t('operator.badJson'), 'operator-error'));
      return;
    }
    try {
      const created = await call('/operator/shops', { method: 'POST', body });
      say(notice('ok', t('operator.newKey', { name: created.shop.profile.name })), el('code', { class: 'secret', 'data-testid': 'new-key' }, created.api_key));
      refresh();
    } catch (error) {
      say(notice('error', errorText(error), 'operator-error'));
    }
  });
  return form;
}

async function commissionForm(say) {
  const current = await call('/operator/commission');
  const rate = el('input', { type: 'number', min: '0', max: '10000', value: String(current.rate_bps), 'data-testid': 'commission-rate' });
  const fixed = el('input', { type: 'number', min: '0', value: String(current.fixed_fee_cents), 'data-testid': 'commission-fixed' });
  const form = el('form', { class: 'card' }, el('h2', {}, t('operator.commission')),
    field(t('operator.rate'), rate, t('operator.rateHelp')), field(t('operator.fixed'), fixed),
    el('button', { type: 'submit' }, t('save')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call('/operator/commission', { method: 'PUT', body: { rate_bps: Number(rate.value), fixed_fee_cents: Number(fixed.value) } });
      say(notice('ok', t('saved')));
    } catch (error) {
      say(notice('error', errorText(error), 'operator-error'));
    }
  });
  return form;
}

export async function operatorView(root) {
  const message = el('div', { 'aria-live': 'polite', 'data-testid': 'operator-message' });
  const say = (...nodes) => message.replaceChildren(...nodes);
  const status = el('select', { 'data-testid': 'operator-status' },
    ['active', 'suspended'].map((s) => el('option', { value: s }, t(`operator.status.${s}`))));
  const list = el('ul', { class: 'list' });
  async function refresh() {
    const page = await call(`/operator/shops?status=${status.value}&limit=100`);
    list.replaceChildren(...page.items.map((shop) => shopRow(shop, refresh, say)));
  }
  status.addEventListener('change', () => refresh().catch((error) => say(notice('error', errorText(error)))));
  put(root, el('h1', {}, t('nav.operator')), message, await commissionForm(say),
    el('section', {}, el('h2', {}, t('operator.shops')), field(t('operator.show'), status), list),
    openShopForm(say, refresh));
  await refresh();
}
