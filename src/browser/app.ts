/// <reference lib="dom" />
// The WebTV page script, bundled into dist/web/app.js (scripts/build.mjs) and served by the
// tracker (src/tracker/web.ts). Renders the page named by <body data-page>: the channel grid
// ("index"), the player ("watch") or the player alone for other sites' frames ("embed"), whose
// chunks come from the swarm runtime, or, for development and tests only, from a same-origin
// HTTP feed named by `?src=`.

import { startBrowserViewer } from './runtime.js';
import { startChannelGrid } from './ui/channel-grid.js';
import { byId } from './ui/dom.js';
import { startEmbedPage } from './ui/embed-page.js';
import { startFeedViewer } from './ui/feed-viewer.js';
import type { SharingSettings } from './ui/sharing.js';
import { startWatchPage } from './ui/watch-page.js';

const CHANNEL_PATH = /^\/(?:watch|embed)\/([0-9a-f]{64})\/?$/;

function main(): void {
  const page = document.body.dataset.page;
  if (page === 'index') {
    startChannelGrid(byId('channels'), byId('status'));
    return;
  }
  if (page !== 'watch' && page !== 'embed') return;
  const match = CHANNEL_PATH.exec(location.pathname);
  if (match === null) {
    const notice = byId('notice');
    notice.hidden = false;
    notice.classList.add('error');
    notice.textContent = 'This address names no channel: a channel id is 64 hexadecimal digits.';
    return;
  }
  const channelId = match[1] as string;
  const src = feedSource();
  const startViewer = (settings: SharingSettings) =>
    src !== undefined
      ? startFeedViewer(src.href)
      : startBrowserViewer({
          channelId,
          trackerUrl: location.origin,
          uploadLimitBps: settings.uploadLimitBps,
          uploadEnabled: settings.uploadEnabled,
        });
  const watch =
    page === 'embed'
      ? startEmbedPage({ channelId, startViewer })
      : startWatchPage({
          channelId,
          banner: src === undefined ? undefined : `Test feed ${src.pathname}: not from the swarm, not verified.`,
          startViewer,
        });
  // Read-only figures for tests and curious viewers: window.meshtv.stats().
  Object.defineProperty(window, 'meshtv', {
    value: Object.freeze({ stats: () => watch.stats() }),
    writable: false,
    configurable: false,
    enumerable: true,
  });
}

/** `?src=`: a feed on this page's own origin only, so a link cannot make the page show foreign video. */
function feedSource(): URL | undefined {
  const raw = new URLSearchParams(location.search).get('src');
  if (raw === null || raw === '') return undefined;
  try {
    const url = new URL(raw, location.href);
    return url.origin === location.origin ? url : undefined;
  } catch {
    return undefined;
  }
}

main();
