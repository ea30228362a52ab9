// Gallery view, browser side: a search box and a grid of thumbnails, paged as the user scrolls.
// Thumbnails are asked for only when a card comes near the viewport, so 1,000 images cost a few
// dozen requests at a time. A preview pane shows one image with its actions. A filter shows only
// the images no Markdown document links, each with a badge and a button to move it to the trash.

// First: the translations must be loaded before any words are shown.
import '../shared/l10n';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { FromGallery, GALLERY_FILTERS, GalleryAction, GalleryCard, GalleryFilter, ToGallery } from '../../src/core/webviewMessages';
import * as l10n from '@vscode/l10n';
import { byId, el, getVsCodeApi } from '../shared/vscodeApi';

interface SavedState {
  query: string;
  filter?: GalleryFilter;
}

const PAGE = 60;
const vscode = getVsCodeApi<FromGallery.Type, SavedState>();
const post = (m: FromGallery.Type) => vscode.postMessage(m);

const search = byId<VscodeTextfield>('search');
const filterSelect = byId<VscodeSingleSelect>('filter');
const cleanUp = byId('clean-up');
const grid = byId('grid');
const status = byId('status');
const sentinel = byId('sentinel');
const preview = byId('preview');
const previewImg = byId<HTMLImageElement>('preview-img');
const previewPrompt = byId('preview-prompt');
const previewName = byId('preview-name');

let query = vscode.getState()?.query ?? '';
const savedFilter = vscode.getState()?.filter;
let filter: GalleryFilter = savedFilter && GALLERY_FILTERS.includes(savedFilter) ? savedFilter : 'all';
let requestId = 0;
let total = 0;
let scanning = true;
let loading = false;
const cards: GalleryCard[] = [];
const cardEls = new Map<string, HTMLElement>();
const thumbs = new Map<string, string>();
let previewId: string | undefined;
let returnFocus: HTMLElement | undefined;

// ------------------------------------------------------------------ paging

function requestPage(offset: number, limit = PAGE): void {
  loading = true;
  post({ type: 'query', requestId: ++requestId, query, offset, limit, filter });
}

function reload(): void {
  // Keep as many cards as were shown, so a file event does not scroll the user back to the top.
  requestPage(0, Math.min(200, Math.max(PAGE, cards.length)));
}

function onPage(m: ToGallery.Page): void {
  if (m.requestId !== requestId) return;
  loading = false;
  total = m.total;
  scanning = m.scanning;
  if (m.offset === 0) {
    cards.length = 0;
    cardEls.clear();
    grid.replaceChildren();
  }
  for (const c of m.items) {
    if (cardEls.has(c.id)) continue;
    cards.push(c);
    if (c.thumbUri) thumbs.set(c.id, c.thumbUri);
    const node = cardEl(c);
    cardEls.set(c.id, node);
    grid.append(node);
  }
  updateStatus();
  if (previewId && !cardEls.has(previewId) && m.offset === 0) closePreview();
  // The sentinel may still be visible after a short page: fill the view.
  requestAnimationFrame(() => {
    if (!loading && cards.length < total && isNearViewport(sentinel)) requestPage(cards.length);
  });
}

function updateStatus(): void {
  const unlinked = filter === 'unlinked';
  const what = query.trim()
    ? l10n.t('{0} matching “{1}”', total, query.trim())
    : unlinked
      ? total === 1 ? l10n.t('1 image not linked from any document') : l10n.t('{0} images not linked from any document', total)
      : total === 1 ? l10n.t('1 image') : l10n.t('{0} images', total);
  status.textContent = scanning ? l10n.t('{0} · scanning…', what) : what;
  cleanUp.hidden = !unlinked || total === 0;
  byId('empty-box').hidden = total > 0 || scanning;
  // A gallery with nothing in it at all says where to start; an empty search or filter does not.
  byId('start').hidden = !!query.trim() || unlinked;
  byId('empty').textContent = query.trim()
    ? l10n.t('No image matches this search.')
    : unlinked
      ? l10n.t('Every image is linked from a Markdown document.')
      : l10n.t('No illustrations yet. Generate one from a Markdown file (Course Illustrator: Generate Illustration).');
}

