// One order (the shop's part): its lines, the customer, the buttons its `actions` allow, the customer's
// pickup code at the counter, and refunds.
import { t } from '../../shared/i18n.js';
import { el, field, euros, when, notice, errorText, statusLabel, put } from '../ui.js';
import { call } from '../session.js';
import { fulfilmentSummary } from './orders.js';

// Moves that need more than a click: the code (collected) or a confirmation (cancelled = refund in full).
const SPECIAL = new Set(['collected', 'cancelled']);

export async function orderView(root, orderId) {
  const sub = await call(`/retailer/orders/${orderId}`);
  render(root, sub);
}

function render(root, sub, message) {
  root.replaceChildren();
  const f = sub.fulfilment || {};
  const contact = f.contact || {};
  put(root, 
    el('p', {}, el('a', { href: '#/orders' }, `← ${t('orders.title')}`)),
    el('h1', {}, `${t('order.title')} ${sub.order_id.slice(-6)}`),
    el('p', {}, el('span', { class: `badge ${sub.status}`, 'data-testid': 'order-status' }, statusLabel(sub.status))),
    message || null,
    el('p', {}, fulfilmentSummary(sub)),
    customer(sub, contact),
    el('ul', { class: 'list lines' }, sub.lines.map((line) => el('li', { class: 'line' },
      el('span', {}, `${line.quantity} × ${line.name}`,
        Object.keys(line.options || {}).length ? el('small', { class: 'muted' }, ` (${Object.values(line.options).join(', ')})`) : null),
      el('span', {}, euros(line.total_cents))))),
    sub.delivery_fee_cents ? el('p', { class: 'line' }, el('span', {}, t('order.deliveryFee')), el('span', {}, euros(sub.delivery_fee_cents))) : null,
    el('p', { class: 'line total' }, el('span', {}, t('order.total')), el('strong', {}, euros(sub.total_cents))),
  );
  const actions = sub.actions || [];
  const actionMessage = el('div', { 'aria-live': 'polite' });
  const buttons = actions.filter((to) => !SPECIAL.has(to)).map((to) => el('button', {
    type: 'button', 'data-testid': `action-${to}`,
    onclick: async (event) => {
      actionMessage.replaceChildren();
      const error = await move(root, sub, { to }, event.currentTarget);
      if (error) actionMessage.replaceChildren(notice('error', errorText(error), 'action-error'));
    },
  }, t(`action.${to}`)));
  if (buttons.length) put(root, el('div', { class: 'actions' }, buttons), actionMessage);
  if (actions.includes('collected')) put(root, codeForm(root, sub));
  put(root, refundSection(root, sub, actions.includes('cancelled')));
  put(root, el('details', {}, el('summary', {}, t('order.history')),
    el('ul', { class: 'list' }, sub.history.map((h) => el('li', {}, `${when(h.at)} · ${statusLabel(h.to)}`)))));
}

function customer(sub, contact) {
  // The pickup customer's name and phone (customer_*), or the delivery contact, and the e-mail.
  const name = sub.customer_name || contact.name;
  const phone = sub.customer_phone || contact.phone;
  if (!name && !phone && !sub.customer_email) return null;
  return el('p', { 'data-testid': 'order-customer' }, name || '',
    phone ? [name ? ' · ' : '', el('a', { href: `tel:${phone.replace(/[^0-9+]/g, '')}` }, phone)] : null,
    sub.customer_email ? ` · ${sub.customer_email}` : null);
}

async function move(root, sub, body, button) {
  if (button) button.disabled = true;
  try {
    const next = await call(`/retailer/orders/${sub.order_id}/status`, { method: 'POST', body });
    render(root, next, notice('ok', t('order.moved', { status: statusLabel(next.status) }), 'order-message'));
    return null;
  } catch (error) {
    if (button) button.disabled = false;
    return error;
  }
}

