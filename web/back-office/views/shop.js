// The shop's profile as its customers see it: description and contact, opening hours, closed days, pickup
// (with or without booked slots) and delivery terms. One PATCH of the sections shown.
import { t } from '../../shared/i18n.js';
import { el, field, notice, errorText, put } from '../ui.js';
import { call } from '../session.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function hoursText(intervals) {
  return (intervals || []).map(([from, to]) => `${from}-${to}`).join(', ');
}

/** "09:00-12:30, 13:30-18:00" -> [["09:00","12:30"], ["13:30","18:00"]]; null when it does not read. */
function parseHours(text) {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  const out = [];
  for (const part of parts) {
    const match = part.match(/^(\d{1,2})[:.h](\d{2})\s*[-–]\s*(\d{1,2})[:.h](\d{2})$/);
    if (!match) return null;
    out.push([`${match[1].padStart(2, '0')}:${match[2]}`, `${match[3].padStart(2, '0')}:${match[4]}`]);
  }
  return out;
}

function euroText(cents) {
  return cents === null || cents === undefined ? '' : (cents / 100).toFixed(2);
}

function cents(text) {
  if (!String(text).trim()) return null;
  const value = Number(String(text).replace(',', '.'));
  return Number.isFinite(value) && value >= 0 ? Math.round(value * 100) : NaN;
}

const input = (attrs) => el('input', { type: 'text', ...attrs });
const check = (id, checked, label) => {
  const box = el('input', { type: 'checkbox', id, checked, 'data-testid': id });
  return [box, el('div', { class: 'field check' }, box, el('label', { for: id }, label))];
};

export async function shopView(root) {
  const shop = await call('/retailer/shop');
  const p = shop.profile;
  const description = el('textarea', { rows: '3', 'data-testid': 'shop-description' });
  description.value = p.description || '';
  const phone = input({ type: 'tel', value: p.phone || '', 'data-testid': 'shop-phone' });
  const email = input({ type: 'email', value: p.email || '', 'data-testid': 'shop-email' });
  const hours = Object.fromEntries(DAYS.map((day) => [day, input({ value: hoursText(p.opening_hours[day]), 'data-testid': `hours-${day}`, placeholder: '09:00-18:00' })]));
  const closed = el('textarea', { rows: '2', 'data-testid': 'shop-closed', placeholder: '2026-12-25' });
  closed.value = (p.closed_dates || []).join('\n');
  const pk = p.pickup || {};
  const [pickupOn, pickupRow] = check('pickup-enabled', pk.enabled, t('shop.pickupEnabled'));
  const readyWithin = input({ type: 'number', min: '0', max: '336', value: String(pk.ready_within_hours ?? 2) });
  const instructions = input({ value: pk.instructions || '' });
  const noShow = input({ type: 'number', min: '0', max: '30', value: String(pk.no_show_days ?? 3) });
  const slots = pk.slots || null;
  const [slotsOn, slotsRow] = check('slots-enabled', Boolean(slots), t('shop.slotsEnabled'));
  const slotLength = input({ type: 'number', min: '15', max: '240', value: String(slots ? slots.length_minutes : 30) });
  const slotCapacity = input({ type: 'number', min: '1', max: '100', value: String(slots ? slots.capacity : 2) });
  const slotPrep = input({ type: 'number', min: '0', max: '10080', value: String(slots ? slots.preparation_minutes : 120) });
  const dl = p.delivery || {};
  const [deliveryOn, deliveryRow] = check('delivery-enabled', dl.enabled, t('shop.deliveryEnabled'));
  const radius = input({ type: 'number', min: '0', max: '50', step: '0.1', value: String(dl.radius_km ?? 0) });
  const fee = input({ inputmode: 'decimal', value: euroText(dl.fee_cents ?? 0) });
  const freeOver = input({ inputmode: 'decimal', value: euroText(dl.free_over_cents) });
  const message = el('div', { 'aria-live': 'polite' });

  const form = el('form', { 'data-testid': 'shop-form' },
    el('section', { class: 'card' }, el('h2', {}, t('shop.about')),
      field(t('shop.description'), description), field(t('shop.phone'), phone), field(t('shop.email'), email)),
    el('section', { class: 'card' }, el('h2', {}, t('shop.hours')), el('p', { class: 'muted' }, t('shop.hoursHelp')),
      DAYS.map((day) => field(t(`day.${day}`), hours[day])),
      field(t('shop.closed'), closed, t('shop.closedHelp'))),
    el('section', { class: 'card' }, el('h2', {}, t('shop.pickup')), pickupRow,
      field(t('shop.readyWithin'), readyWithin), field(t('shop.instructions'), instructions),
      field(t('shop.noShow'), noShow), slotsRow,
      field(t('shop.slotLength'), slotLength), field(t('shop.slotCapacity'), slotCapacity),
      field(t('shop.slotPreparation'), slotPrep)),
    el('section', { class: 'card' }, el('h2', {}, t('shop.delivery')), deliveryRow,
      field(t('shop.radius'), radius), field(t('shop.fee'), fee), field(t('shop.freeOver'), freeOver, t('shop.freeOverHelp'))),
    message, el('button', { type: 'submit', 'data-testid': 'shop-save' }, t('save')));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const opening = {};
    for (const day of DAYS) {
      const parsed = parseHours(hours[day].value);
      if (!parsed) {
        message.replaceChildren(notice('error', t('shop.badHours', { day: t(`day.${day}`) }), 'shop-error'));
        return;
      }
      opening[day] = parsed;
    }
    const feeCents = cents(fee.value) ?? 0;
    const freeCents = cents(freeOver.value);
    if (Number.isNaN(feeCents) || Number.isNaN(freeCents)) {
      message.replaceChildren(notice('error', t('variant.badPrice'), 'shop-error'));
      return;
    }
    const body = {
      description: description.value,
      phone: phone.value.trim() || null,
      email: email.value.trim() || null,
      opening_hours: opening,
      closed_dates: closed.value.split(/[\s,]+/).filter(Boolean),
      pickup: {
        enabled: pickupOn.checked, ready_within_hours: Number(readyWithin.value), instructions: instructions.value.trim(),
        no_show_days: Number(noShow.value),
        slots: slotsOn.checked ? { length_minutes: Number(slotLength.value), capacity: Number(slotCapacity.value),
          preparation_minutes: Number(slotPrep.value) } : null,
      },
      delivery: { enabled: deliveryOn.checked, radius_km: Number(radius.value), fee_cents: feeCents, free_over_cents: freeCents },
    };
    try {
      await call('/retailer/shop', { method: 'PATCH', body });
      message.replaceChildren(notice('ok', t('saved'), 'shop-saved'));
    } catch (error) {
      message.replaceChildren(notice('error', errorText(error), 'shop-error'));
    }
  });
  put(root, el('h1', {}, p.name),
    shop.status === 'suspended' ? notice('error', t('error.shop_suspended')) : null, form);
}
