/// <reference lib="dom" />
// The embed page, /embed/<channel id>: the player alone, for an <iframe> on another site, with
// the channel's name (a link to the full watch page), a "sharing" mark while it relays, the
// quality menu, and the watch page's notices and not-live card. It stores nothing: no setting
// can be changed here, and another site must learn nothing from this page's storage.

import type { BrowserViewer } from '../runtime.js';
import { type ChannelState, channelStateOf } from './channel-state.js';
import { byId, setText } from './dom.js';
import { formatBitrate } from './format.js';
import type { PageStats } from './playback-notice.js';
import { startPlayerPage } from './player-page.js';
import { type ConnectionHints, connectionHints, type SharingSettings, uploadDefault } from './sharing.js';

export interface EmbedPageOptions {
  channelId: string;
  startViewer: (settings: SharingSettings) => Promise<BrowserViewer>;
}

/**
 * Whether the embedded player relays: as the watch page does for a viewer who never chose (off on
 * mobile data, on phones, with data saving), and never when the embedding site adds `?share=0`.
 * The watch page's saved choice is not read: in a third-party frame browsers partition storage
 * anyway, and the page must behave the same on every site.
 */
export function embedSharing(search: URLSearchParams, hints: ConnectionHints): SharingSettings {
  if (search.get('share') === '0')
    return { uploadEnabled: false, uploadLimitBps: undefined, offByDefault: 'The site showing this player turned sharing off.' };
  const d = uploadDefault(hints);
  return { uploadEnabled: d.enabled, uploadLimitBps: undefined, offByDefault: d.why };
}

/** Builds the page; returns the stats accessor (exposed read-only as window.meshtv). */
export function startEmbedPage(o: EmbedPageOptions): { stats(): PageStats } {
  const title = byId<HTMLAnchorElement>('channel-name');
  title.href = `/watch/${o.channelId}`;
  title.title = 'Open the full page: stats, sharing settings and the channel list';
  const settings = embedSharing(new URLSearchParams(location.search), connectionHints());
  const sharing = byId('embed-sharing');
  sharing.hidden = !settings.uploadEnabled;
  sharing.title = 'This player relays the stream to other viewers, as the full page does.';
  return startPlayerPage({
    channelId: o.channelId,
    startViewer: o.startViewer,
    settings,
    joined: bindQuality,
    channelState: () => refreshChannel(o.channelId, title),
  });
}

/** The quality menu in the overlay, for channels with a ladder. */
function bindQuality(v: BrowserViewer): void {
  if (v.renditions.length < 2) return;
  const select = byId<HTMLSelectElement>('quality');
  const option = (value: string, label: string) => {
    const opt = document.createElement('option');
    opt.value = value;
    opt.textContent = label;
    select.append(opt);
  };
  option('auto', 'Auto');
  for (const r of [...v.renditions].reverse()) option(r.name, `${r.name} (${formatBitrate(r.bitrateBps)})`);
  select.value = 'auto';
  select.addEventListener('change', () => v.setQuality(select.value));
  select.hidden = false;
}

/** The channel's name from the tracker, and whether it is live; undefined when the tracker did not say. */
async function refreshChannel(channelId: string, title: HTMLAnchorElement): Promise<ChannelState | undefined> {
  try {
    const res = await fetch(`/api/channels/${channelId}`, { cache: 'no-store' });
    const body = (await res.json().catch(() => undefined)) as { name?: unknown } | undefined;
    if (res.ok && typeof body?.name === 'string') {
      setText(title, body.name);
      document.title = `${body.name} — meshtv`;
    }
    return channelStateOf(res.status, body);
  } catch {
    // the name is decoration: playback does not depend on it
    return undefined;
  }
}
