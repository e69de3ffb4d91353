// Products: the shop's list with a search box, a new product, one product's fields, variants, stock and
// on/off switch, and its photos.
import { t, lang } from '../../shared/i18n.js';
import { request } from '../../shared/api.js';
import { el, field, euros, notice, errorText, put } from '../ui.js';
import { call } from '../session.js';
import { imagesSection } from './images.js';

// The mall's categories with their names in fr/nl/en (GET /categories), read once per page load.
let categories = null;
async function loadCategories() {
  if (!categories) {
    categories = request('/categories').then((page) => page.items).catch((error) => {
      categories = null;
      throw error;
    });
  }
  return categories;
}
const VAT_RATES = [600, 1200, 2100, 0];

function fold(text) {
  return String(text || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

async function allProducts() {
  const items = [];
  let cursor = null;
  do {
    const page = await call(`/retailer/products?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < 2000);
  return items;
}

export async function productsView(root) {
  const search = el('input', { type: 'search', 'data-testid': 'product-search', autocomplete: 'off' });
  const list = el('ul', { class: 'list', 'data-testid': 'product-list' }, el('li', { class: 'muted' }, t('loading')));
  put(root, el('h1', {}, t('products.title')),
    el('p', {}, el('a', { href: '#/products/new', class: 'button', 'data-testid': 'product-new' }, t('products.new'))),
    field(t('products.search'), search), list);
  const items = await allProducts();
  function show() {
    const words = fold(search.value).split(/\s+/).filter(Boolean);
    const found = items.filter((p) => words.every((w) => fold(p.name).includes(w)));
    list.replaceChildren(...(found.length ? found.map((p) => el('li', { class: 'card product', 'data-testid': 'product-row' },
      p.cover_url ? el('img', { src: p.cover_url, alt: '', width: '48', height: '48', class: 'thumb' }) : null,
      el('a', { href: `#/products/${p.id}` }, p.name),
      el('span', { class: 'muted' }, ` · ${p.price_from_cents === p.price_to_cents ? euros(p.price_from_cents)
        : `${euros(p.price_from_cents)}–${euros(p.price_to_cents)}`}`),
      p.in_stock === false ? el('span', { class: 'muted' }, ` · ${t('products.outOfStock')}`) : null,
      p.active ? null : el('span', { class: 'badge cancelled' }, ` ${t('products.inactive')}`)))
      : [el('li', { class: 'muted' }, t('products.none'))]));
  }
  search.addEventListener('input', show);
  show();
}

async function categorySelect(value) {
  const items = await loadCategories();
  return el('select', { 'data-testid': 'product-category', required: true },
    items.map((c) => el('option', { value: c.slug, selected: c.slug === value }, c.names[lang()] || c.names.en || c.slug)));
}

function vatSelect(value) {
  return el('select', { 'data-testid': 'product-vat' },
    VAT_RATES.map((bps) => el('option', { value: String(bps), selected: bps === value }, `${bps / 100} %`)));
}

function centsFrom(text) {
  const value = Number(String(text).replace(',', '.'));
  return Number.isFinite(value) ? Math.round(value * 100) : NaN;
}

export async function newProductView(root) {
  const name = el('input', { type: 'text', required: true, maxlength: '200', 'data-testid': 'product-name' });
  const description = el('textarea', { rows: '3', 'data-testid': 'product-description' });
  const category = await categorySelect('bakery');
  const vat = vatSelect(600);
  const sku = el('input', { type: 'text', required: true, 'data-testid': 'variant-sku' });
  const price = el('input', { type: 'text', inputmode: 'decimal', required: true, 'data-testid': 'variant-price' });
  const stock = el('input', { type: 'number', min: '0', value: '0', 'data-testid': 'variant-stock' });
  const message = el('div', { 'aria-live': 'polite' });
  const form = el('form', { class: 'card', 'data-testid': 'product-form' },
    field(t('product.name'), name), field(t('product.description'), description),
    field(t('product.category'), category), field(t('product.vat'), vat),
    el('h2', {}, t('product.firstVariant')),
    field(t('variant.sku'), sku), field(t('variant.price'), price, t('variant.priceHelp')), field(t('variant.stock'), stock),
    message, el('button', { type: 'submit', 'data-testid': 'product-save' }, t('product.create')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const cents = centsFrom(price.value);
    if (!Number.isInteger(cents) || cents < 0) {
      message.replaceChildren(notice('error', t('variant.badPrice'), 'product-error'));
      return;
    }
    try {
      const created = await call('/retailer/products', { method: 'POST', body: {
        name: name.value.trim(), description: description.value, category: category.value,
        vat_rate_bps: Number(vat.value),
        variants: [{ sku: sku.value.trim(), price_cents: cents, stock: Number(stock.value || 0) }],
      } });
      location.hash = `#/products/${created.id}`;
    } catch (error) {
      message.replaceChildren(notice('error', errorText(error), 'product-error'));
    }
  });
  put(root, el('p', {}, el('a', { href: '#/products' }, `← ${t('products.title')}`)), el('h1', {}, t('products.new')), form);
}

export async function productView(root, productId) {
  const product = await call(`/retailer/products/${productId}`);
  // A save starts by taking the previous confirmation away, so "Saved." always speaks of the last save.
  root.addEventListener('submit', () => root.querySelectorAll('[data-testid="product-message"]').forEach((n) => n.remove()), true);
  root.addEventListener('click', (event) => {
    if (event.target.closest && event.target.closest('[data-testid^="variant-save-"]')) {
      root.querySelectorAll('[data-testid="product-message"]').forEach((n) => n.remove());
    }
  }, true);
  await renderProduct(root, product);
}

