/// <reference lib="dom" />
// What the watch page and the embed page share: the player fed by a BrowserViewer started with
// the page's sharing settings, the notice over the video, the not-live card from the directory's
// word on the channel, and the timers that keep them current until the page goes away.

import { mediaSourceFlavour } from '../mse-sink.js';
import { MsePlayer } from '../player.js';
import type { BrowserViewer } from '../runtime.js';
import { type ChannelState, channelBlocker, noMediaSourceBlocker, showBlocker } from './channel-state.js';
import { byId, setText } from './dom.js';
import { EMPTY_VIEWER_STATS, type PageStats, playbackNotice } from './playback-notice.js';
import type { SharingSettings } from './sharing.js';

const STATS_MS = 1_000;
const CHANNEL_REFRESH_MS = 5_000;

export interface PlayerPageOptions {
  channelId: string;
  startViewer: (settings: SharingSettings) => Promise<BrowserViewer>;
  settings: SharingSettings;
  /** The viewer has joined: bind the page's controls to it. */
  joined: (viewer: BrowserViewer) => void;
  /** The directory's word on the channel (undefined: no answer, keep the last). */
  channelState: () => Promise<ChannelState | undefined>;
  /** Each second's figures, for a stats panel. */
  showStats?: (s: PageStats) => void;
}

/** The notice over the video (text undefined: hidden). */
export function showNotice(text: string | undefined, kind: 'info' | 'error' = 'info'): void {
  const notice = byId('notice');
  notice.hidden = text === undefined;
  notice.classList.toggle('error', kind === 'error');
  if (text !== undefined) setText(notice, text);
}

/** Starts the player and its viewer; returns the stats accessor (exposed read-only as window.meshtv). */
export function startPlayerPage(o: PlayerPageOptions): { stats(): PageStats } {
  const player = new MsePlayer(byId('player'));
  let viewer: BrowserViewer | undefined;
  const stats = (): PageStats => ({ ...(viewer?.stats() ?? EMPTY_VIEWER_STATS), player: player.stats() });
  // Without any Media Source nothing can play here: say how to watch elsewhere, and neither join
  // the swarm nor poll (the player has failed at once, quietly).
  if (mediaSourceFlavour() === undefined) {
    showBlocker(noMediaSourceBlocker(o.channelId, location.origin));
    return { stats };
  }
  showNotice('Joining the channel…');
  o.startViewer(o.settings).then(
    (v) => {
      viewer = v;
      v.onPlay((chunk) => player.append(chunk));
      v.onSkip((seq) => player.skip(seq));
      v.onSwitch(() => player.renditionSwitched());
      o.joined(v);
    },
    (err: unknown) => showNotice(`Could not join the channel: ${(err as Error).message}`, 'error'),
  );

  let channelState: ChannelState | undefined;
  const refresh = () =>
    void o.channelState().then((state) => {
      channelState = state ?? channelState;
    });
  const statsTimer = setInterval(() => {
    const s = stats();
    o.showStats?.(s);
    const blocker = channelBlocker(channelState, s.player.playing);
    showBlocker(blocker);
    const next = blocker !== undefined ? { text: undefined, kind: 'info' as const } : playbackNotice(s, viewer !== undefined);
    if (next !== undefined) showNotice(next.text, next.kind);
  }, STATS_MS);
  refresh();
  const channelTimer = setInterval(refresh, CHANNEL_REFRESH_MS);

  window.addEventListener('pagehide', () => {
    clearInterval(statsTimer);
    clearInterval(channelTimer);
    void viewer?.stop();
    player.destroy();
  });
  return { stats };
}
