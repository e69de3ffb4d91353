// The order page: each shop's part with its status, the pickup code and its QR code; the payment while
// the order waits for it. Read with the order token this browser got at checkout.
import { request } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { formatCents } from '../shared/money.js';
import { mountPayment } from './payment.js';
import { addressText, errorBox, go, orderToken, statusText, storeCart, when } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
let qrLibrary = null;

/** The vendored QR encoder (web/vendor/qrcode-generator, MIT), loaded on the first order page only. */
function loadQr() {
  if (!qrLibrary) {
    qrLibrary = new Promise((resolve, reject) => {
      const script = h('script', { src: new URL('../vendor/qrcode-generator/qrcode.js', import.meta.url).href });
      script.addEventListener('load', () => resolve(window.qrcode));
      script.addEventListener('error', () => {
        qrLibrary = null;
        reject(new Error('qrcode.js could not be loaded'));
      });
      document.head.append(script);
    });
  }
  return qrLibrary;
}

/** The payload as an SVG QR code, built element by element (no markup strings). */
async function qrCode(payload) {
  const qrcode = await loadQr();
  const qr = qrcode(0, 'M');
  qr.addData(payload);
  qr.make();
  const count = qr.getModuleCount();
  const margin = 4;
  const size = count + margin * 2;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('width', String(size * 5));
  svg.setAttribute('height', String(size * 5));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', t('order.qr'));
  svg.setAttribute('data-testid', 'pickup-qr');
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('fill', '#fff');
  svg.append(background);
  const path = [];
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (qr.isDark(row, col)) path.push(`M${col + margin},${row + margin}h1v1h-1z`);
    }
  }
  const dark = document.createElementNS(SVG, 'path');
  dark.setAttribute('d', path.join(''));
  dark.setAttribute('fill', '#000');
  svg.append(dark);
  return svg;
}

function pickupBlock(pickup) {
  const box = h('div', { class: 'pickup-code' },
    h('p', {}, t('order.pickup_where', { address: pickup.address })),
    pickup.slot_start ? h('p', {}, t('cart.slot_chosen', { when: when(pickup.slot_start) })) : null);
  if (pickup.code) {
    box.append(h('p', {}, t('order.pickup_code'), ': ', h('strong', { 'data-testid': 'pickup-code' }, pickup.code)));
    const qrBox = h('div', { class: 'qr' }, h('code', {}, pickup.qr_payload || pickup.code));
    box.append(qrBox);
    qrCode(pickup.qr_payload || pickup.code).then((svg) => qrBox.replaceChildren(svg)).catch(() => {
      /* the payload stays shown as text */
    });
  }
  return box;
}

function shopPart(sub, currency) {
  const fulfilment = sub.fulfilment || {};
  return h('section', { class: 'order-shop', 'data-testid': 'order-shop', 'data-shop-name': sub.shop_name },
    h('h2', {}, sub.shop_name),
    h('p', { 'data-testid': 'order-shop-status' }, t('order.status', { status: statusText(sub.status) })),
    h('ul', { class: 'lines' }, sub.lines.map((line) => h('li', {},
      `${line.quantity} × ${line.name}`, Object.values(line.options || {}).length ? ` (${Object.values(line.options).join(', ')})` : '',
      ' — ', formatCents(line.total_cents, currency)))),
    sub.delivery_fee_cents ? h('p', {}, `${t('cart.delivery_fee')}: ${formatCents(sub.delivery_fee_cents, currency)}`) : null,
    sub.refunded_cents ? h('p', { 'data-testid': 'refunded' }, t('order.refunded', {
      amount: formatCents(sub.refunded_cents, currency), status: statusText(sub.refund_status || 'refunded'),
    })) : null,
    fulfilment.method === 'pickup' && fulfilment.pickup ? pickupBlock(fulfilment.pickup) : null,
    fulfilment.method === 'delivery' ? h('p', {}, t('order.delivery_where', { address: addressText(fulfilment.address) })) : null);
}

export async function orderPage(orderId) {
  const token = orderToken(orderId);
  if (!token) return h('section', {}, h('h1', {}, t('order.title')), h('p', { role: 'alert' }, t('order.unknown')));
  const order = await request(`/orders/${encodeURIComponent(orderId)}`, { orderToken: token });
  const section = h('section', { class: 'order', 'data-testid': 'order' },
    h('h1', {}, t('order.title')),
    h('p', {}, t('order.number', { id: order.id })),
    h('p', { 'data-testid': 'order-status' }, t('order.status', { status: statusText(order.status) })));
  const stored = sessionStorage.getItem(`mall.payment.${order.id}`);
  if (order.status === 'pending_payment' && stored) {
    const checkout = JSON.parse(stored);
    const feedback = h('div', { 'aria-live': 'assertive' });
    const declined = (message) => feedback.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'payment-error' },
      t('pay.declined'), message ? ` (${message})` : ''));
    // A declined card keeps the order (and its stock) until hold_until: the same controls try again.
    if (order.last_payment_error) declined(order.last_payment_error.message);
    const controls = h('div', { class: 'pay-controls' });
    const giveUp = h('button', {
      type: 'button',
      class: 'secondary',
      'data-testid': 'give-up',
      onclick: async () => {
        giveUp.disabled = true;
        try {
          await request(`/orders/${encodeURIComponent(order.id)}/cancel`, { method: 'POST', orderToken: token });
          sessionStorage.removeItem(`mall.payment.${order.id}`);
          if (checkout.cart) storeCart(checkout.cart); // the API reopened it: back to the cart
          go('#/cart');
        } catch (error) {
          giveUp.disabled = false;
          feedback.replaceChildren(errorBox(error));
        }
      },
    }, t('pay.give_up'));
    section.append(h('section', { class: 'payment', 'data-testid': 'payment' },
      h('h2', {}, t('pay.title')),
      h('p', {}, t('pay.amount', { amount: formatCents(order.total_cents, order.currency) })),
      order.hold_until ? h('p', {}, t('pay.hold_until', { when: when(order.hold_until) })) : null,
      controls, feedback, h('p', {}, giveUp)));
    await mountPayment(controls, checkout, (outcome, message) => {
      if (outcome === 'paid') {
        sessionStorage.removeItem(`mall.payment.${order.id}`);
        go(`#/order/${encodeURIComponent(order.id)}`);
      } else {
        declined(message);
      }
    });
  }
  section.append(...order.shops.map((sub) => shopPart(sub, order.currency)),
    h('p', { class: 'total' }, `${t('cart.total')}: ${formatCents(order.total_cents, order.currency)}`),
    h('button', { type: 'button', onclick: () => go(`#/order/${encodeURIComponent(order.id)}`) }, t('order.refresh')));
  return section;
}
