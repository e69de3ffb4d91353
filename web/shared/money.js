// Format integer cents as euros for the current language. The pages never compute prices: they only show
// the amounts the API returns.
import { lang } from './i18n.js';

const LOCALES = { fr: 'fr-BE', nl: 'nl-BE', en: 'en-IE' };
const formatters = new Map();

export function formatCents(cents, currency = 'EUR') {
  const locale = LOCALES[lang()] || 'en-IE';
  const cacheKey = `${locale}/${currency}`;
  if (!formatters.has(cacheKey)) {
    formatters.set(cacheKey, new Intl.NumberFormat(locale, { style: 'currency', currency: String(currency).toUpperCase() }));
  }
  return formatters.get(cacheKey).format(Number(cents || 0) / 100);
}
