// Composition root of `meshtv watch`: resolves the channel, joins its swarm as a viewer,
// hands played chunks to the local /stream.ts and HLS outputs, ends them when the channel
// ends, and keeps the numbers for /stats.json and the status line.

import { matchChannelName } from '../api/channel-names.js';
import { CHANNEL_ID_PATTERN, type ChannelRef, checkTrackerUrl, parseChannelUri } from '../api/channel-uri.js';
import { UserError } from '../common/errors.js';
import { forTerminal, type Logger } from '../common/log.js';
import { Teardown } from '../common/teardown.js';
import { type HlsSegmenter, type HlsSegmenterConfig, masterPlaylist } from '../media/hls-segmenter.js';
import type { PeerCoreConfig } from '../protocol/core-types.js';
import { type HttpOutput, startHttpOutput } from './http-output.js';
import type { NetworkOptions } from './swarm-node.js';
import { timeshiftRoutes } from './timeshift-routes.js';
import { listChannels } from './tracker-client.js';
import { statusLine } from './viewer-report.js';
import { highestRate, prepareSession } from './viewer-session.js';

export interface ViewerOptions {
  /** meshtv:// URI, 64-hex channel id, or a channel name known to the trackers. */
  channel: string;
  /** Trackers from flags; a URI's own trackers are added. */
  trackers: string[];
  host: string;
  port: number;
  announceAddress?: string;
  httpHost: string;
  httpPort: number;
  /** When httpPort is taken, try this many next ports, then any (for the default port). @default 0 */
  httpFallbackPorts?: number;
  hls?: Partial<HlsSegmenterConfig>;
  /** 'auto' (adapt to the connection), or the name of a rendition to stay on. @default 'auto' */
  quality?: string;
  maxPeers?: number;
  /** Keep this much of what it plays on disk for /timeshift.m3u8 (maxBytes: the bound; default from the rate). */
  timeshift?: { windowMs: number; maxBytes?: number };
  core?: Partial<PeerCoreConfig>;
  network?: NetworkOptions;
  log: Logger;
}

import type { ViewerStats } from './viewer-report.js';

export type { ViewerStats };

export interface Viewer {
  readonly channelId: string;
  readonly streamUrl: string;
  readonly playlistUrl: string;
  readonly statsUrl: string;
  /** The playlist of the whole timeshift window (absent: timeshift off). */
  readonly timeshiftUrl: string | undefined;
  /** Resolves when the channel's last chunk has been played (the broadcaster's input ended). */
  readonly ended: Promise<void>;
  /**
   * After the end: resolves once players have fetched what they still need and neighbours had
   * a moment to fetch the last chunks from us, or after maxMs.
   */
  drain(maxMs?: number): Promise<void>;
  stats(): ViewerStats;
  statusLine(): string;
  stop(): Promise<void>;
}

/** After the end, stay at least this long so neighbours can still fetch the last chunks from us. */
const DRAIN_MIN_MS = 2000;
const DRAIN_MAX_MS = 30_000;

export async function resolveChannel(channel: string, flagTrackers: string[]): Promise<ChannelRef> {
  if (channel.startsWith('meshtv://')) {
    const ref = parseChannelUri(channel);
    const trackers = [...new Set([...ref.trackers, ...flagTrackers])];
    if (trackers.length === 0) throw new UserError('no tracker: the URI names none; pass --tracker URL');
    return { channelId: ref.channelId, trackers };
  }
  const trackers = flagTrackers.map(checkTrackerUrl);
  const lower = channel.toLowerCase();
  const lists = await Promise.all(trackers.map((t) => listChannels(t)));
  const live = lists.flat();
  if (CHANNEL_ID_PATTERN.test(lower)) {
    if (!live.some((c) => c.id === lower))
      throw new UserError(`channel ${lower} is not live on ${trackers.join(', ')}; check the id with: meshtv channels`);
    return { channelId: lower, trackers };
  }
  const match = matchChannelName(channel, live);
  if (match.kind === 'none')
    throw new UserError(`no live channel named "${channel}" on ${trackers.join(', ')}; list them with: meshtv channels`);
  if (match.kind === 'several') {
    const which = match.channels.map((c) => `${c.id} "${forTerminal(c.name, true)}"`).join(', ');
    throw new UserError(`several channels fit "${channel}": ${which}; watch one by its id`);
  }
  return { channelId: match.id, trackers };
}

export async function startViewer(o: ViewerOptions): Promise<Viewer> {
  const ref = await resolveChannel(o.channel, o.trackers);
  const session = await prepareSession({ ...o, ref });
  const { output, report, ladder, quality, timeshift } = session;
  const teardown = new Teardown((err) => o.log.warn(`while stopping after a failed start: ${(err as Error).message}`));
  // Undone last: the nodes are made before the HTTP output, and leave after it.
  teardown.defer(() => session.stop());
  return teardown.start(async () => {
    const http = await startHttpOutput({
      host: o.httpHost,
      port: o.httpPort,
      fallbackPorts: o.httpFallbackPorts ?? 0,
      metrics: report.metrics().render,
      stream: output.stream,
      hls: output.hls,
      ...(ladder.length > 1 ? { master: masterPlaylist(highestRate(ladder, quality), 'media.m3u8') } : {}),
      stats: () => report.stats(),
      ...(timeshift !== undefined ? { timeshift: timeshiftRoutes(timeshift) } : {}),
    });
    teardown.defer(() => http.close());
    // Players see the stream end before their connections close.
    teardown.defer(() => output.stream.end());
    await session.start();
    return {
      channelId: ref.channelId,
      streamUrl: `${http.baseUrl}/stream.ts`,
      playlistUrl: `${http.baseUrl}/live.m3u8`,
      statsUrl: `${http.baseUrl}/stats.json`,
      timeshiftUrl: timeshift && `${http.baseUrl}/timeshift.m3u8`,
      ended: output.ended,
      drain: (maxMs = DRAIN_MAX_MS) => drain(http, output.hls, maxMs),
      stats: () => report.stats(),
      statusLine: () => statusLine(report.stats(), report.uploadNote()),
      stop: () => teardown.undo(),
    };
  });
}

/** Waits until players have what they need (or maxMs), staying at least DRAIN_MIN_MS for neighbours. */
async function drain(http: HttpOutput, hls: HlsSegmenter, maxMs: number): Promise<void> {
  const startedAt = Date.now();
  for (;;) {
    const now = Date.now();
    const { streamClients, lastHlsRequestAtMs } = http.activity();
    // An HLS player polls at least once per target duration while it still needs segments.
    const hlsIdleMs = Math.max(3000, hls.targetDurationS * 1500);
    const quiet = streamClients === 0 && (lastHlsRequestAtMs === undefined || now - lastHlsRequestAtMs > hlsIdleMs);
    if ((quiet && now - startedAt >= DRAIN_MIN_MS) || now - startedAt >= maxMs) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
