// One cart across shops: lines, each shop's pickup (slot or ready-by) or delivery, then checkout.
// Every amount shown is the cart's own (the API computes prices, fees and availability).
import { ApiError, newIdempotencyKey, request } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { formatCents } from '../shared/money.js';
import { addressText, cover, errorBox, go, storeCart, storeOrder, storedCart, when } from './ui.js';

function remember(cart, token) {
  storeCart({ id: cart.id, token, count: cart.line_count });
}

/** Adds a variant to this browser's cart, opening a cart when there is none (or it was checked out). */
export async function addToCart(variantId, quantity) {
  const stored = storedCart();
  if (stored) {
    try {
      const cart = await request(`/carts/${encodeURIComponent(stored.id)}/lines`, {
        method: 'POST', body: { variant_id: variantId, quantity }, cartToken: stored.token,
      });
      remember(cart, stored.token);
      return cart;
    } catch (error) {
      // A cart checked out, expired or unknown: start a new one; anything else is the person's to read.
      if (!(error instanceof ApiError) || ![404, 409, 410].includes(error.status)) throw error;
    }
  }
  const created = await request('/carts', { method: 'POST', body: { lines: [{ variant_id: variantId, quantity }] } });
  remember(created.cart, created.cart_token);
  return created.cart;
}

function cartPath(stored, rest = '') {
  return `/carts/${encodeURIComponent(stored.id)}${rest}`;
}

/** Runs a change to the cart, then shows the cart again (or the error in words next to `where`). */
function change(stored, where, call) {
  return async () => {
    try {
      const cart = await call();
      if (cart && cart.id) remember(cart, stored.token);
      go('#/cart');
    } catch (error) {
      where.replaceChildren(errorBox(error));
    }
  };
}

function lineRow(stored, line, currency, feedback) {
  const id = `qty-${line.variant_id}`;
  const options = Object.values(line.options || {}).join(', ');
  const quantity = h('input', { id, type: 'number', min: '1', max: '99', value: String(line.quantity), inputmode: 'numeric' });
  quantity.addEventListener('change', change(stored, feedback, () => request(
    cartPath(stored, `/lines/${encodeURIComponent(line.variant_id)}`),
    { method: 'PUT', body: { quantity: Number(quantity.value) }, cartToken: stored.token },
  )));
  return h('li', { class: 'line', 'data-testid': 'cart-line' },
    cover(line, 48),
    h('span', { class: 'name' }, line.name, options ? ` (${options})` : ''),
    h('label', { for: id, class: 'visually-hidden' }, t('cart.quantity_of', { name: line.name })), quantity,
    h('span', { class: 'price' }, formatCents(line.total_cents, currency)),
    h('button', {
      type: 'button',
      onclick: change(stored, feedback, () => request(cartPath(stored, `/lines/${encodeURIComponent(line.variant_id)}`),
        { method: 'DELETE', cartToken: stored.token })),
    }, t('cart.remove')),
    line.problem ? h('p', { class: 'error', role: 'alert' }, t('cart.problem', { problem: line.problem })) : null);
}

const SLOT_DAYS = 7;

/** The next SLOT_DAYS days (Belgian dates: the mall's shops are in Belgium): a week of slots, not 14 days'. */
function slotDays() {
  const day = (offset) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels' })
    .format(new Date(Date.now() + offset * 86_400_000));
  return new URLSearchParams({ from: day(0), to: day(SLOT_DAYS - 1) });
}

