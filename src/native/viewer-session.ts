// One channel joined as a viewer, without any HTTP server: its lanes, the outputs players read
// (/stream.ts, HLS) and its numbers. `meshtv watch` puts one behind its local server; the TV
// gateway holds several in one process behind its own.

import type { ChannelRef } from '../api/channel-uri.js';
import type { Logger } from '../common/log.js';
import { formatBytes } from '../common/rate-meter.js';
import { newNodeKey } from '../crypto/keys.js';
import { HlsSegmenter, type HlsSegmenterConfig } from '../media/hls-segmenter.js';
import { StreamOutput } from '../media/stream-output.js';
import type { PeerCoreConfig } from '../protocol/core-types.js';
import type { RenditionSpec } from '../runtime/rendition-lanes.js';
import type { NetworkOptions } from './swarm-node.js';
import { defaultTimeshiftBytes, TimeshiftStore } from './timeshift-store.js';
import { channelLadder, type ViewerLanes, viewerLanes } from './viewer-lanes.js';
import { type PlayerOutput, playerOutput } from './viewer-output.js';
import { SILENCE_NOTICE_MS, ViewerReport } from './viewer-report.js';

export interface ViewerSessionOptions {
  ref: ChannelRef;
  host: string;
  port: number;
  announceAddress?: string;
  hls?: Partial<HlsSegmenterConfig>;
  /** 'auto' (adapt to the connection), or the name of a rendition to stay on. @default 'auto' */
  quality?: string;
  maxPeers?: number;
  core?: Partial<PeerCoreConfig>;
  network?: NetworkOptions;
  /** The stream output players read; a plain one (newest keyframe first) by default. */
  stream?: StreamOutput;
  /** Keep this much of what it plays on disk for /timeshift.m3u8 (maxBytes: the bound; default from the rate). */
  timeshift?: { windowMs: number; maxBytes?: number };
  log: Logger;
}

export interface ViewerSession {
  readonly channelId: string;
  readonly quality: string;
  readonly ladder: readonly RenditionSpec[];
  readonly output: PlayerOutput;
  readonly report: ViewerReport;
  /** The last minutes on disk, when timeshift is on. */
  readonly timeshift: TimeshiftStore | undefined;
  /** Joins the swarm: the lanes' first node starts and announces. */
  start(): Promise<void>;
  /** Leaves the swarm (players' streams are the caller's to end first). */
  stop(): Promise<void>;
}

/** Reads the channel's ladder and makes its lanes and outputs; start() joins the swarm. */
export async function prepareSession(o: ViewerSessionOptions): Promise<ViewerSession> {
  const quality = o.quality ?? 'auto';
  const ladder = await channelLadder(o.ref, quality, o.log);
  // A new node key each run: a viewer cannot be followed from channel to channel by its id.
  const { lanes, start } = viewerLanes({ ...o, ladder, quality, nodeKey: newNodeKey() });
  const output = playerOutput(lanes, o.stream ?? new StreamOutput(), new HlsSegmenter(o.hls), o.log);
  const timeshift = o.timeshift && openTimeshift(o.timeshift, o.ref.channelId, highestRate(ladder, quality), output.hls, o.log);
  const report = new ViewerReport(o.ref.channelId, quality, lanes, output, o.core?.uploadLimitBps, timeshift);
  let silenceTimer: NodeJS.Timeout | undefined;
  return {
    channelId: o.ref.channelId,
    quality,
    ladder,
    output,
    report,
    timeshift,
    start: async () => {
      await start();
      silenceTimer = watchSilence(lanes, o.log);
    },
    stop: async () => {
      clearInterval(silenceTimer);
      await lanes.stop();
      await timeshift?.close();
    },
  };
}

/** The store behind /timeshift.m3u8, recording what the segmenter cuts. */
function openTimeshift(
  t: { windowMs: number; maxBytes?: number },
  channelId: string,
  rateBps: number,
  hls: HlsSegmenter,
  log: Logger,
): TimeshiftStore {
  const store = TimeshiftStore.open({
    channelId,
    windowMs: t.windowMs,
    maxBytes: t.maxBytes ?? defaultTimeshiftBytes(t.windowMs, rateBps),
    log,
  });
  store.follow(hls);
  log.info(`timeshift: keeping the last ${t.windowMs / 1000} s, at most ${formatBytes(store.stats().maxBytes)}, in ${store.dir}`);
  return store;
}

/** The master playlist's rate: the highest rendition the viewer may play. */
export function highestRate(ladder: readonly RenditionSpec[], quality: string): number {
  return Math.max(...ladder.filter((l) => quality === 'auto' || l.name === quality).map((l) => l.bitrateBps));
}

/** Says so when the broadcaster goes quiet (and when it is back), for logs without a status line. */
function watchSilence(lanes: ViewerLanes, log: Logger): NodeJS.Timeout {
  let silent = false;
  const timer = setInterval(() => {
    const c = lanes.lane.core.getStats();
    const quiet = c.started && c.lastChunkAtMs !== undefined && Date.now() - c.lastChunkAtMs >= 2 * SILENCE_NOTICE_MS;
    if (quiet && !silent) log.warn(`no new data for ${(2 * SILENCE_NOTICE_MS) / 1000} s: the broadcaster may be gone; still waiting`);
    else if (!quiet && silent) log.info('the stream is back');
    silent = quiet;
  }, 1000);
  timer.unref();
  return timer;
}
