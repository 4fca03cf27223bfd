// The gateway's M3U playlist, in the extended form IPTV apps read (VLC, Kodi's IPTV Simple
// client, TiviMate): one #EXTINF line per channel with its guide id, name, logo, number and
// group, then its stream URL. Names come from broadcasters, so nothing in them may end a
// quoted attribute, the title after the comma, or the line.

import { xmltvChannelId } from '../api/xmltv.js';
import { HIDDEN_CHARACTERS } from '../common/text.js';

export interface PlaylistChannel {
  id: string;
  name: string;
  number: number;
  /** The broadcaster's category (from the programme guide); absent: the default group. */
  category?: string;
}

/** The group of channels whose broadcaster named no category. */
export const DEFAULT_GROUP = 'meshtv';
/** Longest name written: IPTV apps show a line of it, and a huge one only bloats the list. */
const MAX_TEXT_CHARS = 120;

/**
 * A name as one attribute value or title: control and format characters become spaces (a
 * newline would start a line of its own), quotes become typographic ones (a `"` would end the
 * attribute; apps do not agree on any escape), commas become U+201A (the first comma of an
 * #EXTINF line ends its attributes in some apps), and runs of spaces fold into one.
 */
export function playlistText(text: string): string {
  const hidden = new RegExp(HIDDEN_CHARACTERS.source, 'gu');
  const cleaned = text.replace(hidden, ' ').replace(/"/g, '\u201d').replace(/,/g, '\u201a').replace(/\s+/g, ' ').trim();
  const chars = [...cleaned];
  return chars.length > MAX_TEXT_CHARS ? `${chars.slice(0, MAX_TEXT_CHARS - 1).join('')}\u2026` : cleaned;
}

/** The whole playlist; `base` is the gateway's URL as the client reached it (no trailing slash). */
export function renderPlaylist(base: string, channels: readonly PlaylistChannel[]): string {
  const lines = [`#EXTM3U x-tvg-url="${base}/epg.xml"`];
  for (const c of [...channels].sort((a, b) => a.number - b.number)) {
    const name = playlistText(c.name) || c.id.slice(0, 12);
    const group = playlistText(c.category ?? '') || DEFAULT_GROUP;
    lines.push(
      `#EXTINF:-1 tvg-id="${xmltvChannelId(c.id)}" tvg-name="${name}" tvg-logo="${base}/logo/${c.id}.jpg" tvg-chno="${c.number}" group-title="${group}",${name}`,
      `${base}/channel/${c.id}.ts`,
    );
  }
  return `${lines.join('\n')}\n`;
}