async function pickupChoice(stored, shop, feedback) {
  const fulfilment = shop.fulfilment;
  const box = h('div', { class: 'pickup' }, h('p', {}, t('cart.pickup_at', { address: fulfilment.pickup_address })));
  const slots = await request(cartPath(stored, `/shops/${encodeURIComponent(shop.shop_id)}/pickup-slots?${slotDays()}`),
    { cartToken: stored.token });
  if (slots.mode !== 'slots') {
    box.append(h('p', { 'data-testid': 'ready-by' }, t('cart.ready_by', { when: when(slots.ready_by, slots.timezone) })));
    return box;
  }
  const id = `slot-${shop.shop_id}`;
  const chosen = fulfilment.pickup_slot ? fulfilment.pickup_slot.start : '';
  const select = h('select', { id, 'data-testid': 'slot-select' },
    h('option', { value: '' }, t('cart.choose_slot')),
    slots.slots.map((slot) => h('option', { value: slot.start, selected: slot.start === chosen },
      `${when(slot.start, slots.timezone)} (${t('cart.slot_remaining', { remaining: slot.remaining })})`)));
  select.addEventListener('change', change(stored, feedback, () => request(
    cartPath(stored, `/shops/${encodeURIComponent(shop.shop_id)}/fulfilment`),
    { method: 'PUT', body: { method: 'pickup', slot_start: select.value || undefined }, cartToken: stored.token },
  )));
  box.append(h('label', { for: id }, t('cart.slot')), select);
  if (!slots.slots.length) box.append(h('p', {}, t('cart.no_slots')));
  if (chosen) box.append(h('p', { 'data-testid': 'slot-chosen' }, t('cart.slot_chosen', { when: when(chosen, slots.timezone) })));
  return box;
}

function field(prefix, name, label, value, attrs = {}) {
  const id = `${prefix}-${name}`;
  return h('p', { class: 'field' }, h('label', { for: id }, label),
    h('input', { id, name, value: value ?? '', required: true, ...attrs }));
}

function deliveryChoice(stored, shop, feedback) {
  const fulfilment = shop.fulfilment;
  const address = fulfilment.address || {};
  const contact = fulfilment.contact || {};
  const prefix = `delivery-${shop.shop_id}`;
  const note = h('p', { role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'delivery', 'data-testid': 'delivery-form' },
    h('fieldset', {}, h('legend', {}, t('cart.address')),
      field(prefix, 'street', t('cart.street'), address.street, { autocomplete: 'street-address' }),
      field(prefix, 'postal_code', t('cart.postal_code'), address.postal_code, { autocomplete: 'postal-code' }),
      field(prefix, 'city', t('cart.city'), address.city, { autocomplete: 'address-level2' }),
      field(prefix, 'lat', t('near.lat'), address.lat, { type: 'number', step: 'any', min: '-90', max: '90' }),
      field(prefix, 'lng', t('near.lng'), address.lng, { type: 'number', step: 'any', min: '-180', max: '180' }),
      h('button', {
        type: 'button',
        onclick: () => navigator.geolocation && navigator.geolocation.getCurrentPosition((position) => {
          form.elements.lat.value = position.coords.latitude.toFixed(5);
          form.elements.lng.value = position.coords.longitude.toFixed(5);
          note.textContent = t('cart.location_set', { lat: form.elements.lat.value, lng: form.elements.lng.value });
        }, () => { note.textContent = t('near.denied'); }),
      }, t('cart.use_location')),
      note,
      field(prefix, 'name', t('cart.name'), contact.name, { autocomplete: 'name' }),
      field(prefix, 'phone', t('cart.phone'), contact.phone, { type: 'tel', autocomplete: 'tel' })),
    h('button', { type: 'submit' }, t('cart.save_delivery')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = (name) => form.elements[name].value.trim();
    change(stored, feedback, () => request(cartPath(stored, `/shops/${encodeURIComponent(shop.shop_id)}/fulfilment`), {
      method: 'PUT',
      cartToken: stored.token,
      body: {
        method: 'delivery',
        address: { street: v('street'), postal_code: v('postal_code'), city: v('city'), country: 'BE', lat: Number(v('lat')), lng: Number(v('lng')) },
        contact: { name: v('name'), phone: v('phone') },
      },
    }))();
  });
  const box = h('div', {});
  if (fulfilment.address) box.append(h('p', { 'data-testid': 'delivery-to' }, t('cart.delivery_to', { address: addressText(fulfilment.address) })));
  box.append(form);
  return box;
}

