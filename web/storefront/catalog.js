// Home, search, categories and the product page. Prices and stock are shown as the API gives them.
import { request } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { lang, t } from '../shared/i18n.js';
import { formatCents } from '../shared/money.js';
import { addToCart } from './cart.js';
import { cover, errorBox, picture } from './ui.js';

let categoriesPromise = null;

/** The categories with their names in the three languages (GET /categories), read once. */
export function categories() {
  if (!categoriesPromise) {
    categoriesPromise = request('/categories').then((r) => r.items).catch(() => {
      categoriesPromise = null;
      return [];
    });
  }
  return categoriesPromise;
}

function categoryName(list, slug) {
  const found = list.find((c) => c.slug === slug);
  return found ? found.names[lang()] || found.names.en || slug : slug;
}

export async function homePage() {
  const list = await categories();
  return h('section', {},
    h('h1', {}, t('app.tagline')),
    h('p', {}, h('a', { class: 'button', href: '#/near' }, t('nav.near'))),
    h('h2', {}, t('categories.title')),
    h('ul', { class: 'chips' }, list.map((c) => h('li', {}, h('a', { href: `#/category/${encodeURIComponent(c.slug)}` },
      categoryName(list, c.slug))))));
}

function productCard(item) {
  const price = item.price_from_cents === item.price_to_cents
    ? formatCents(item.price_from_cents, item.currency)
    : t('product.from', { price: formatCents(item.price_from_cents, item.currency) });
  return h('li', { class: 'card', 'data-testid': 'product-card' },
    cover(item),
    h('a', { href: `#/product/${encodeURIComponent(item.id)}` }, item.name),
    h('span', { class: 'shop' }, item.shop_name),
    h('span', { class: 'price' }, price),
    item.in_stock === false ? h('span', { class: 'stock out' }, t('product.out_of_stock')) : null);
}

async function productList(title, params) {
  const section = h('section', {}, h('h1', {}, title));
  const list = h('ul', { class: 'grid', 'data-testid': 'results' });
  section.append(list);
  const more = async (cursor) => {
    const page = await request(`/products?${new URLSearchParams({ ...params, limit: '24', ...(cursor ? { cursor } : {}) })}`);
    if (!page.items.length && !cursor) section.append(h('p', { 'data-testid': 'no-results' }, t('search.none')));
    list.append(...page.items.map(productCard));
    if (page.next_cursor) {
      const button = h('button', {
        type: 'button',
        onclick: async () => {
          button.remove();
          try {
            await more(page.next_cursor);
          } catch (error) {
            section.append(errorBox(error));
          }
        },
      }, t('search.more'));
      section.append(button);
    }
  };
  await more(null);
  return section;
}

export async function searchPage(params) {
  const q = (params.get('q') || '').trim();
  if (!q) return homePage();
  return productList(t('search.results', { q }), { q });
}

export async function categoryPage(slug) {
  const list = await categories();
  return productList(t('category.results', { name: categoryName(list, slug) }), { category: slug });
}

function variantLabel(variant) {
  const options = Object.values(variant.options || {}).join(', ');
  return options || variant.sku;
}

export async function productPage(productId) {
  const product = await request(`/products/${encodeURIComponent(productId)}`);
  const variants = product.variants.filter((v) => v.active !== false);
  const photos = (product.images || []).filter((image) => image.status === 'ready');
  const status = h('p', { role: 'status', 'aria-live': 'polite', 'data-testid': 'add-status' });
  const stock = h('p', { class: 'stock', 'data-testid': 'stock' });
  const price = h('p', { class: 'price', 'data-testid': 'price' });
  const select = h('select', { id: 'variant', name: 'variant' },
    variants.map((v) => h('option', { value: v.id }, `${variantLabel(v)} — ${formatCents(v.price_cents, product.currency)}`)));
  const quantity = h('input', { id: 'quantity', type: 'number', min: '1', max: '99', value: '1', inputmode: 'numeric' });
  const add = h('button', { type: 'submit' }, t('product.add'));
  const show = () => {
    const variant = variants.find((v) => v.id === select.value);
    if (!variant) return;
    price.textContent = formatCents(variant.price_cents, product.currency);
    const inStock = variant.in_stock ?? variant.stock > 0;
    stock.textContent = inStock ? t('product.in_stock', { count: variant.stock }) : t('product.out_of_stock');
    stock.className = inStock ? 'stock' : 'stock out';
    add.disabled = !inStock || !product.active;
  };
  select.addEventListener('change', show);
  const form = h('form', {
    class: 'buy',
    onsubmit: async (event) => {
      event.preventDefault();
      add.disabled = true;
      status.replaceChildren();
      try {
        await addToCart(select.value, Number(quantity.value) || 1);
        status.append(h('span', {}, t('product.added')), ' ', h('a', { href: '#/cart' }, t('nav.cart', { count: '→' })));
      } catch (error) {
        status.append(errorBox(error));
      } finally {
        show();
      }
    },
  },
  h('label', { for: 'variant' }, t('product.variant')), select,
  h('label', { for: 'quantity' }, t('product.quantity')), quantity,
  add);
  show();
  return h('article', { class: 'product', 'data-testid': 'product' },
    h('div', { class: 'photos' }, photos.length
      ? photos.map((image, i) => picture(image, '(max-width: 640px) 100vw, 600px', i === 0 ? product.name : image.alt))
      : picture(null)),
    h('div', {},
      h('h1', {}, product.name),
      h('p', {}, h('a', { href: `#/shop/${encodeURIComponent(product.shop_id)}` }, t('product.shop', { shop: product.shop_name }))),
      h('p', {}, product.description || ''),
      product.active ? null : h('p', { class: 'error' }, t('product.inactive')),
      price, stock, form, status));
}
