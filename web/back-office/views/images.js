// A product's photos: taken with the phone's camera (or picked), uploaded straight to S3 through the
// presigned POST the API hands out (XMLHttpRequest, for its upload progress), then shown once the image
// function has processed them, or refused with the reason in words.
import { t } from '../../shared/i18n.js';
import { el, field, notice, errorText } from '../ui.js';
import { call } from '../session.js';

const POLL_MS = 1500;
const POLL_LIMIT_MS = 180000; // the local stack's queue on a busy machine can take a while

function failureText(failure) {
  if (!failure) return t('image.failed');
  const key = `imageFailure.${failure.code}`;
  const text = t(key);
  return text === key ? failure.message : text;
}

function imageTile(productId, image, refresh) {
  const parts = [];
  if (image.status === 'ready' && image.renditions.length) {
    const small = image.renditions[0];
    parts.push(el('img', {
      src: small.url, alt: image.alt || '', width: String(small.width), height: String(small.height),
      srcset: image.renditions.map((r) => `${r.url} ${r.width}w`).join(', '), sizes: '120px',
      'data-testid': 'image-ready',
    }));
  } else if (image.status === 'pending') {
    parts.push(el('p', { class: 'muted', 'data-testid': 'image-pending' }, t('image.processing')));
  } else {
    parts.push(notice('error', `${t('image.refused')} ${failureText(image.failure)}`, 'image-failed'));
  }
  const remove = el('button', { type: 'button', class: 'link', 'data-testid': 'image-delete' }, t('image.delete'));
  remove.addEventListener('click', async () => {
    if (!window.confirm(t('image.confirmDelete'))) return;
    try {
      await call(`/retailer/products/${productId}/images/${image.id}`, { method: 'DELETE' });
      await refresh();
    } catch (error) {
      remove.after(notice('error', errorText(error), 'image-error'));
    }
  });
  return el('li', { class: 'image-tile', 'data-testid': 'image-tile', 'data-status': image.status }, parts,
    image.position === 0 && image.status === 'ready' ? el('small', {}, t('image.cover')) : null, remove);
}

/** Upload `file` with the form's fields (the file last, as S3 wants it), reporting progress. */
function postToS3(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', upload.url);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`HTTP ${xhr.status}`))));
    xhr.addEventListener('error', () => reject(new Error(t('error.network'))));
    xhr.send(form);
  });
}

export function imagesSection(product) {
  const list = el('ul', { class: 'images', 'data-testid': 'images' });
  const input = el('input', { type: 'file', accept: 'image/*', capture: 'environment', 'data-testid': 'image-file' });
  const alt = el('input', { type: 'text', maxlength: '250', 'data-testid': 'image-alt' });
  const progress = el('progress', { max: '100', value: '0', hidden: true, 'data-testid': 'image-progress', 'aria-label': t('image.progress') });
  const message = el('div', { 'aria-live': 'polite', 'data-testid': 'image-message' });
  let polling = null;

  function show(items) {
    list.replaceChildren(...items.map((image) => imageTile(product.id, image, refresh)));
  }
  async function refresh() {
    const page = await call(`/retailer/products/${product.id}/images`);
    show(page.items);
    return page.items;
  }
  function pollUntilSettled(imageId) {
    const started = Date.now();
    clearTimeout(polling);
    const tick = async () => {
      let items = [];
      try {
        items = await refresh();
      } catch (error) {
        message.replaceChildren(notice('error', errorText(error), 'image-error'));
        return;
      }
      const image = items.find((i) => i.id === imageId);
      if (!image || image.status !== 'pending') {
        message.replaceChildren(image && image.status === 'ready'
          ? notice('ok', t('image.ready'), 'image-done')
          : notice('error', `${t('image.refused')} ${failureText(image && image.failure)}`, 'image-error'));
        return;
      }
      if (Date.now() - started > POLL_LIMIT_MS) {
        message.replaceChildren(notice('error', t('image.slow'), 'image-error'));
        return;
      }
      if (document.body.contains(list)) polling = setTimeout(tick, POLL_MS);
    };
    polling = setTimeout(tick, POLL_MS);
  }

  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    message.replaceChildren();
    const contentType = file.type || 'application/octet-stream';
    let ticket;
    try {
      ticket = await call(`/retailer/products/${product.id}/images`, {
        method: 'POST', body: { content_type: contentType, size_bytes: file.size, alt: alt.value.trim() },
      });
    } catch (error) {
      const text = error.code === 'validation_error' && (error.fields || []).some((f) => f.field.includes('content_type'))
        ? t('image.badType') : errorText(error);
      message.replaceChildren(notice('error', text, 'image-error'));
      input.value = '';
      return;
    }
    progress.hidden = false;
    progress.value = 0;
    message.replaceChildren(el('p', { class: 'muted' }, t('image.uploading')));
    try {
      await postToS3(ticket.upload, file, (share) => { progress.value = Math.round(share * 100); });
      progress.value = 100;
      message.replaceChildren(el('p', { class: 'muted', 'data-testid': 'image-processing' }, t('image.processing')));
      await refresh();
      pollUntilSettled(ticket.image.id);
    } catch (error) {
      message.replaceChildren(notice('error', `${t('image.uploadFailed')} ${error.message}`, 'image-error'));
    } finally {
      input.value = '';
      progress.hidden = true;
    }
  });

  show(product.images || []);
  return el('section', { 'aria-labelledby': 'h-images', class: 'card' },
    el('h2', { id: 'h-images' }, t('image.title')), list,
    field(t('image.alt'), alt), field(t('image.take'), input, t('image.help')), progress, message);
}
