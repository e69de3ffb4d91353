// Payouts: the Stripe account's onboarding (status and a fresh link), the balance, the payouts made and each
// payout's statement (and its CSV, fetched with the key since a plain link cannot carry it).
import { t } from '../../shared/i18n.js';
import { apiUrl } from '../../shared/api.js';
import { el, euros, when, notice, errorText, put } from '../ui.js';
import { call, session } from '../session.js';

function onboarding(account, refresh) {
  const message = el('div', { 'aria-live': 'polite' });
  const action = async (path) => {
    message.replaceChildren();
    try {
      const next = await call(path, { method: 'POST' });
      if (next.onboarding_url) window.location.assign(next.onboarding_url);
      else refresh();
    } catch (error) {
      message.replaceChildren(notice('error', errorText(error), 'payouts-error'));
    }
  };
  const parts = [el('p', { 'data-testid': 'payout-account-status' }, t(`payouts.account.${account.status}`))];
  if (account.currently_due && account.currently_due.length) parts.push(el('p', { class: 'muted' }, t('payouts.due', { count: account.currently_due.length })));
  if (account.status === 'not_started') {
    parts.push(el('button', { type: 'button', 'data-testid': 'payouts-start', onclick: () => action('/retailer/payouts/account') }, t('payouts.start')));
  } else if (account.status !== 'active') {
    parts.push(el('button', { type: 'button', 'data-testid': 'payouts-link', onclick: () => action('/retailer/payouts/account/link') }, t('payouts.continue')));
  }
  if (account.dashboard_url) parts.push(el('p', {}, el('a', { href: account.dashboard_url, target: '_blank', rel: 'noopener' }, t('payouts.dashboard'))));
  return el('section', { class: 'card' }, el('h2', {}, t('payouts.account')), parts, message);
}

function balance(b) {
  const rows = [['available_cents', 'payouts.available'], ['on_hold_cents', 'payouts.onHold'], ['pending_cents', 'payouts.pending'],
    ['in_transit_cents', 'payouts.inTransit'], ['disputed_cents', 'payouts.disputed'], ['carried_forward_cents', 'payouts.carried'],
    ['paid_out_cents', 'payouts.paidOut']];
  return el('section', { class: 'card', 'data-testid': 'balance' }, el('h2', {}, t('payouts.balance')),
    el('table', {}, el('tbody', {}, rows.map(([name, key]) => el('tr', {}, el('th', { scope: 'row' }, t(key)), el('td', {}, euros(b[name])))))),
    b.next_payout_on ? el('p', {}, t('payouts.next', { date: b.next_payout_on })) : null);
}

export async function payoutsView(root) {
  const [account, bal, page] = await Promise.all([
    call('/retailer/payouts/account'), call('/retailer/balance'), call('/retailer/payouts?limit=20'),
  ]);
  put(root, el('h1', {}, t('nav.payouts')), onboarding(account, () => window.dispatchEvent(new HashChangeEvent('hashchange'))),
    balance(bal),
    el('section', {}, el('h2', {}, t('payouts.list')),
      el('ul', { class: 'list', 'data-testid': 'payouts' }, page.items.length ? page.items.map((p) => el('li', { class: 'card' },
        el('a', { href: `#/payouts/${p.id}` }, `${when(p.created_at)} · ${euros(p.amount_cents)}`),
        el('span', { class: 'muted' }, ` · ${t(`payouts.status.${p.status}`)}`))) : el('li', { class: 'muted' }, t('payouts.none')))));
}

async function downloadCsv(payoutId, link) {
  const response = await fetch(`${await apiUrl()}/retailer/payouts/${payoutId}/statement.csv`, {
    headers: { Authorization: `Bearer ${session().key}` },
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  link.href = URL.createObjectURL(await response.blob());
  link.download = `statement-${payoutId}.csv`;
  link.click();
}

export async function payoutView(root, payoutId) {
  const statement = await call(`/retailer/payouts/${payoutId}`);
  const p = statement.payout;
  const totals = statement.totals;
  const message = el('div', { 'aria-live': 'polite' });
  const csv = el('a', { class: 'button secondary', href: '#', 'data-testid': 'statement-csv' }, t('payouts.csv'));
  csv.addEventListener('click', (event) => {
    if (csv.download) return; // the second, programmatic click follows the blob URL
    event.preventDefault();
    downloadCsv(payoutId, csv).catch((error) => message.replaceChildren(notice('error', error.message)));
  });
  put(root, el('p', {}, el('a', { href: '#/payouts' }, `← ${t('nav.payouts')}`)),
    el('h1', {}, `${t('payouts.payout')} ${euros(p.amount_cents)}`),
    el('p', {}, `${t(`payouts.status.${p.status}`)} · ${when(p.created_at)}`),
    el('table', {}, el('tbody', {}, [['sales_cents', 'payouts.sales'], ['commission_cents', 'payouts.commission'],
      ['refunds_cents', 'payouts.refunds'], ['disputes_cents', 'payouts.disputes'], ['clawbacks_cents', 'payouts.clawbacks'],
      ['net_cents', 'payouts.net']].map(([name, key]) => el('tr', {}, el('th', { scope: 'row' }, t(key)), el('td', {}, euros(totals[name])))))),
    csv, message,
    el('h2', {}, t('payouts.entries')),
    el('ul', { class: 'list' }, statement.entries.map((e) => el('li', { class: 'line' },
      el('span', {}, `${when(e.at)} · ${t(`payouts.entry.${e.type}`)}${e.order_id ? ` · ${e.order_id.slice(-6)}` : ''}`),
      el('span', {}, euros(e.amount_cents))))));
}
