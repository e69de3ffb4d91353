// What the storefront's pages share: the cart and order tokens kept in this browser, errors in words,
// dates in the shop's time zone, navigation.
import { ApiError } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { lang, t } from '../shared/i18n.js';

const CART_KEY = 'mall.cart';
const ORDERS_KEY = 'mall.orders';

function readJson(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null') ?? fallback;
  } catch {
    return fallback;
  }
}

/** The open cart of this browser: {id, token, count} or null. */
export function storedCart() {
  return readJson(CART_KEY, null);
}

export function storeCart(cart) {
  if (cart) localStorage.setItem(CART_KEY, JSON.stringify(cart));
  else localStorage.removeItem(CART_KEY);
  document.dispatchEvent(new CustomEvent('cart-changed'));
}

/** Order tokens by order id: the customer reads an order with its token only. */
export function orderToken(orderId) {
  return readJson(ORDERS_KEY, {})[orderId] || null;
}

export function storeOrder(orderId, token) {
  const orders = readJson(ORDERS_KEY, {});
  orders[orderId] = token;
  localStorage.setItem(ORDERS_KEY, JSON.stringify(orders));
}

export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

/** An error as a sentence the person can read, in a live region. */
export function errorBox(error) {
  let text;
  if (error instanceof ApiError && error.status === 0) text = t('error.network');
  else if (error instanceof ApiError && error.status === 404) text = t('error.not_found');
  else if (error instanceof ApiError) {
    const fields = error.fields.map((f) => `${f.field}: ${f.message}`).join('; ');
    text = t('error.generic', { message: fields ? `${error.message} (${fields})` : error.message });
  } else text = t('error.generic', { message: String((error && error.message) || error) });
  return h('p', { class: 'error', role: 'alert', 'data-testid': 'error' }, text);
}

const LOCALES = { fr: 'fr-BE', nl: 'nl-BE', en: 'en-GB' };

export function locale() {
  return LOCALES[lang()] || 'en-GB';
}

/** An ISO instant shown in the shop's time zone, e.g. "Tue 8 Dec, 07:30". */
export function when(iso, timeZone = 'Europe/Brussels') {
  if (!iso) return '';
  return new Intl.DateTimeFormat(locale(), {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone,
  }).format(new Date(iso));
}

export function statusText(status) {
  const key = `status.${status}`;
  const text = t(key);
  return text === key ? status : text;
}

export function addressText(address) {
  if (!address) return '';
  if (typeof address === 'string') return address;
  return [address.street, [address.postal_code, address.city].filter(Boolean).join(' ')].filter(Boolean).join(', ');
}

/** <img> with srcset from an image's renditions (200/600/1200 px). */
export function picture(image, sizes, alt) {
  if (!image || !image.renditions || !image.renditions.length) {
    return h('div', { class: 'no-photo' }, t('product.no_photo'));
  }
  const sorted = [...image.renditions].sort((a, b) => a.width - b.width);
  return h('img', {
    src: sorted[0].url,
    srcset: sorted.map((r) => `${r.url} ${r.width}w`).join(', '),
    sizes,
    width: sorted[0].width,
    height: sorted[0].height,
    alt: alt ?? image.alt ?? '',
    loading: 'lazy',
  });
}

/** A product list's or cart line's cover: the 200 px rendition the API gives as cover_url. */
export function cover(item, size = 100) {
  const url = item.cover_url || (item.cover_image && (item.cover_image.url || item.cover_image));
  if (!url || typeof url !== 'string') return h('div', { class: 'no-photo', 'aria-hidden': 'true' });
  return h('img', { src: url, alt: '', width: size, height: size, loading: 'lazy' });
}
