// The programme guide as XMLTV (the DTD in Debian's xmltv-util), for IPTV apps: one <channel>
// per live channel, named by xmltvChannelId, then its programmes. Every string is escaped, and
// characters XML cannot carry (controls, invisible ones) are dropped, so no channel's text can
// break the document. Pure: the tracker and the TV gateway both render with it.

import { HIDDEN_CHARACTERS } from '../common/text.js';
import type { ChannelGuide, Programme } from '../protocol/guide.js';

export interface XmltvChannel {
  /** The channel's 64-hex id. */
  id: string;
  name: string;
  /** An absolute URL of the channel's logo, when it has one. */
  iconUrl?: string;
  guide?: ChannelGuide;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const HIDDEN = new RegExp(HIDDEN_CHARACTERS.source, 'gu');

/** Text as XML character data or an attribute value: escaped, with what XML or a reader must not see removed. */
export function xmlText(text: string): string {
  return text
    .replace(NOT_XML, '')
    .replace(HIDDEN, '')
    .replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** XMLTV's time form: YYYYMMDDhhmmss +0000 (in UTC). */
export function xmltvTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(
    d.getUTCMinutes(),
  )}${two(d.getUTCSeconds())} +0000`;
}

/**
 * A channel's id in XMLTV (and a playlist's tvg-id): its 64-hex id with a ".meshtv" suffix,
 * because XMLTV ids are domain-like (RFC 2838) and tv_validate_file refuses others.
 */
export function xmltvChannelId(channelId: string): string {
  return `${channelId}.meshtv`;
}

/** How long the stand-in programme of a channel without a guide runs, from the start of the hour. */
const STAND_IN_MS = 24 * 3600_000;

/**
 * The guide of `channels` at `nowMs`. A channel with no programme from now on gets one stand-in
 * programme of its own name for the day: apps show an empty row otherwise, and XMLTV's validator
 * wants every channel to have programmes.
 */
export function renderXmltv(channels: readonly XmltvChannel[], nowMs: number): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE tv SYSTEM "xmltv.dtd">', '<tv generator-info-name="meshtv">'];
  for (const c of channels) {
    const lang = c.guide?.language !== undefined ? ` lang="${xmlText(c.guide.language)}"` : '';
    out.push(`  <channel id="${xmlText(xmltvChannelId(c.id))}">`, `    <display-name${lang}>${xmlText(c.name)}</display-name>`);
    if (c.iconUrl !== undefined) out.push(`    <icon src="${xmlText(c.iconUrl)}"/>`);
    out.push('  </channel>');
  }
  for (const c of channels) {
    const g = c.guide ?? { channelId: c.id, issuedAtMs: nowMs, programmes: [] };
    const lang = g.language !== undefined ? ` lang="${xmlText(g.language)}"` : '';
    const programmes = g.programmes.some((p) => p.stopMs > nowMs) ? g.programmes : [standIn(c, g, nowMs)];
    for (const p of programmes) {
      out.push(`  <programme start="${xmltvTime(p.startMs)}" stop="${xmltvTime(p.stopMs)}" channel="${xmlText(xmltvChannelId(c.id))}">`);
      out.push(`    <title${lang}>${xmlText(p.title)}</title>`);
      if (p.description !== undefined && p.description !== '') out.push(`    <desc${lang}>${xmlText(p.description)}</desc>`);
      const category = p.category ?? g.category;
      if (category !== undefined && category !== '') out.push(`    <category${lang}>${xmlText(category)}</category>`);
      out.push('  </programme>');
    }
  }
  out.push('</tv>', '');
  return out.join('\n');
}

function standIn(c: XmltvChannel, g: ChannelGuide, nowMs: number): Programme {
  const startMs = Math.floor(nowMs / 3600_000) * 3600_000;
  return { startMs, stopMs: startMs + STAND_IN_MS, title: c.name, ...(g.description ? { description: g.description } : {}) };
}