function isNearViewport(node: HTMLElement): boolean {
  const r = node.getBoundingClientRect();
  return r.top < window.innerHeight + 400;
}

new IntersectionObserver(
  (entries) => {
    if (entries.some((e) => e.isIntersecting) && !loading && cards.length < total) requestPage(cards.length);
  },
  { rootMargin: '400px' },
).observe(sentinel);

// ------------------------------------------------------------------ cards and lazy thumbnails

const wanted = new Set<string>();
let thumbFlush: number | undefined;

const thumbObserver = new IntersectionObserver(
  (entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      const id = (e.target as HTMLElement).dataset.id;
      thumbObserver.unobserve(e.target);
      if (id && !thumbs.has(id)) wanted.add(id);
    }
    if (wanted.size && thumbFlush === undefined) {
      thumbFlush = requestAnimationFrame(() => {
        thumbFlush = undefined;
        const ids = [...wanted].slice(0, 100);
        ids.forEach((id) => wanted.delete(id));
        post({ type: 'thumbs', ids });
      });
    }
  },
  { rootMargin: '300px' },
);

/** The tooltip's last line: which documents link the image, or that none does. */
function linkLine(c: GalleryCard): string {
  if (c.unlinked) return `\n${l10n.t('Not linked from any document')}`;
  return c.linkedFrom?.length ? `\n${l10n.t('Linked from: {0}', c.linkedFrom.join(', '))}` : '';
}

const TRASH_ICON =
  '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false"><path fill="currentColor" ' +
  'd="M6 2h4v1h4v1H2V3h4V2zm-2 3h8l-.6 9H4.6L4 5zm2 1v7h1V6H6zm3 0v7h1V6H9z"/></svg>';

function cardEl(c: GalleryCard): HTMLElement {
  const img = el('img', { attrs: { alt: c.prompt.slice(0, 160) || c.fileName, loading: 'lazy', decoding: 'async', draggable: 'false' } });
  const src = thumbs.get(c.id);
  if (src) img.src = src;
  const thumb = el('div', { className: 'thumb' }, [img]);
  const label = `${c.fileName}: ${c.prompt.slice(0, 160)}`;
  const node = el(
    'div',
    {
      className: 'card',
      attrs: {
        role: 'listitem', tabindex: '0', 'data-id': c.id, title: `${c.label}\n${c.prompt}${linkLine(c)}`,
        'aria-label': c.unlinked ? `${label} (${l10n.t('not linked')})` : label,
      },
    },
    [thumb, el('div', { className: 'caption', text: c.prompt || c.fileName })],
  );
  if (c.unlinked) {
    node.classList.add('unlinked');
    thumb.append(el('span', { className: 'badge', text: l10n.t('not linked'), attrs: { 'aria-hidden': 'true' } }));
    const trash = el('button', { className: 'tile-trash', attrs: { type: 'button', title: l10n.t('Move to Trash…'), 'aria-label': l10n.t('Move {0} to the trash…', c.fileName) } });
    trash.innerHTML = TRASH_ICON;
    trash.addEventListener('click', (e) => {
      e.stopPropagation();
      post({ type: 'action', action: 'delete', id: c.id });
    });
    thumb.append(trash);
  }
  if (!src) thumbObserver.observe(node);
  node.addEventListener('click', () => openPreview(c.id));
  return node;
}

function onThumbs(m: ToGallery.Thumbs): void {
  for (const t of m.thumbs) {
    thumbs.set(t.id, t.uri);
    const img = cardEls.get(t.id)?.querySelector('img');
    if (img) img.src = t.uri;
  }
}

// ------------------------------------------------------------------ preview pane

