import { t } from '../../shared/i18n.js';
import { el } from '../ui.js';

export async function payoutsView(root) {
  root.append(el('h1', {}, t('nav.payouts')));
}

export async function payoutView(root) {
  root.append(el('h1', {}, t('nav.payouts')));
}
