/// <reference lib="dom" />
// The player page, /watch/<channel id>: the video (MsePlayer fed by a BrowserViewer), the
// channel's name and audience from the directory, a stats panel with a one-minute chart, and
// the viewer's sharing settings (sharing.ts). A channel that is not live, or a browser that cannot
// play, gets a card in place of the player that says so (channel-state.ts).

import type { ChannelSummary } from '../../api/tracker-api.js';
import type { BrowserViewer, BrowserViewerStats } from '../runtime.js';
import { fetchChannels } from './channel-grid.js';
import { type ChannelState, fetchChannelState } from './channel-state.js';
import { byId, setText } from './dom.js';
import { formatBitrate, formatBytes, formatCount, formatPercent, formatSeconds } from './format.js';
import { programmeLine } from './guide-format.js';
import type { PageStats } from './playback-notice.js';
import { startPlayerPage } from './player-page.js';
import { bindSettings, loadSharingSettings, type SharingSettings } from './sharing.js';
import { StatsChart } from './stats-chart.js';

export interface WatchPageOptions {
  channelId: string;
  /** Starts the chunk source with the viewer's sharing settings. */
  startViewer: (settings: SharingSettings) => Promise<BrowserViewer>;
  /** Shown above the video (e.g. that the page plays an unverified test feed). */
  banner?: string;
}

/** The quality menu: Auto (the viewer adapts) or one rendition, for channels with a ladder. */
function bindQuality(v: BrowserViewer): void {
  if (v.renditions.length < 2) return;
  const select = byId<HTMLSelectElement>('quality');
  const option = (value: string, label: string) => {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = label;
    select.append(o);
  };
  option('auto', 'Auto');
  for (const r of [...v.renditions].reverse()) option(r.name, `${r.name} (${formatBitrate(r.bitrateBps)})`);
  select.value = 'auto';
  select.addEventListener('change', () => v.setQuality(select.value));
  byId('quality-row').hidden = false;
}

/** Builds the page; returns the stats accessor (also exposed read-only as window.meshtv). */
export function startWatchPage(o: WatchPageOptions): { stats(): PageStats } {
  if (o.banner !== undefined) {
    const banner = byId('banner');
    banner.hidden = false;
    setText(banner, o.banner);
  }
  setText(byId('channel-id'), o.channelId);
  const settings = loadSharingSettings();
  return startPlayerPage({
    channelId: o.channelId,
    startViewer: o.startViewer,
    settings,
    joined: (v) => {
      bindSettings(v, settings);
      bindQuality(v);
    },
    channelState: async () => {
      const state = await refreshChannel(o.channelId);
      // Only the directory's word makes a channel live; playing alone could be a test feed.
      if (state !== undefined) byId('live-badge').hidden = state !== 'live';
      return state;
    },
    showStats: statsPanel(),
  });
}

/** The stats panel and its chart; returns the function that shows one second's figures. */
function statsPanel(): (s: PageStats) => void {
  const chart = new StatsChart(byId<HTMLCanvasElement>('chart'));
  const fields = {
    peers: byId('s-peers'),
    share: byId('s-share'),
    lag: byId('s-lag'),
    buffer: byId('s-buffer'),
    down: byId('s-down'),
    up: byId('s-up'),
    uploaded: byId('s-uploaded'),
    stalls: byId('s-stalls'),
  };
  return (s) => {
    const p = s.player;
    // The lag on screen: capture -> this frame shown. Before the first frame, the hand-over lag.
    const lagMs = p.lagMs ?? s.lagMs;
    setText(fields.peers, describePeers(s));
    setText(fields.share, s.mediaBytesIn === 0 ? '–' : formatPercent(s.shareFromPeers));
    setText(fields.lag, formatSeconds(lagMs));
    setText(fields.buffer, formatSeconds(p.bufferAheadS * 1000));
    setText(fields.down, formatBitrate(s.downloadBps));
    setText(fields.up, formatBitrate(s.uploadBps));
    setText(fields.uploaded, formatBytes(s.mediaBytesOut));
    setText(fields.stalls, p.stalls === 0 ? '0' : `${p.stalls} (longest ${formatSeconds(p.longestStallMs)})`);
    if (s.rendition !== undefined) {
      const how = s.switchingTo !== undefined ? `→ ${s.switchingTo}` : s.quality === 'auto' ? `auto: ${s.rendition}` : '';
      setText(byId('s-quality'), how);
      // A chosen rendition that could not be reached falls back to Auto: the menu says so.
      const select = byId<HTMLSelectElement>('quality');
      if (document.activeElement !== select && select.value !== s.quality) select.value = s.quality;
    }
    chart.push({ downloadBps: s.downloadBps, uploadBps: s.uploadBps, lagMs });
  };
}

/**
 * The channel's name, audience and look-alike warning from the directory, and whether it is live;
 * undefined when the tracker could not be asked or did not say.
 */
async function refreshChannel(channelId: string): Promise<ChannelState | undefined> {
  try {
    const channel = (await fetchChannels()).find((c) => c.id === channelId);
    const name = byId('channel-name');
    const audience = byId('channel-audience');
    if (channel === undefined) {
      setText(audience, 'not in the directory');
      // The listing is cached for a moment: the channel's own entry says why it is missing.
      return await fetchChannelState(channelId);
    }
    setText(name, channel.name);
    document.title = `${channel.name} — meshtv`;
    setText(audience, `${formatCount(channel.viewers, 'viewer', 'viewers')} · ${formatBitrate(channel.bitrateBps)}`);
    showGuide(channel);
    const warning = byId('channel-warning');
    warning.hidden = channel.sameNameCount === 0;
    if (channel.sameNameCount > 0) {
      setText(
        warning,
        `⚠ ${formatCount(channel.sameNameCount, 'other channel uses', 'other channels use')} a name that looks like this one. This one's id is above.`,
      );
    }
    return 'live';
  } catch {
    // the directory is decoration here: playback does not depend on it
    return undefined;
  }
}

/** The channel's description (with its category) and the programmes on now and next, from its guide. */
function showGuide(c: ChannelSummary): void {
  const about = [c.category, c.description].filter((s) => s !== undefined && s !== '').join(' · ');
  const lines: [string, string | undefined][] = [
    ['channel-description', about === '' ? undefined : about],
    ['programme-now', programmeLine('now', c.now)],
    ['programme-next', programmeLine('next', c.next)],
  ];
  for (const [id, text] of lines) {
    const el = byId(id);
    el.hidden = text === undefined;
    setText(el, text ?? '');
  }
  byId('channel-guide').hidden = lines.every(([, text]) => text === undefined);
}

/** "3 (2 direct, 1 relayed)", and how many could not be reached at all. */
export function describePeers(s: Pick<BrowserViewerStats, 'peers' | 'paths' | 'failedConnections'>): string {
  const kinds = (['direct', 'reflexive', 'relayed'] as const).filter((k) => s.paths[k] > 0).map((k) => `${s.paths[k]} ${k}`);
  const unreachable = s.failedConnections > 0 ? `; ${s.failedConnections} unreachable` : '';
  return `${s.peers}${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}${unreachable}`;
}
