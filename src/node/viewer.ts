// Composition root of `meshtv watch`: resolves the channel, joins its swarm as a viewer,
// hands played chunks to the local /stream.ts and keeps the numbers for /stats.json and the
// status line.

import { StreamOutput } from '../media/stream-output.js';
import { hexToBytes } from '../protocol/hex.js';
import type { PeerCoreConfig } from '../protocol/peer-core.js';
import { CHANNEL_ID_PATTERN, type ChannelRef, checkTrackerUrl, parseChannelUri } from './channel-uri.js';
import { UserError } from './errors.js';
import { type HttpOutput, startHttpOutput } from './http-output.js';
import type { Logger } from './log.js';
import { formatBps, formatBytes, RateMeter } from './rate-meter.js';
import { SwarmNode } from './swarm-node.js';
import { listChannels } from './tracker-client.js';

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
  maxPeers?: number;
  core?: Partial<PeerCoreConfig>;
  log: Logger;
}

export interface ViewerStats {
  role: 'viewer';
  channelId: string;
  peers: number;
  started: boolean;
  startupMs: number | undefined;
  lagMs: number | undefined;
  bufferMs: number;
  downloadBps: number;
  uploadBps: number;
  mediaBytesIn: number;
  mediaBytesInFromSource: number;
  mediaBytesOut: number;
  /** Share of received media bytes that came from other viewers (not the source). */
  shareFromPeers: number;
  controlBytes: number;
  duplicateBytes: number;
  chunksPlayed: number;
  chunksLate: number;
  chunksSkipped: number;
  /** Media time played on time / media time due since playback started. */
  continuity: number;
  playerClients: number;
  neighbours: ReturnType<SwarmNode['linkStats']>;
}

export interface Viewer {
  readonly channelId: string;
  readonly streamUrl: string;
  readonly statsUrl: string;
  stats(): ViewerStats;
  statusLine(): string;
  stop(): Promise<void>;
}

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
  const matches = [...new Set(live.filter((c) => c.name.toLowerCase() === lower).map((c) => c.id))];
  if (matches.length === 0)
    throw new UserError(`no live channel named "${channel}" on ${trackers.join(', ')}; list them with: meshtv channels`);
  if (matches.length > 1) throw new UserError(`several channels are named "${channel}": ${matches.join(', ')}; watch one by its id`);
  return { channelId: matches[0] as string, trackers };
}

export async function startViewer(o: ViewerOptions): Promise<Viewer> {
  const ref = await resolveChannel(o.channel, o.trackers);
  const stream = new StreamOutput();
  const node = new SwarmNode({
    role: 'viewer',
    channelKey: hexToBytes(ref.channelId),
    host: o.host,
    port: o.port,
    ...(o.announceAddress ? { announceAddress: o.announceAddress } : {}),
    trackers: ref.trackers,
    core: { ...o.core, ...(o.maxPeers !== undefined ? { maxNeighbours: o.maxPeers } : {}) },
    log: o.log.child('swarm'),
  });
  const joinedAt = Date.now();
  let startupMs: number | undefined;
  node.onEvent((e) => {
    if (e.type !== 'play') return;
    startupMs ??= Date.now() - joinedAt;
    stream.play(e.chunk);
  });
  const downMeter = new RateMeter();
  const upMeter = new RateMeter();
  const stats = (): ViewerStats => {
    const s = node.core.getStats();
    const now = Date.now();
    const dueMs = s.mediaMsPlayed + s.mediaMsMissed;
    return {
      role: 'viewer',
      channelId: ref.channelId,
      peers: s.neighbours,
      started: s.started,
      startupMs,
      lagMs: s.lastLagMs === undefined ? undefined : Math.round(s.lastLagMs),
      bufferMs: Math.round(node.core.playoutSlackMs(now)),
      downloadBps: Math.round(downMeter.sample(now, s.mediaBytesIn + s.duplicateBytes)),
      uploadBps: Math.round(upMeter.sample(now, s.mediaBytesOut)),
      mediaBytesIn: s.mediaBytesIn,
      mediaBytesInFromSource: s.mediaBytesInFromSource,
      mediaBytesOut: s.mediaBytesOut,
      shareFromPeers: s.mediaBytesIn === 0 ? 0 : 1 - s.mediaBytesInFromSource / s.mediaBytesIn,
      controlBytes: node.controlBytes,
      duplicateBytes: s.duplicateBytes,
      chunksPlayed: s.chunksPlayed,
      chunksLate: s.chunksLate,
      chunksSkipped: s.chunksSkipped,
      continuity: dueMs === 0 ? 1 : s.mediaMsPlayed / dueMs,
      playerClients: stream.clientCount,
      neighbours: node.linkStats(),
    };
  };
  let http: HttpOutput | undefined;
  try {
    http = await startHttpOutput({ host: o.httpHost, port: o.httpPort, stream, stats });
    try {
      await node.start();
    } catch (err) {
      throw new UserError(`cannot listen for peers on ${o.host}:${o.port}: ${(err as Error).message}; choose another --peer-port`);
    }
    await node.announceNow();
  } catch (err) {
    await http?.close();
    await node.stop();
    throw err;
  }
  const output = http;
  return {
    channelId: ref.channelId,
    streamUrl: `${output.baseUrl}/stream.ts`,
    statsUrl: `${output.baseUrl}/stats.json`,
    stats,
    statusLine: () => {
      const s = stats();
      const lag = s.lagMs === undefined ? '-' : `${(s.lagMs / 1000).toFixed(1)} s`;
      return [
        `peers ${s.peers}`,
        `down ${formatBps(s.downloadBps)}`,
        `up ${formatBps(s.uploadBps)} (${formatBytes(s.mediaBytesOut)} total)`,
        `buffer ${(s.bufferMs / 1000).toFixed(1)} s`,
        `lag ${lag}`,
        `from peers ${(s.shareFromPeers * 100).toFixed(0)}%`,
        s.started ? `continuity ${(s.continuity * 100).toFixed(1)}%` : 'joining',
      ].join(' | ');
    },
    stop: async () => {
      stream.end();
      await output.close();
      await node.stop();
    },
  };
}
