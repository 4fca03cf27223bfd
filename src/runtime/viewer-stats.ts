// The numbers a viewer shows, native (/stats.json, the status line) or in a browser (the watch
// page): computed once here from its rendition lanes, so both say the same thing.

import { RateMeter } from '../common/rate-meter.js';
import type { AbrTotals } from '../protocol/abr-session.js';
import type { RenditionLane, RenditionLanes } from './rendition-lanes.js';

/**
 * Share of received media bytes that came from other viewers: not from the broadcaster over
 * the swarm, nor from its HTTP origin.
 */
export function shareFromPeers(t: Pick<AbrTotals, 'mediaBytesIn' | 'mediaBytesInFromSource'>, originBytes = 0): number {
  return t.mediaBytesIn === 0 ? 0 : (t.mediaBytesIn - t.mediaBytesInFromSource - originBytes) / t.mediaBytesIn;
}

/** Media time played on time over media time due since playback started (1 before anything was due). */
export function continuity(t: Pick<AbrTotals, 'mediaMsPlayed' | 'mediaMsMissed'>): number {
  const dueMs = t.mediaMsPlayed + t.mediaMsMissed;
  return dueMs === 0 ? 1 : t.mediaMsPlayed / dueMs;
}

/** What native and browser viewers both report. */
export interface PlaybackStats {
  peers: number;
  lagMs: number | undefined;
  bufferMs: number;
  downloadBps: number;
  uploadBps: number;
  mediaBytesIn: number;
  mediaBytesOut: number;
  shareFromPeers: number;
  chunksPlayed: number;
  chunksSkipped: number;
  continuity: number;
  /** The rendition playing (absent: the channel has no ladder). */
  rendition: string | undefined;
  /** The rendition being tried or switched to. */
  switchingTo: string | undefined;
  switches: { up: number; down: number };
}

/** Download and upload rates over a sliding window, from the running totals. */
export class ViewerRates {
  private readonly down = new RateMeter();
  private readonly up = new RateMeter();

  /** Everything received counts as download, duplicates included: they used the line too. */
  sample(
    nowMs: number,
    t: Pick<AbrTotals, 'mediaBytesIn' | 'duplicateBytes' | 'mediaBytesOut'>,
  ): { downloadBps: number; uploadBps: number } {
    return {
      downloadBps: Math.round(this.down.sample(nowMs, t.mediaBytesIn + t.duplicateBytes)),
      uploadBps: Math.round(this.up.sample(nowMs, t.mediaBytesOut)),
    };
  }
}

/**
 * The playback numbers of a viewer's lanes at `nowMs`: counts over every lane, live state from
 * the one playing. `originBytes`: media fetched from the broadcaster's HTTP origin.
 */
export function playbackStats(
  lanes: RenditionLanes<RenditionLane, Record<string, number>>,
  rates: ViewerRates,
  nowMs: number,
  originBytes = 0,
): PlaybackStats {
  const t = lanes.totals();
  const core = lanes.lane.core;
  const current = core.getStats();
  return {
    peers: current.neighbours,
    lagMs: current.lastLagMs === undefined ? undefined : Math.round(current.lastLagMs),
    bufferMs: Math.round(core.playoutSlackMs(nowMs)),
    ...rates.sample(nowMs, t),
    mediaBytesIn: t.mediaBytesIn,
    mediaBytesOut: t.mediaBytesOut,
    shareFromPeers: shareFromPeers(t, originBytes),
    chunksPlayed: t.chunksPlayed,
    chunksSkipped: t.chunksSkipped,
    continuity: continuity(t),
    rendition: lanes.ladder.length > 1 ? lanes.current.name : undefined,
    switchingTo: lanes.target?.name,
    switches: lanes.switches,
  };
}
