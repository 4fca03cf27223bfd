// Channel URIs: meshtv://<channel-id>?tracker=<url>[&tracker=<url>...] (docs/architecture.md, "Identifiers").
// The channel id is the lowercase hex of the channel's Ed25519 public key.

import { UserError } from '../common/errors.js';

export interface ChannelRef {
  channelId: string;
  trackers: string[];
}

export const CHANNEL_ID_PATTERN = /^[0-9a-f]{64}$/;

export function formatChannelUri(channelId: string, trackers: readonly string[]): string {
  const query = trackers.map((t) => `tracker=${encodeURIComponent(t)}`).join('&');
  return `meshtv://${channelId}${query ? `?${query}` : ''}`;
}

/** Parses a meshtv:// URI; throws a UserError that says what is wrong. */
export function parseChannelUri(text: string): ChannelRef {
  if (!text.startsWith('meshtv://')) throw new UserError(`not a meshtv:// URI: ${text}`);
  const rest = text.slice('meshtv://'.length);
  const q = rest.indexOf('?');
  const id = (q < 0 ? rest : rest.slice(0, q)).replace(/\/$/, '').toLowerCase();
  if (!CHANNEL_ID_PATTERN.test(id)) throw new UserError(`channel id in ${text} must be 64 hex digits`);
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  const trackers = params.getAll('tracker').map((t) => checkTrackerUrl(t));
  return { channelId: id, trackers };
}

export function checkTrackerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(`tracker URL ${JSON.stringify(text)} is not a valid URL (expected e.g. http://127.0.0.1:8000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UserError(`tracker URL ${text} must start with http:// or https://`);
  return url.origin;
}

/** The web page where a browser watches the channel, on a tracker. */
export function watchPageUrl(trackerUrl: string, channelId: string): string {
  // Under the tracker's own path, if it has one (a tracker behind a proxy at /meshtv).
  return `${trackerUrl.replace(/\/+$/, '')}/watch/${channelId}`;
}
