/// <reference lib="dom" />
// The WebTV home page: a grid of the live channels from GET /api/channels, refreshed every 5 s
// with cards updated in place, each with a thumbnail refreshed every 10 s (a placeholder until
// the tracker has one) and the programme on now and next; a category menu and a search box
// filter it. Directory entries are checked before use; names are shown as text only.

import { type ChannelSummary, parseChannelList } from '../../api/tracker-api.js';
import { h, setText } from './dom.js';
import { formatBitrate, formatCount } from './format.js';
import { categoriesOf, matchesFilter, programmeLine } from './guide-format.js';

const REFRESH_MS = 5_000;
const THUMBNAIL_REFRESH_MS = 10_000;

/** Keeps only well-formed directory entries (the tracker is trusted, but not blindly). */
export function parseChannels(body: unknown): ChannelSummary[] {
  const list = parseChannelList(body);
  if (list === undefined) throw new Error('the directory did not answer with a list');
  return list;
}

export async function fetchChannels(signal?: AbortSignal): Promise<ChannelSummary[]> {
  const res = await fetch('/api/channels', { cache: 'no-store', signal });
  if (!res.ok) throw new Error(`the tracker answered ${res.status}`);
  return parseChannels(await res.json());
}

interface Card {
  item: HTMLLIElement;
  title: HTMLElement;
  viewers: HTMLElement;
  bitrate: HTMLElement;
  warning: HTMLElement;
  thumbnail: HTMLImageElement;
  placeholder: HTMLElement;
  now: HTMLElement;
  next: HTMLElement;
  category: HTMLElement;
  channel: ChannelSummary;
}

/** The grid's filter controls, when the page has them (#category and #search). */
interface Filters {
  category: HTMLSelectElement;
  search: HTMLInputElement;
}

function findFilters(): Filters | undefined {
  const category = document.getElementById('category');
  const search = document.getElementById('search');
  return category instanceof HTMLSelectElement && search instanceof HTMLInputElement ? { category, search } : undefined;
}