function codeForm(root, sub) {
  const input = el('input', {
    type: 'text', inputmode: 'numeric', autocomplete: 'off', pattern: '[0-9]{6}', maxlength: '6',
    required: true, 'data-testid': 'pickup-code',
  });
  const message = el('div', { 'aria-live': 'assertive' });
  const button = el('button', { type: 'submit', 'data-testid': 'pickup-code-submit' }, t('order.handOver'));
  const form = el('form', { class: 'card', 'data-testid': 'pickup-form' },
    el('h2', {}, t('order.codeTitle')), field(t('order.code'), input, t('order.codeHelp')), message, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const code = input.value.replace(/\s+/g, '');
    if (!/^[0-9]{6}$/.test(code)) {
      message.replaceChildren(notice('error', t('order.codeFormat'), 'pickup-error'));
      return;
    }
    const error = await move(root, sub, { to: 'collected', pickup_code: code }, button);
    if (error) {
      message.replaceChildren(notice('error', errorText(error), 'pickup-error'));
      input.select();
    }
  });
  return form;
}

function refundSection(root, sub, canCancel) {
  const rows = sub.lines.map((line) => {
    const input = el('input', { type: 'number', min: '0', max: String(line.quantity), value: '0', inputmode: 'numeric', 'data-testid': `refund-qty-${line.variant_id}` });
    return { line, input };
  });
  const restock = el('input', { type: 'checkbox', 'data-testid': 'refund-restock' });
  const reason = el('input', { type: 'text', maxlength: '500', 'data-testid': 'refund-reason' });
  const message = el('div', { 'aria-live': 'polite' });
  const history = el('ul', { class: 'list', 'data-testid': 'refunds' });
  async function send(lines, button) {
    button.disabled = true;
    message.replaceChildren();
    try {
      await call(`/retailer/orders/${sub.order_id}/refunds`, {
        method: 'POST', body: { lines, restock: restock.checked, reason: reason.value.trim() },
      });
      const next = await call(`/retailer/orders/${sub.order_id}`);
      render(root, next, notice('ok', t('refund.done'), 'order-message'));
    } catch (error) {
      message.replaceChildren(notice('error', errorText(error), 'refund-error'));
      button.disabled = false;
    }
  }
  const byLines = el('button', { type: 'button', class: 'secondary', 'data-testid': 'refund-lines' }, t('refund.lines'));
  byLines.addEventListener('click', () => {
    const lines = rows.filter((r) => Number(r.input.value) > 0)
      .map((r) => ({ variant_id: r.line.variant_id, quantity: Number(r.input.value) }));
    if (!lines.length) {
      message.replaceChildren(notice('error', t('refund.nothing'), 'refund-error'));
      return;
    }
    send(lines, byLines);
  });
  const all = el('button', { type: 'button', class: 'danger', 'data-testid': 'refund-all' },
    canCancel ? t('refund.cancel') : t('refund.all'));
  all.addEventListener('click', () => {
    if (window.confirm(canCancel ? t('refund.confirmCancel') : t('refund.confirmAll'))) send(null, all);
  });
  call(`/retailer/orders/${sub.order_id}/refunds`).then((page) => {
    history.replaceChildren(...page.items.map((r) => el('li', {},
      `${when(r.created_at)} · ${euros(r.amount_cents)} · ${t(`refund.status.${r.status}`)}`)));
  }).catch(() => {});
  return el('details', { class: 'card', 'data-testid': 'refund-section' },
    el('summary', {}, t('refund.title')),
    el('ul', { class: 'list' }, rows.map(({ line, input }) => el('li', {}, field(`${line.name} (max ${line.quantity})`, input)))),
    field(t('refund.reason'), reason),
    el('div', { class: 'field check' }, restock, el('label', { for: restock.id || (restock.id = 'restock') }, t('refund.restock'))),
    message,
    el('div', { class: 'actions' }, byLines, all),
    history);
}
