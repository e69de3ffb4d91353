// Today's work: the shop's orders to prepare (paid, preparing) and to hand over (ready, on its way).
import { t } from '../../shared/i18n.js';
import { el, euros, when, statusLabel, notice, errorText, put } from '../ui.js';
import { call, session } from '../session.js';

const GROUPS = [
  ['toPrepare', ['paid', 'preparing']],
  ['toHandOver', ['ready_for_pickup', 'out_for_delivery']],
];

export function fulfilmentSummary(sub) {
  const f = sub.fulfilment || {};
  if (f.method === 'delivery') {
    const a = f.address || {};
    return `${t('order.delivery')}: ${[a.street, a.postal_code, a.city].filter(Boolean).join(', ')}`;
  }
  const pickup = f.pickup || {};
  const slot = pickup.slot_start ? ` ${when(pickup.slot_start)}` : '';
  const ready = !slot && pickup.ready_by ? ` ${t('order.readyBy')} ${when(pickup.ready_by)}` : '';
  return `${t('order.pickup')}${slot}${ready}`;
}

function orderCard(sub) {
  const units = sub.lines.reduce((sum, line) => sum + line.quantity, 0);
  return el('li', { class: 'card order', 'data-testid': 'order-card', 'data-order-id': sub.order_id },
    el('a', { href: `#/orders/${sub.order_id}`, class: 'order-link' },
      el('span', { class: `badge ${sub.status}`, 'data-testid': 'order-status' }, statusLabel(sub.status)),
      el('strong', {}, ` ${sub.order_id.slice(-6)} · ${euros(sub.total_cents)}`),
      el('span', { class: 'muted' }, ` · ${t('order.units', { count: units })}`)),
    el('p', { class: 'muted' }, sub.customer_name ? `${sub.customer_name} · ` : '', fulfilmentSummary(sub), ' · ', when(sub.created_at)));
}

export async function ordersView(root) {
  put(root, el('h1', {}, t('orders.title')));
  const reload = el('button', { type: 'button', class: 'secondary', 'data-testid': 'orders-reload' }, t('orders.reload'));
  put(root, reload);
  const sections = GROUPS.map(([name]) => {
    const list = el('ul', { class: 'list', 'data-testid': `orders-${name}` }, el('li', { class: 'muted' }, t('loading')));
    put(root, el('section', { 'aria-labelledby': `h-${name}` }, el('h2', { id: `h-${name}` }, t(`orders.${name}`)), list));
    return list;
  });
  async function load() {
    const pages = await Promise.all(GROUPS.map(([, statuses]) =>
      Promise.all(statuses.map((status) => call(`/retailer/orders?status=${status}&limit=50`)))));
    pages.forEach((group, index) => {
      const items = group.flatMap((page) => page.items)
        .sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
      sections[index].replaceChildren(...(items.length ? items.map(orderCard)
        : [el('li', { class: 'muted' }, t('orders.none'))]));
    });
  }
  const message = el('div', { 'aria-live': 'polite' });
  reload.after(message);
  reload.addEventListener('click', () => {
    message.replaceChildren();
    // A refused key has already signed the person out (session.js); anything else is said on the page.
    load().catch((error) => { if (session()) message.replaceChildren(notice('error', errorText(error))); });
  });
  await load();
}