/** Renders the grid into `list`, with progress and errors in `status`; returns a stop function. */
export function startChannelGrid(list: HTMLElement, status: HTMLElement): () => void {
  const cards = new Map<string, Card>();
  let stopped = false;
  let thumbnailBucket = -1;
  const filters = findFilters();
  let total = 0;

  /** Hides the cards the filter leaves out and says how many are shown. */
  const applyFilter = () => {
    const category = filters?.category.value ?? '';
    const query = filters?.search.value ?? '';
    let shown = 0;
    for (const card of cards.values()) {
      card.item.hidden = !matchesFilter(card.channel, category, query);
      if (!card.item.hidden) shown++;
    }
    if (total === 0) return;
    const all = formatCount(total, 'live channel', 'live channels');
    setText(status, shown === total ? all : `${shown} of ${all} match`);
  };
  filters?.category.addEventListener('change', applyFilter);
  filters?.search.addEventListener('input', applyFilter);

  const refresh = async () => {
    try {
      const channels = await fetchChannels();
      if (stopped) return;
      channels.sort((a, b) => b.viewers - a.viewers || a.name.localeCompare(b.name));
      render(channels);
    } catch (err) {
      if (stopped) return;
      const known = cards.size > 0 ? ' (showing the last list)' : '';
      setText(status, `Cannot reach the tracker: ${(err as Error).message}. Retrying…${known}`);
      status.classList.add('error');
    }
  };

  const render = (channels: ChannelSummary[]) => {
    status.classList.remove('error');
    setText(
      status,
      channels.length === 0
        ? 'No live channels right now. Start one with “meshtv broadcast”.'
        : formatCount(channels.length, 'live channel', 'live channels'),
    );
    document.title =
      channels.length === 0 ? 'meshtv — live TV' : `meshtv — ${formatCount(channels.length, 'live channel', 'live channels')}`;
    const seen = new Set<string>();
    for (const c of channels) {
      seen.add(c.id);
      let card = cards.get(c.id);
      if (card === undefined) {
        card = createCard(c);
        cards.set(c.id, card);
        loadThumbnail(c.id, card, Math.floor(Date.now() / THUMBNAIL_REFRESH_MS));
      }
      updateCard(card, c);
      list.append(card.item); // appending an existing node moves it: the grid follows the sort order
    }
    if (filters !== undefined) setCategories(filters.category, categoriesOf(channels));
    total = channels.length;
    applyFilter();
    for (const [id, card] of cards) {
      if (seen.has(id)) continue;
      card.item.remove();
      cards.delete(id);
    }
    const bucket = Math.floor(Date.now() / THUMBNAIL_REFRESH_MS);
    if (bucket !== thumbnailBucket) {
      thumbnailBucket = bucket;
      for (const [id, card] of cards) loadThumbnail(id, card, bucket);
    }
  };

  void refresh();
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function createCard(c: ChannelSummary): Card {
  const thumbnail = h('img', { class: 'thumb-img', alt: '', decoding: 'async', hidden: true });
  const placeholder = h('div', { class: 'thumb-placeholder', 'aria-hidden': 'true' }, initials(c.name));
  // A hue from the id, so different channels with one name still look different.
  placeholder.style.setProperty('--hue', String(Math.round((Number.parseInt(c.id.slice(0, 4), 16) / 0xffff) * 360)));
  const title = h('h2', { class: 'card-title' });
  const viewers = h('span', { class: 'card-viewers' });
  const bitrate = h('span', { class: 'card-bitrate' });
  const warning = h('p', { class: 'card-warning', hidden: true });
  const now = h('p', { class: 'card-now', hidden: true });
  const next = h('p', { class: 'card-next', hidden: true });
  const category = h('span', { class: 'card-category', hidden: true });
  const item = h(
    'li',
    { class: 'card' },
    h(
      'a',
      { class: 'card-link', href: `/watch/${c.id}` },
      h('div', { class: 'thumb' }, placeholder, thumbnail, h('span', { class: 'live-badge' }, 'LIVE'), category),
      h(
        'div',
        { class: 'card-body' },
        title,
        h('p', { class: 'card-meta' }, viewers, h('span', { 'aria-hidden': 'true' }, ' · '), bitrate),
        now,
        next,
        h('p', { class: 'card-id', title: `channel id ${c.id}` }, `${c.id.slice(0, 8)}…${c.id.slice(-4)}`),
        warning,
      ),
    ),
  );
  return { item, title, viewers, bitrate, warning, thumbnail, placeholder, now, next, category, channel: c };
}

function updateCard(card: Card, c: ChannelSummary): void {
  card.channel = c;
  setText(card.title, c.name);
  showLine(card.now, programmeLine('now', c.now));
  showLine(card.next, programmeLine('next', c.next));
  showLine(card.category, c.category);
  setText(card.viewers, `${formatCount(c.viewers, 'viewer', 'viewers')}`);
  setText(card.bitrate, formatBitrate(c.bitrateBps));
  const others = c.sameNameCount;
  card.warning.hidden = others === 0;
  if (others > 0) setText(card.warning, `⚠ ${formatCount(others, 'other channel uses', 'other channels use')} this name: check the id`);
}

/** Loads the thumbnail off-screen and swaps it in only once it decoded, so a refresh never flickers. */
function loadThumbnail(id: string, card: Card, bucket: number): void {
  const probe = new Image();
  const src = `/api/channels/${id}/thumbnail.jpg?t=${bucket}`;
  probe.onload = () => {
    card.thumbnail.src = src;
    card.thumbnail.hidden = false;
    card.placeholder.hidden = true;
  };
  probe.onerror = () => {
    card.thumbnail.hidden = true;
    card.placeholder.hidden = false;
  };
  probe.src = src;
}

function initials(name: string): string {
  const firsts = name
    .trim()
    .split(/\s+/)
    .map((w) => [...w][0] ?? '');
  const letters = firsts.length >= 2 ? `${firsts[0]}${firsts[1]}` : [...name.trim()].slice(0, 2).join('');
  return letters.toUpperCase() || '?';
}

function showLine(el: HTMLElement, text: string | undefined): void {
  el.hidden = text === undefined;
  setText(el, text ?? '');
}

/** The category menu: "All categories" then those of the live channels, the choice kept. */
function setCategories(select: HTMLSelectElement, categories: string[]): void {
  const wanted = ['', ...categories];
  const have = Array.from(select.options, (o) => o.value);
  if (have.length === wanted.length && have.every((v, i) => v === wanted[i])) return;
  const chosen = select.value;
  select.replaceChildren(...wanted.map((c) => h('option', { value: c }, c === '' ? 'All categories' : c)));
  select.value = wanted.includes(chosen) ? chosen : '';
  select.hidden = categories.length === 0;
}
