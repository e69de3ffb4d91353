// The storefront: a hash router over a handful of pages, one header (search, near me, cart, language).
import { h, replace } from '../shared/dom.js';
import { LANGS, lang, onLangChange, register, setLang, t } from '../shared/i18n.js';
import en from './i18n/en.js';
import fr from './i18n/fr.js';
import nl from './i18n/nl.js';
import { categoryPage, homePage, productPage, searchPage } from './catalog.js';
import { cartPage } from './cart.js';
import { orderPage } from './order.js';
import { nearPage, shopPage } from './shops.js';
import { errorBox, go, storedCart } from './ui.js';

register({ en, fr, nl });

const ROUTES = [
  [/^#?\/?$/, homePage],
  [/^#\/search$/, searchPage],
  [/^#\/category\/([^/]+)$/, categoryPage],
  [/^#\/product\/([^/]+)$/, productPage],
  [/^#\/near$/, nearPage],
  [/^#\/shop\/([^/]+)$/, shopPage],
  [/^#\/cart$/, cartPage],
  [/^#\/order\/([^/]+)$/, orderPage],
];

function header() {
  const cart = storedCart();
  const search = h('input', {
    type: 'search', id: 'q', name: 'q', required: true, value: new URLSearchParams(query()).get('q') || '',
  });
  const form = h('form', {
    role: 'search',
    onsubmit: (event) => {
      event.preventDefault();
      go(`#/search?q=${encodeURIComponent(search.value.trim())}`);
    },
  }, h('label', { for: 'q' }, t('search.label')), search, h('button', { type: 'submit' }, t('search.button')));
  const switcher = h('select', {
    id: 'lang',
    onchange: (event) => setLang(event.target.value),
  }, LANGS.map((l) => h('option', { value: l, selected: l === lang() }, l.toUpperCase())));
  return [
    h('a', { class: 'brand', href: '#/' }, t('app.title')),
    h('nav', { 'aria-label': 'main' },
      h('a', { href: '#/near' }, t('nav.near')),
      h('a', { href: '#/cart', 'data-testid': 'cart-link' }, t('nav.cart', { count: cart ? cart.count || 0 : 0 }))),
    form,
    h('span', { class: 'lang' }, h('label', { for: 'lang' }, t('nav.language')), switcher),
  ];
}

function query() {
  const index = location.hash.indexOf('?');
  return index < 0 ? '' : location.hash.slice(index + 1);
}

let rendering = 0;

async function render() {
  const mine = ++rendering;
  replace(document.getElementById('header'), ...header());
  document.querySelector('.skip').textContent = t('skip');
  const main = document.getElementById('main');
  const path = location.hash.split('?')[0];
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  replace(main, h('p', { class: 'loading' }, t('loading')));
  try {
    const content = route
      ? await route[1](...path.match(route[0]).slice(1).map(decodeURIComponent), new URLSearchParams(query()))
      : errorBox({ message: t('error.not_found') });
    if (mine === rendering) replace(main, content);
  } catch (error) {
    if (mine === rendering) replace(main, errorBox(error));
  }
}

window.addEventListener('hashchange', () => {
  render();
  document.getElementById('main').focus({ preventScroll: true });
});
document.addEventListener('cart-changed', () => replace(document.getElementById('header'), ...header()));
onLangChange(render);
document.title = t('app.title');
render();
