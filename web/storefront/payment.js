// Paying an order, behind one small interface so the order page is the same for both paths:
// - locally (no Stripe key in config.json): the simulated gateway's test buttons, which ask the API to
//   succeed or fail the PaymentIntent (POST /dev/payments/{id}/succeed|fail), as a card would;
// - with a Stripe publishable key: Stripe.js (loaded only then, from Stripe, as Stripe requires) confirms
//   the client_secret with a card element.
// mountPayment(container, checkout, onOutcome) renders the controls; onOutcome('paid' | 'failed', message).
import { config, request } from '../shared/api.js';
import { h } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { formatCents } from '../shared/money.js';

let stripePromise = null;

function loadStripe(publishableKey) {
  if (!stripePromise) {
    stripePromise = new Promise((resolve, reject) => {
      const script = h('script', { src: 'https://js.stripe.com/v3/' });
      script.addEventListener('load', () => resolve(window.Stripe(publishableKey)));
      script.addEventListener('error', () => {
        stripePromise = null;
        reject(new Error('Stripe.js could not be loaded'));
      });
      document.head.append(script);
    });
  }
  return stripePromise;
}

async function mountStripe(container, checkout, onOutcome, publishableKey) {
  const stripe = await loadStripe(publishableKey);
  const card = stripe.elements().create('card');
  const slot = h('div', { class: 'card-element', id: 'card-element' });
  const button = h('button', { type: 'submit' }, t('pay.stripe_pay', { amount: formatCents(checkout.total_cents, checkout.currency) }));
  const form = h('form', {
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      const result = await stripe.confirmCardPayment(checkout.client_secret, { payment_method: { card } });
      button.disabled = false;
      if (result.error) onOutcome('failed', result.error.message);
      else onOutcome('paid');
    },
  }, h('label', { for: 'card-element' }, t('pay.card')), slot, button);
  container.replaceChildren(form);
  card.mount(slot);
}

function mountSimulated(container, checkout, onOutcome) {
  const path = (outcome) => `/dev/payments/${encodeURIComponent(checkout.payment_intent_id)}/${outcome}`;
  const buttons = [];
  const send = (outcome) => async () => {
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const ack = await request(path(outcome), { method: 'POST' });
      onOutcome(outcome === 'succeed' && ack.outcome === 'paid' ? 'paid' : 'failed');
    } catch (error) {
      onOutcome('failed', error.message);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  };
  buttons.push(
    h('button', { type: 'button', onclick: send('succeed'), 'data-testid': 'pay' }, t('pay.succeed')),
    h('button', { type: 'button', class: 'secondary', onclick: send('fail'), 'data-testid': 'decline' }, t('pay.fail')),
  );
  container.replaceChildren(h('p', { class: 'notice' }, t('pay.test_notice')), ...buttons);
}

export async function mountPayment(container, checkout, onOutcome) {
  const settings = await config().catch(() => ({}));
  if (settings.stripe_publishable_key) {
    await mountStripe(container, checkout, onOutcome, settings.stripe_publishable_key);
  } else {
    mountSimulated(container, checkout, onOutcome);
  }
}
