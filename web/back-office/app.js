// The retailers' back office: a hash router over small views, one per screen.
import { register, t, lang, setLang, onLangChange } from '../shared/i18n.js';
import { replace } from '../shared/dom.js';
import { el, notice, errorText } from './ui.js';
import { session, signOut, whenSignedOut } from './session.js';
import fr from './i18n/fr.js';
import nl from './i18n/nl.js';
import en from './i18n/en.js';
import { signInView } from './views/sign_in.js';
import { ordersView } from './views/orders.js';
import { orderView } from './views/order.js';
import { productsView, productView, newProductView } from './views/products.js';
import { shopView } from './views/shop.js';
import { webhookView } from './views/webhook.js';
import { payoutsView, payoutView } from './views/payouts.js';
import { operatorView } from './views/operator.js';

register({ fr, nl, en });

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOutButton = document.getElementById('sign-out');
const langSelect = document.getElementById('lang');
let signedOutReason = null;

const RETAILER_ROUTES = [
  [/^orders$/, () => ordersView],
  [/^orders\/([\w-]+)$/, (m) => (root) => orderView(root, m[1])],
  [/^products$/, () => productsView],
  [/^products\/new$/, () => newProductView],
  [/^products\/([\w-]+)$/, (m) => (root) => productView(root, m[1])],
  [/^shop$/, () => shopView],
  [/^webhook$/, () => webhookView],
  [/^payouts$/, () => payoutsView],
  [/^payouts\/([\w-]+)$/, (m) => (root) => payoutView(root, m[1])],
];
const NAV = [['orders', 'nav.orders'], ['products', 'nav.products'], ['shop', 'nav.shop'],
  ['webhook', 'nav.webhook'], ['payouts', 'nav.payouts']];

function route() {
  return location.hash.replace(/^#\/?/, '') || '';
}

export function go(path) {
  if (route() === path) render();
  else location.hash = `#/${path}`;
}

function renderNav(current) {
  const who = session();
  nav.hidden = !who;
  signOutButton.hidden = !who;
  signOutButton.textContent = t('signOut');
  if (!who) return replace(nav);
  if (who.role === 'operator') {
    return replace(nav, el('a', { href: '#/operator', 'aria-current': 'page' }, t('nav.operator')));
  }
  return replace(nav, NAV.map(([path, key]) => el('a', {
    href: `#/${path}`, 'aria-current': current.split('/')[0] === path ? 'page' : null,
  }, t(key))));
}

async function render() {
  const who = session();
  const current = route();
  document.title = `${t('title')} · Digital Mall`;
  langSelect.value = lang();
  renderNav(current);
  replace(main);
  if (!who) {
    signInView(main, signedOutReason);
    return;
  }
  signedOutReason = null;
  let view = null;
  if (who.role === 'operator') {
    view = operatorView;
  } else {
    for (const [pattern, make] of RETAILER_ROUTES) {
      const match = current.match(pattern);
      if (match) {
        view = make(match);
        break;
      }
    }
    if (!view) {
      location.replace('#/orders');
      return;
    }
  }
  // Each render draws into its own container: a slow view still loading when the person moves on writes
  // into a detached node instead of mixing with the next page.
  const root = el('div', { class: 'view' });
  main.appendChild(root);
  try {
    await view(root);
  } catch (error) {
    if (!session()) return; // signed out while loading: the sign-in page is already there
    root.appendChild(notice('error', `${t('error.load')} ${error.status ? errorText(error) : error.message || ''}`, 'load-error'));
  }
}

whenSignedOut((reason) => {
  signedOutReason = reason || null;
  if (route() !== '') location.hash = '';
  render();
});
signOutButton.addEventListener('click', () => signOut('byUser'));
langSelect.addEventListener('change', () => setLang(langSelect.value));
onLangChange(render);
window.addEventListener('hashchange', render);
lang();
render();
