// The programme guide on the WebTV pages: now/next lines and the grid's filter (a category and
// words to find in a channel's name, description, category or programme titles). Pure functions.

import type { ChannelSummary, ProgrammeSummary } from '../../api/tracker-api.js';

/** "20:00" in the viewer's own time zone. */
function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** "Now: Evening news (20:00–21:00)" or "Next 21:00: Late film"; undefined without that programme. */
export function programmeLine(which: 'now' | 'next', p: ProgrammeSummary | undefined): string | undefined {
  if (p === undefined) return undefined;
  return which === 'now' ? `Now: ${p.title} (${clock(p.start)}–${clock(p.stop)})` : `Next ${clock(p.start)}: ${p.title}`;
}

/** The categories of `channels`, each once (first spelling kept), sorted. */
export function categoriesOf(channels: readonly ChannelSummary[]): string[] {
  const seen = new Map<string, string>();
  for (const c of channels)
    if (c.category !== undefined && c.category !== '') seen.set(c.category.toLowerCase(), seen.get(c.category.toLowerCase()) ?? c.category);
  return [...seen.values()].sort((a, b) => a.localeCompare(b));
}

/** Whether a channel is in `category` ('' for any) and holds every word of `query`, ignoring case and accents. */
export function matchesFilter(c: ChannelSummary, category: string, query: string): boolean {
  if (category !== '' && (c.category ?? '').toLowerCase() !== category.toLowerCase()) return false;
  const words = fold(query)
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.length === 0) return true;
  const text = fold([c.name, c.description, c.category, c.now?.title, c.next?.title].filter((s) => s !== undefined).join('\n'));
  return words.every((w) => text.includes(w));
}

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}
