// The programme guide as XMLTV (the DTD in Debian's xmltv-util), for IPTV apps: one <channel>
// per live channel, named by xmltvChannelId, then its programmes. Every string is escaped, and
// characters XML cannot carry (controls, invisible ones) are dropped, so no channel's text can
// break the document. No I/O: the tracker and the TV gateway both render with it.

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

/** Anything xmlText changes: most text has none, and is passed through without three replaces. */
const NEEDS_WORK = new RegExp(`${NOT_XML.source}|${HIDDEN_CHARACTERS.source}|[&<>"']`, 'u');

/** Text as XML character data or an attribute value: escaped, with what XML or a reader must not see removed. */
export function xmlText(text: string): string {
  if (!NEEDS_WORK.test(text)) return text;
  return text
    .replace(NOT_XML, '')
    .replace(HIDDEN, '')
    .replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** XMLTV's time form: YYYYMMDDhhmmss +0000 (in UTC). */
export function xmltvTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-12-07T20:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)} +0000`;
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
    if (g.programmes.some((p) => p.stopMs > nowMs)) out.push(programmesOf(c.id, g));
    else out.push(...programmeLines(c.id, g, [standIn(c, g, nowMs)]));
  }
  out.push('</tv>', '');
  return out.join('\n');
}

/**
 * Each guide's programmes as XMLTV, rendered once per guide object: escaping every title of
 * every channel on each request was most of the cost. Callers never change a guide they passed
 * (a tracker replaces a channel's guide with a new object).
 */
const rendered = new WeakMap<ChannelGuide, string>();

function programmesOf(id: string, g: ChannelGuide): string {
  if (g.channelId !== id) return programmeLines(id, g, g.programmes).join('\n');
  let text = rendered.get(g);
  if (text === undefined) {
    text = programmeLines(id, g, g.programmes).join('\n');
    rendered.set(g, text);
  }
  return text;
}

function programmeLines(id: string, g: ChannelGuide, programmes: readonly Programme[]): string[] {
  const out: string[] = [];
  const lang = g.language !== undefined ? ` lang="${xmlText(g.language)}"` : '';
  const channel = xmlText(xmltvChannelId(id));
  for (const p of programmes) {
    out.push(`  <programme start="${xmltvTime(p.startMs)}" stop="${xmltvTime(p.stopMs)}" channel="${channel}">`);
    out.push(`    <title${lang}>${xmlText(p.title)}</title>`);
    if (p.description !== undefined && p.description !== '') out.push(`    <desc${lang}>${xmlText(p.description)}</desc>`);
    const category = p.category ?? g.category;
    if (category !== undefined && category !== '') out.push(`    <category${lang}>${xmlText(category)}</category>`);
    out.push('  </programme>');
  }
  return out;
}

function standIn(c: XmltvChannel, g: ChannelGuide, nowMs: number): Programme {
  const startMs = Math.floor(nowMs / 3600_000) * 3600_000;
  return { startMs, stopMs: startMs + STAND_IN_MS, title: c.name, ...(g.description ? { description: g.description } : {}) };
}