async function renderProduct(root, product, message) {
  const reload = async (text) => renderProduct(root, await call(`/retailer/products/${product.id}`),
    text ? notice('ok', text, 'product-message') : null);
  const details = await detailsForm(product, reload);
  root.replaceChildren();
  put(root, el('p', {}, el('a', { href: '#/products' }, `← ${t('products.title')}`)),
    el('h1', { 'data-testid': 'product-title' }, product.name), message || null,
    details, variantsSection(product, reload), imagesSection(product));
}

async function detailsForm(product, reload) {
  const name = el('input', { type: 'text', required: true, value: product.name, 'data-testid': 'product-name' });
  const description = el('textarea', { rows: '3', 'data-testid': 'product-description' });
  description.value = product.description;
  const category = await categorySelect(product.category);
  const vat = vatSelect(product.vat_rate_bps);
  const active = el('input', { type: 'checkbox', checked: product.active, 'data-testid': 'product-active', id: 'product-active' });
  const message = el('div', { 'aria-live': 'polite' });
  const form = el('form', { class: 'card', 'data-testid': 'product-form' },
    field(t('product.name'), name), field(t('product.description'), description),
    field(t('product.category'), category), field(t('product.vat'), vat),
    el('div', { class: 'field check' }, active, el('label', { for: 'product-active' }, t('product.active'))),
    message, el('button', { type: 'submit', 'data-testid': 'product-save' }, t('save')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call(`/retailer/products/${product.id}`, { method: 'PATCH', body: {
        name: name.value.trim(), description: description.value, category: category.value,
        vat_rate_bps: Number(vat.value), active: active.checked,
      } });
      await reload(t('saved'));
    } catch (error) {
      message.replaceChildren(notice('error', errorText(error), 'product-error'));
    }
  });
  return form;
}

function variantsSection(product, reload) {
  const message = el('div', { 'aria-live': 'polite' });
  const rows = product.variants.map((v) => {
    const count = el('input', { type: 'number', min: '0', value: String(v.stock), 'data-testid': `stock-${v.sku}` });
    const price = el('input', { type: 'text', inputmode: 'decimal', value: (v.price_cents / 100).toFixed(2), 'data-testid': `price-${v.sku}` });
    const on = el('input', { type: 'checkbox', checked: v.active, id: `active-${v.id}` });
    const save = el('button', { type: 'button', class: 'secondary', 'data-testid': `variant-save-${v.sku}` }, t('save'));
    save.addEventListener('click', async () => {
      message.replaceChildren();
      try {
        const cents = centsFrom(price.value);
        if (!Number.isInteger(cents) || cents < 0) throw new Error(t('variant.badPrice'));
        if (cents !== v.price_cents || on.checked !== v.active) {
          await call(`/retailer/products/${product.id}/variants/${v.id}`, { method: 'PATCH', body: { price_cents: cents, active: on.checked } });
        }
        if (Number(count.value) !== v.stock) {
          await call(`/retailer/products/${product.id}/variants/${v.id}/stock`, { method: 'POST', body: { set: Number(count.value) } });
        }
        await reload(t('saved'));
      } catch (error) {
        message.replaceChildren(notice('error', error.status ? errorText(error) : error.message, 'variant-error'));
      }
    });
    return el('li', { class: 'card variant' },
      el('strong', {}, `${v.sku} ${Object.values(v.options || {}).join(', ')}`),
      field(t('variant.price'), price), field(t('variant.stock'), count),
      el('div', { class: 'field check' }, on, el('label', { for: on.id }, t('variant.active'))), save);
  });
  const sku = el('input', { type: 'text', required: true, 'data-testid': 'new-variant-sku' });
  const label = el('input', { type: 'text', 'data-testid': 'new-variant-option' });
  const price = el('input', { type: 'text', inputmode: 'decimal', required: true, 'data-testid': 'new-variant-price' });
  const stock = el('input', { type: 'number', min: '0', value: '0', 'data-testid': 'new-variant-stock' });
  const add = el('form', { class: 'card', 'data-testid': 'variant-form' }, el('h3', {}, t('variant.add')),
    field(t('variant.sku'), sku), field(t('variant.option'), label, t('variant.optionHelp')),
    field(t('variant.price'), price), field(t('variant.stock'), stock),
    el('button', { type: 'submit' }, t('variant.add')));
  add.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const cents = centsFrom(price.value);
    if (!Number.isInteger(cents) || cents < 0) {
      message.replaceChildren(notice('error', t('variant.badPrice'), 'variant-error'));
      return;
    }
    try {
      await call(`/retailer/products/${product.id}/variants`, { method: 'POST', body: {
        sku: sku.value.trim(), price_cents: cents, stock: Number(stock.value || 0),
        options: label.value.trim() ? { option: label.value.trim() } : {},
      } });
      await reload(t('saved'));
    } catch (error) {
      message.replaceChildren(notice('error', errorText(error), 'variant-error'));
    }
  });
  return el('section', { 'aria-labelledby': 'h-variants' }, el('h2', { id: 'h-variants' }, t('variant.title')),
    message, el('ul', { class: 'list' }, rows), add);
}