function openPreview(id: string): void {
  const c = cards.find((x) => x.id === id);
  if (!c) return;
  previewId = id;
  returnFocus = cardEls.get(id);
  previewImg.src = c.imageUri;
  previewImg.alt = c.prompt.slice(0, 160) || c.fileName;
  previewPrompt.textContent = c.prompt;
  previewName.textContent = `${c.label} · ${c.width}×${c.height} · ${new Date(c.mtimeMs).toLocaleString()}`;
  preview.hidden = false;
  byId('preview-insert').focus();
}

function closePreview(): void {
  preview.hidden = true;
  previewId = undefined;
  previewImg.removeAttribute('src');
  returnFocus?.focus();
}

for (const b of preview.querySelectorAll<HTMLElement>('[data-action]')) {
  b.addEventListener('click', () => {
    if (previewId) post({ type: 'action', action: b.dataset.action as GalleryAction, id: previewId });
  });
}
byId('preview-close').addEventListener('click', closePreview);

// ------------------------------------------------------------------ keyboard

function focusedCardId(): string | undefined {
  const a = document.activeElement as HTMLElement | null;
  return a?.classList.contains('card') ? a.dataset.id : undefined;
}

function columns(): number {
  const first = grid.firstElementChild as HTMLElement | null;
  if (!first) return 1;
  const top = first.offsetTop;
  let n = 0;
  for (const c of grid.children) {
    if ((c as HTMLElement).offsetTop !== top) break;
    n++;
  }
  return Math.max(1, n);
}

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !preview.hidden) {
    e.preventDefault();
    closePreview();
    return;
  }
  if (e.key === 'Tab' && !preview.hidden) {
    // The preview is a modal dialog: Tab cycles through its buttons.
    const buttons = [...preview.querySelectorAll<HTMLElement>('vscode-button')];
    const i = buttons.indexOf(document.activeElement as HTMLElement);
    if (i === -1 || (e.shiftKey && i === 0) || (!e.shiftKey && i === buttons.length - 1)) {
      e.preventDefault();
      buttons[e.shiftKey ? buttons.length - 1 : 0]?.focus();
    }
    return;
  }
  const id = focusedCardId();
  if (!id) return;
  const i = cards.findIndex((c) => c.id === id);
  const move: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(), ArrowUp: -columns(), Home: -i, End: cards.length - 1 - i };
  if (e.key in move) {
    e.preventDefault();
    const next = cards[Math.max(0, Math.min(cards.length - 1, i + move[e.key]))];
    cardEls.get(next.id)?.focus();
  } else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    openPreview(id);
  } else if (e.key === 'Delete') {
    e.preventDefault();
    post({ type: 'action', action: 'delete', id });
  }
});

// ------------------------------------------------------------------ search and messages

let searchTimer: number | undefined;
search.value = query;
search.addEventListener('input', () => {
  window.clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => {
    query = search.value;
    vscode.setState({ query, filter });
    requestPage(0);
  }, 150);
});

filterSelect.value = filter;
filterSelect.addEventListener('change', () => {
  const v = filterSelect.value as GalleryFilter;
  filter = GALLERY_FILTERS.includes(v) ? v : 'all';
  vscode.setState({ query, filter });
  cleanUp.hidden = true;
  requestPage(0);
});
cleanUp.addEventListener('click', () => post({ type: 'cleanUp' }));
for (const b of document.querySelectorAll<HTMLElement>('#start [data-start]')) {
  b.addEventListener('click', () => post({ type: 'start', what: b.dataset.start as FromGallery.Start['what'] }));
}

window.addEventListener('message', (event: MessageEvent<ToGallery.Type>) => {
  const m = event.data;
  switch (m.type) {
    case 'page':
      onPage(m);
      break;
    case 'thumbs':
      onThumbs(m);
      break;
    case 'changed':
      scanning = m.scanning;
      reload();
      break;
    case 'notice': {
      const box = byId('notice');
      box.textContent = m.message;
      box.className = `notice ${m.level}`;
      box.hidden = false;
      break;
    }
  }
});

post({ type: 'ready' });
requestPage(0);
