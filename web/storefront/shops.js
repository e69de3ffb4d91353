// Shops near me (browser location or a typed postcode, nearest first, open now) and a shop's page.
import { request } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { formatCents } from '../shared/money.js';
import { cover, errorBox, go, when, addressText } from './ui.js';

const RADIUS_KM = 5;
// Centres of Ghent's postcodes, so a person who does not share their location can still type one.
// There is no geocoding service in the mall: outside these, the browser's location is the way.
const POSTCODES = {
  9000: [51.0543, 3.7219], 9030: [51.0706, 3.6787], 9031: [51.0496, 3.657], 9032: [51.0887, 3.7155],
  9040: [51.0617, 3.7489], 9041: [51.09, 3.765], 9042: [51.1167, 3.7833], 9050: [51.039, 3.758],
  9051: [51.023, 3.67], 9052: [51.002, 3.715],
};

function shopRow(shop) {
  return h('li', { class: 'card shop-card', 'data-testid': 'shop' },
    h('a', { href: `#/shop/${encodeURIComponent(shop.id)}` }, shop.name),
    shop.distance_km != null ? h('span', {}, t('near.distance', { km: shop.distance_km.toFixed(1) })) : null,
    h('span', { class: shop.open_now ? 'open' : 'closed' },
      shop.open_now ? t('shop.open_now') : [t('shop.closed_now'),
        shop.next_opening ? ` · ${t('shop.next_opening', { when: when(shop.next_opening, shop.timezone) })}` : '']),
    h('span', { class: 'address' }, addressText(shop.address)));
}

export async function nearPage(params) {
  const lat = params.get('lat');
  const lng = params.get('lng');
  const message = h('p', { role: 'status', 'aria-live': 'polite' });
  const postcode = h('input', { id: 'postcode', name: 'postcode', inputmode: 'numeric', autocomplete: 'postal-code' });
  const locate = h('button', {
    type: 'button',
    onclick: () => {
      if (!navigator.geolocation) {
        message.textContent = t('near.denied');
        return;
      }
      navigator.geolocation.getCurrentPosition(
        (position) => go(`#/near?lat=${position.coords.latitude.toFixed(5)}&lng=${position.coords.longitude.toFixed(5)}`),
        () => { message.textContent = t('near.denied'); },
        { timeout: 10000 },
      );
    },
  }, t('near.locate'));
  const form = h('form', {
    onsubmit: (event) => {
      event.preventDefault();
      const found = POSTCODES[postcode.value.trim()];
      if (!found) {
        message.textContent = t('near.unknown_postcode');
        return;
      }
      go(`#/near?lat=${found[0]}&lng=${found[1]}`);
    },
  }, h('label', { for: 'postcode' }, t('near.or')), postcode, h('button', { type: 'submit' }, t('near.find')));
  const section = h('section', {}, h('h1', {}, t('near.title')), h('div', { class: 'near-form' }, locate, form), message);
  if (lat && lng) {
    const page = await request(`/shops/near?${new URLSearchParams({ lat, lng, radius_km: String(RADIUS_KM), limit: '50' })}`);
    section.append(page.items.length
      ? h('ul', { class: 'list', 'data-testid': 'near-results' }, page.items.map(shopRow))
      : h('p', {}, t('near.none', { km: RADIUS_KM })));
  }
  return section;
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function terms(shop) {
  const pickup = shop.pickup || {};
  const delivery = shop.delivery || {};
  let deliveryText = t('shop.no_delivery');
  if (delivery.enabled) {
    deliveryText = t('shop.delivery_terms', { km: delivery.radius_km, fee: formatCents(delivery.fee_cents) });
    if (delivery.free_over_cents != null) {
      deliveryText += `, ${t('shop.delivery_free_over', { amount: formatCents(delivery.free_over_cents) })}`;
    }
  }
  return h('dl', { class: 'terms' },
    pickup.enabled ? [h('dt', {}, t('shop.pickup')),
      h('dd', {}, t('shop.pickup_terms', { hours: pickup.ready_within_hours, instructions: pickup.instructions || '' }))] : null,
    h('dt', {}, t('shop.delivery')), h('dd', {}, deliveryText));
}

export async function shopPage(shopId) {
  const id = encodeURIComponent(shopId);
  const [shop, products] = await Promise.all([
    request(`/shops/${id}`),
    request(`/shops/${id}/products?limit=48`).catch((error) => ({ error })),
  ]);
  const hours = h('table', { class: 'hours' }, h('caption', {}, t('shop.hours')),
    DAYS.map((day) => h('tr', {}, h('th', { scope: 'row' }, t(`day.${day}`)),
      h('td', {}, (shop.opening_hours[day] || []).map(([a, b]) => `${a}–${b}`).join(', ') || t('shop.closed')))));
  return h('article', { class: 'shop-page', 'data-testid': 'shop-page' },
    h('h1', {}, shop.name),
    h('p', { class: shop.open_now ? 'open' : 'closed' }, shop.open_now ? t('shop.open_now') : t('shop.closed_now')),
    h('p', {}, shop.description || ''),
    h('p', {}, addressText(shop.address), ' · ', shop.phone || ''),
    terms(shop),
    hours,
    shop.closed_dates && shop.closed_dates.length ? h('p', {}, `${t('shop.closed_dates')}: ${shop.closed_dates.join(', ')}`) : null,
    h('h2', {}, t('shop.products')),
    products.error ? errorBox(products.error) : h('ul', { class: 'grid' }, products.items.map((item) =>
      h('li', { class: 'card' }, cover(item), h('a', { href: `#/product/${encodeURIComponent(item.id)}` }, item.name),
        h('span', { class: 'price' }, formatCents(item.price_from_cents, item.currency))))));
}