async function shopPart(stored, shop, currency) {
  const feedback = h('div', { 'aria-live': 'polite' });
  const methods = shop.fulfilment.available_methods;
  const choiceBox = h('div', { class: 'choice' });
  const name = `method-${shop.shop_id}`;
  const radios = h('fieldset', { class: 'methods' }, h('legend', {}, t('cart.method')),
    methods.map((method) => {
      const id = `${name}-${method}`;
      const input = h('input', { type: 'radio', id, name, value: method, checked: shop.fulfilment.method === method });
      input.addEventListener('change', () => {
        if (method === 'pickup') {
          change(stored, feedback, () => request(cartPath(stored, `/shops/${encodeURIComponent(shop.shop_id)}/fulfilment`),
            { method: 'PUT', body: { method: 'pickup' }, cartToken: stored.token }))();
        } else {
          // Delivery needs an address first: the form sends it, choosing the radio only shows the form.
          choiceBox.replaceChildren(deliveryChoice(stored, shop, feedback));
        }
      });
      return h('span', { class: 'radio' }, input, h('label', { for: id }, t(`cart.${method}`)));
    }));
  const fulfilment = shop.fulfilment;
  if (fulfilment.method === 'delivery') choiceBox.replaceChildren(deliveryChoice(stored, shop, feedback));
  else choiceBox.replaceChildren(await pickupChoice(stored, shop, feedback).catch((error) => errorBox(error)));
  return h('section', { class: 'cart-shop', 'data-testid': 'cart-shop', 'data-shop-name': shop.shop_name },
    h('h2', {}, shop.shop_name),
    h('ul', { class: 'lines' }, shop.lines.map((line) => lineRow(stored, line, currency, feedback))),
    radios, choiceBox,
    fulfilment.problem ? h('p', { class: 'error', role: 'alert' }, t('cart.problem', { problem: fulfilment.problem })) : null,
    feedback,
    h('dl', { class: 'sums' },
      h('dt', {}, t('cart.subtotal')), h('dd', {}, formatCents(shop.subtotal_cents, currency)),
      h('dt', {}, t('cart.delivery_fee')), h('dd', {}, formatCents(shop.delivery_fee_cents, currency))));
}

function checkoutForm(stored, cart) {
  const email = h('input', { id: 'email', type: 'email', name: 'email', required: true, autocomplete: 'email' });
  const feedback = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', disabled: !cart.ready_for_checkout }, t('checkout.button'));
  // One key per checkout attempt of this cart: a retry after a lost answer cannot place a second order.
  const keyName = `mall.checkout.${cart.id}`;
  const form = h('form', {
    class: 'checkout',
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      feedback.replaceChildren();
      let key = sessionStorage.getItem(keyName);
      if (!key) {
        key = newIdempotencyKey();
        sessionStorage.setItem(keyName, key);
      }
      try {
        const result = await request(cartPath(stored, '/checkout'), {
          method: 'POST', body: { email: email.value.trim() }, cartToken: stored.token, idempotencyKey: key,
        });
        storeOrder(result.order_id, result.order_token);
        // The cart goes with the payment: a customer who gives up after a declined card gets it back.
        sessionStorage.setItem(`mall.payment.${result.order_id}`, JSON.stringify({ ...result, cart: stored }));
        sessionStorage.removeItem(keyName);
        storeCart(null);
        go(`#/order/${encodeURIComponent(result.order_id)}`);
      } catch (error) {
        sessionStorage.removeItem(keyName); // refused: the next try is a new attempt
        feedback.replaceChildren(errorBox(error));
        button.disabled = false;
      }
    },
  },
  h('h2', {}, t('checkout.title')),
  h('label', { for: 'email' }, t('checkout.email')), email, button, feedback);
  if (!cart.ready_for_checkout) form.append(h('p', {}, t('cart.not_ready')), ...cart.problems.map((p) => h('p', { class: 'error' }, p)));
  return form;
}

export async function cartPage() {
  const stored = storedCart();
  const empty = () => h('section', {}, h('h1', {}, t('cart.title')), h('p', {}, t('cart.empty')));
  if (!stored) return empty();
  let cart;
  try {
    cart = await request(cartPath(stored), { cartToken: stored.token });
  } catch (error) {
    if (error instanceof ApiError && [401, 403, 404, 410].includes(error.status)) {
      storeCart(null);
      return empty();
    }
    throw error;
  }
  if (cart.status !== 'open') {
    storeCart(null);
    return empty();
  }
  remember(cart, stored.token);
  if (!cart.shops.length) return empty();
  const parts = await Promise.all(cart.shops.map((shop) => shopPart(stored, shop, cart.currency)));
  return h('section', { class: 'cart', 'data-testid': 'cart' },
    h('h1', {}, t('cart.title')),
    parts,
    h('p', { class: 'total', 'data-testid': 'cart-total' }, `${t('cart.total')}: ${formatCents(cart.total_cents, cart.currency)}`),
    checkoutForm(stored, cart));
}
