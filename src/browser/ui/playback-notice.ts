/// <reference lib="dom" />
// What a player page knows each second (the viewer's figures and the player's), and what the
// notice over the video says about them: pure, so tests check it without a browser.

import { notLiveMessage } from '../../runtime/not-live.js';
import type { MsePlayerStats } from '../player-config.js';
import type { BrowserViewerStats } from '../runtime.js';

export type PageStats = BrowserViewerStats & { player: MsePlayerStats };

/** What the page shows before its viewer starts (and what tests start from). */
export const EMPTY_VIEWER_STATS: BrowserViewerStats = {
  peers: 0,
  paths: { direct: 0, reflexive: 0, relayed: 0 },
  failedConnections: 0,
  shareFromPeers: 0,
  lagMs: undefined,
  bufferMs: 0,
  downloadBps: 0,
  uploadBps: 0,
  mediaBytesIn: 0,
  mediaBytesOut: 0,
  mediaBytesFromOrigin: 0,
  origin: 'unused',
  webrtc: true,
  chunksPlayed: 0,
  chunksSkipped: 0,
  continuity: 1,
  notLiveAgeMs: undefined,
  rendition: undefined,
  quality: 'auto',
  switchingTo: undefined,
  switches: { up: 0, down: 0 },
};

/**
 * What the notice over the video says now (text undefined: hidden); undefined to leave it as it
 * is, which is the case until the viewer has joined (the join's own notice stays).
 */
export function playbackNotice(s: PageStats, joined: boolean): { text: string | undefined; kind: 'info' | 'error' } | undefined {
  const p = s.player;
  if (p.failed) return { text: `Playback stopped: ${p.error ?? 'unknown error'}`, kind: 'error' };
  if (p.ended) return { text: 'The broadcast has ended.', kind: 'info' };
  if (!joined) return undefined;
  if (p.startupMs === undefined && s.notLiveAgeMs !== undefined && s.chunksPlayed === 0) {
    const m = notLiveMessage(s.notLiveAgeMs);
    return { text: `${m.charAt(0).toUpperCase()}${m.slice(1)}.`, kind: 'info' };
  }
  const peerless = s.peers === 0 && s.chunksPlayed === 0;
  if (p.startupMs === undefined && peerless && s.origin === 'full')
    return { text: 'The broadcaster is full: waiting for peers…', kind: 'info' };
  if (p.startupMs === undefined && peerless && s.origin === 'unreachable')
    return { text: "No peers reachable, and the broadcaster's origin does not answer: still trying…", kind: 'info' };
  if (p.startupMs === undefined)
    return { text: s.chunksPlayed > 0 ? 'Starting playback…' : s.peers > 0 ? 'Buffering…' : 'Looking for peers…', kind: 'info' };
  if (!p.playing && p.bufferAheadS === 0) return { text: 'Waiting for the stream…', kind: 'info' };
  // Said while it lasts: the viewer should know the swarm is not carrying this tab.
  if (s.origin === 'streaming' && s.peers === 0)
    return { text: `Playing from the broadcaster: no peers reachable${s.webrtc ? '' : ' (this browser has no WebRTC)'}`, kind: 'info' };
  return { text: undefined, kind: 'info' };
}
