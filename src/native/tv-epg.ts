// The gateway's /epg.xml: an XMLTV document naming the playlist's channels (ids as in the
// playlist's tvg-id, names, numbers, logos), so IPTV apps match guide and playlist. It carries
// no programmes: the broadcasters' schedules come with the programme guide's XMLTV renderer.

import type { LineupChannel } from './tv-directory.js';

/** Text as XML character data or an attribute value: markup escaped, characters XML 1.0 forbids dropped. */
export function xmlText(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/[\ud800-\udfff]/g, (c, i: number, all: string) => (isPaired(all, i) ? c : ''))
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

function isPaired(s: string, i: number): boolean {
  const code = s.charCodeAt(i);
  if (code <= 0xdbff) return (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
  return (s.charCodeAt(i - 1) & 0xfc00) === 0xd800;
}

export function renderEpg(base: string, channels: readonly LineupChannel[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE tv SYSTEM "xmltv.dtd">', '<tv generator-info-name="meshtv">'];
  for (const c of channels) {
    lines.push(
      `  <channel id="${c.id}">`,
      `    <display-name>${xmlText(c.name)}</display-name>`,
      `    <display-name>${c.number}</display-name>`,
      `    <icon src="${xmlText(`${base}/logo/${c.id}.jpg`)}" />`,
      '  </channel>',
    );
  }
  lines.push('</tv>');
  return `${lines.join('\n')}\n`;
}
