import { t } from '../../shared/i18n.js';
import { el } from '../ui.js';

export async function webhookView(root) {
  root.append(el('h1', {}, t('nav.webhook')));
}
