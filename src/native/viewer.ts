// Composition root of `meshtv watch`: resolves the channel, joins its swarm as a viewer,
// hands played chunks to the local /stream.ts and HLS outputs, ends them when the channel
// ends, and keeps the numbers for /stats.json and the status line.

import { CHANNEL_ID_PATTERN, type ChannelRef, checkTrackerUrl, parseChannelUri } from '../api/channel-uri.js';
import { UserError } from '../common/errors.js';
import { hexToBytes } from '../common/hex.js';
import type { Logger } from '../common/log.js';
import { createMetrics } from '../common/metrics.js';
import { formatBps, formatBytes, RateMeter } from '../common/rate-meter.js';
import { Teardown } from '../common/teardown.js';
import { newNodeKey, nodeVerify } from '../crypto/keys.js';
import { HlsSegmenter, type HlsSegmenterConfig, masterPlaylist } from '../media/hls-segmenter.js';
import { StreamOutput } from '../media/stream-output.js';
import type { SignedChannelRecord } from '../protocol/channel-record.js';
import { FLAG_END_OF_STREAM } from '../protocol/chunk.js';
import type { PeerCoreConfig } from '../protocol/peer-core.js';
import { notLiveMessage } from '../runtime/not-live.js';
import type { SignalingStats } from '../transport/webrtc-signaling.js';
import type { DhtDiscoveryStats } from './dht-discovery.js';
import { startHttpOutput } from './http-output.js';
import { type LaneSpec, RenditionLanes } from './rendition-lanes.js';
import { type NetworkOptions, SwarmNode } from './swarm-node.js';
import { fetchChannelRecord, listChannels } from './tracker-client.js';

/** Silence after which the viewer says it is waiting for the broadcaster. */
const SILENCE_NOTICE_MS = 5000;

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
  core?: Partial<PeerCoreConfig>;
  network?: NetworkOptions;
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
  /** The viewer's choices: relay or not, and the cap (bit/s) when there is one. */
  uploadEnabled: boolean;
  uploadLimitBps: number | undefined;
  /** Share of received media bytes that came from other viewers (not the source). */
  shareFromPeers: number;
  controlBytes: number;
  duplicateBytes: number;
  chunksPlayed: number;
  chunksLate: number;
  chunksSkipped: number;
  /** Media time played on time / media time due since playback started. */
  continuity: number;
  /** The rendition playing (absent: the channel has no ladder). */
  rendition: string | undefined;
  /** The channel's ladder, lowest first (empty: none). */
  renditions: { name: string; bitrateBps: number; height: number | undefined }[];
  /** 'auto' or the rendition asked for. */
  quality: string;
  /** The rendition being switched to. */
  switchingTo: string | undefined;
  /** Rendition switches so far. */
  switches: { up: number; down: number };
  /** Renditions whose swarms it is in: what it plays, and the lowest, which it relays when playing a higher one. */
  joined: string[];
  /** Time since the newest chunk arrived, once playing: long silence means the broadcaster is gone. */
  silentForMs: number | undefined;
  playerClients: number;
  /** HLS segments held (listed in /live.m3u8 or retained). */
  hlsSegments: number;
  /** The channel ended: the last chunk was played. */
  ended: boolean;
  neighbours: ReturnType<SwarmNode['linkStats']>;
  /** WebRTC connection attempts: sent, answered, connected by path, failed (absent: TCP only). */
  webrtc: SignalingStats | undefined;
  /** The DHT's routing table and what it found (absent: DHT off). */
  dht: DhtDiscoveryStats | undefined;
}

export interface Viewer {
  readonly channelId: string;
  readonly streamUrl: string;
  readonly playlistUrl: string;
  readonly statsUrl: string;
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
  const matches = [...new Set(live.filter((c) => c.name.toLowerCase() === lower).map((c) => c.id))];
  if (matches.length === 0)
    throw new UserError(`no live channel named "${channel}" on ${trackers.join(', ')}; list them with: meshtv channels`);
  if (matches.length > 1) throw new UserError(`several channels are named "${channel}": ${matches.join(', ')}; watch one by its id`);
  return { channelId: matches[0] as string, trackers };
}

/**
 * The renditions to choose from: the ladder in the channel's signed record, checked against
 * the channel key. Without a ladder (or a record), the channel's one stream.
 */
async function channelLadder(ref: ChannelRef, quality: string, log: Logger): Promise<LaneSpec[]> {
  let signed: SignedChannelRecord | undefined;
  try {
    // The first tracker that holds a signed record wins; one without (older, or the record has
    // not reached it yet) must not hide the ladder another holds.
    signed = await Promise.any(
      ref.trackers.map(
        async (t) => (await fetchChannelRecord(t, ref.channelId, nodeVerify)) ?? Promise.reject(new Error(`${t} holds no signed record`)),
      ),
    );
  } catch (err) {
    const first = (err as AggregateError).errors?.[0] as Error | undefined;
    if (quality !== 'auto') throw new UserError(`cannot read the channel's renditions: ${first?.message ?? String(err)}`);
    log.debug(`no channel record (${first?.message ?? String(err)}): playing the channel's base stream`);
  }
  const record = signed?.record;
  const ladder: LaneSpec[] = record?.renditions?.map((r) => ({ ...r, height: r.height })) ?? [
    { name: 'main', channelId: ref.channelId, bitrateBps: record?.bitrateBps ?? 0, height: undefined },
  ];
  if (quality !== 'auto' && !ladder.some((l) => l.name === quality)) {
    const names = record?.renditions?.map((r) => r.name);
    throw new UserError(
      names === undefined
        ? `--quality ${quality}: this channel has one quality only; drop --quality`
        : `--quality ${quality}: the channel's renditions are ${names.join(', ')} (or auto)`,
    );
  }
  return ladder;
}

export async function startViewer(o: ViewerOptions): Promise<Viewer> {
  const ref = await resolveChannel(o.channel, o.trackers);
  const quality = o.quality ?? 'auto';
  const ladder = await channelLadder(ref, quality, o.log);
  const stream = new StreamOutput();
  const hls = new HlsSegmenter(o.hls);
  let endedResolve: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    endedResolve = resolve;
  });
  let isEnded = false;
  const joinedAt = Date.now();
  let startupMs: number | undefined;
  // One node key, so one peer id, in every rendition's swarm: the tracker counts this viewer
  // once. A new one each run: a viewer cannot be followed from channel to channel by its id.
  const nodeKey = newNodeKey();
  const lanes = new RenditionLanes({
    ladder,
    quality,
    uploadLimitBps: o.core?.uploadLimitBps,
    makeNode: (spec, index) => {
      const node = new SwarmNode({
        role: 'viewer',
        channelKey: hexToBytes(spec.channelId),
        nodeKey,
        host: o.host,
        // Renditions past the base take the next ports (any free one when the base's is).
        port: o.port === 0 ? 0 : o.port + index,
        ...(o.announceAddress ? { announceAddress: o.announceAddress } : {}),
        trackers: ref.trackers,
        // Also over WebRTC, so browsers in the swarm can fetch from native viewers.
        webrtc: true,
        core: { ...o.core, ...(o.maxPeers !== undefined ? { maxNeighbours: o.maxPeers } : {}) },
        ...o.network,
        log: o.log.child(ladder.length > 1 ? `swarm ${spec.name}` : 'swarm'),
      });
      node.onEvent((e) => {
        if (e.type === 'not-live') o.log.warn(notLiveMessage(e.ageMs));
      });
      return node;
    },
    onOutput: (e) => {
      if (isEnded) return;
      if (e.type === 'skip') hls.skip();
      if (e.type === 'switched') {
        o.log.info(`now playing ${e.to.name} (was ${e.from.name})`);
        // The next segment starts at the new rendition's keyframe, marked as a discontinuity.
        hls.skip();
      }
      if (e.type !== 'play') return;
      startupMs ??= Date.now() - joinedAt;
      stream.play(e.chunk);
      hls.play(e.chunk);
      if ((e.chunk.flags & FLAG_END_OF_STREAM) !== 0) {
        isEnded = true;
        stream.end();
        hls.end();
        o.log.info('channel ended');
        endedResolve();
      }
    },
    log: o.log.child('abr'),
  });
  /** Counts over every rendition's node, with the current node's live state. */
  const coreStats = () => ({ ...lanes.node.core.getStats(), ...lanes.totals() });
  const downMeter = new RateMeter();
  const upMeter = new RateMeter();
  const stats = (): ViewerStats => {
    const s = coreStats();
    const node = lanes.node;
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
      uploadEnabled: node.core.uploadPolicy.enabled,
      // The viewer's cap; with a ladder its lanes share it by rate.
      uploadLimitBps: o.core?.uploadLimitBps,
      shareFromPeers: s.mediaBytesIn === 0 ? 0 : 1 - s.mediaBytesInFromSource / s.mediaBytesIn,
      controlBytes: lanes.controlBytes,
      duplicateBytes: s.duplicateBytes,
      chunksPlayed: s.chunksPlayed,
      chunksLate: s.chunksLate,
      chunksSkipped: s.chunksSkipped,
      continuity: dueMs === 0 ? 1 : s.mediaMsPlayed / dueMs,
      rendition: ladder.length > 1 ? lanes.current.name : undefined,
      renditions: ladder.length > 1 ? ladder.map((l) => ({ name: l.name, bitrateBps: l.bitrateBps, height: l.height })) : [],
      quality,
      switchingTo: lanes.target?.name,
      switches: lanes.switches,
      joined: ladder.length > 1 ? lanes.joined : [],
      silentForMs: s.started && s.lastChunkAtMs !== undefined ? now - s.lastChunkAtMs : undefined,
      playerClients: stream.clientCount,
      hlsSegments: hls.held().length,
      ended: isEnded,
      neighbours: node.linkStats(),
      webrtc: node.signalingStats(),
      dht: node.dhtStats(),
    };
  };
  const uploadCap = () => {
    const p = lanes.node.core.uploadPolicy;
    const cap = o.core?.uploadLimitBps;
    return !p.enabled ? ' (upload off)' : cap !== undefined ? ` of ${formatBps(cap)} cap` : '';
  };
  const teardown = new Teardown((err) => o.log.warn(`while stopping after a failed start: ${(err as Error).message}`));
  // Undone last: the nodes are made before the HTTP output, and leave after it.
  teardown.defer(() => lanes.stop());
  return teardown.start(async () => {
    const output = await startHttpOutput({
      host: o.httpHost,
      port: o.httpPort,
      fallbackPorts: o.httpFallbackPorts ?? 0,
      metrics: createMetrics('meshtv_viewer', [
        { name: 'peers', help: 'Neighbours', read: () => coreStats().neighbours },
        {
          name: 'media_bytes_in',
          help: 'Stream bytes received (new, verified) since start',
          read: () => coreStats().mediaBytesIn,
        },
        {
          name: 'media_bytes_in_from_source',
          help: 'Stream bytes received from the broadcaster',
          read: () => coreStats().mediaBytesInFromSource,
        },
        {
          name: 'media_bytes_out',
          help: 'Stream bytes relayed to other viewers since start',
          read: () => coreStats().mediaBytesOut,
        },
        { name: 'duplicate_bytes', help: 'Stream bytes received twice', read: () => coreStats().duplicateBytes },
        { name: 'control_bytes', help: 'Non-media bytes on peer links', read: () => lanes.controlBytes },
        { name: 'chunks_played', help: 'Chunks handed to the player', read: () => coreStats().chunksPlayed },
        { name: 'chunks_skipped', help: 'Chunks given up at their deadline', read: () => coreStats().chunksSkipped },
        { name: 'lag_ms', help: 'Capture to hand-over to the player, last chunk', read: () => coreStats().lastLagMs },
        {
          name: 'upload_limit_bps',
          help: 'Upload cap set by the viewer (absent: none)',
          read: () => o.core?.uploadLimitBps,
        },
        { name: 'upload_enabled', help: '1 when the viewer relays', read: () => (lanes.node.core.uploadPolicy.enabled ? 1 : 0) },
      ]).render,
      stream,
      hls,
      ...(ladder.length > 1
        ? {
            master: masterPlaylist(
              Math.max(...ladder.filter((l) => quality === 'auto' || l.name === quality).map((l) => l.bitrateBps)),
              'media.m3u8',
            ),
          }
        : {}),
      stats,
    });
    teardown.defer(() => output.close());
    // Players see the stream end before their connections close.
    teardown.defer(() => stream.end());
    try {
      await lanes.start();
    } catch (err) {
      throw new UserError(`cannot listen for peers on ${o.host}:${o.port}: ${(err as Error).message}; choose another --peer-port`);
    }
    await lanes.node.announceNow();
    // Say so when the broadcaster goes quiet (and when it is back), for logs without a status line.
    let silent = false;
    const silenceTimer = setInterval(() => {
      const c = lanes.node.core.getStats();
      const quiet = c.started && c.lastChunkAtMs !== undefined && Date.now() - c.lastChunkAtMs >= 2 * SILENCE_NOTICE_MS;
      if (quiet && !silent) o.log.warn(`no new data for ${(2 * SILENCE_NOTICE_MS) / 1000} s: the broadcaster may be gone; still waiting`);
      else if (!quiet && silent) o.log.info('the stream is back');
      silent = quiet;
    }, 1000);
    silenceTimer.unref();
    teardown.defer(() => clearInterval(silenceTimer));
    return {
      channelId: ref.channelId,
      streamUrl: `${output.baseUrl}/stream.ts`,
      playlistUrl: `${output.baseUrl}/live.m3u8`,
      statsUrl: `${output.baseUrl}/stats.json`,
      ended,
      drain: async (maxMs = DRAIN_MAX_MS) => {
        const startedAt = Date.now();
        for (;;) {
          const now = Date.now();
          const { streamClients, lastHlsRequestAtMs } = output.activity();
          // An HLS player polls at least once per target duration while it still needs segments.
          const hlsIdleMs = Math.max(3000, hls.targetDurationS * 1500);
          const quiet = streamClients === 0 && (lastHlsRequestAtMs === undefined || now - lastHlsRequestAtMs > hlsIdleMs);
          if ((quiet && now - startedAt >= DRAIN_MIN_MS) || now - startedAt >= maxMs) return;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      },
      stats,
      statusLine: () => {
        const s = stats();
        const lag = s.lagMs === undefined ? '-' : `${(s.lagMs / 1000).toFixed(1)} s`;
        return [
          `peers ${s.peers}`,
          ...(s.rendition !== undefined
            ? [`${s.rendition}${s.quality === 'auto' ? ' (auto)' : ''}${s.switchingTo !== undefined ? ` -> ${s.switchingTo}` : ''}`]
            : []),
          `down ${formatBps(s.downloadBps)}`,
          `up ${formatBps(s.uploadBps)}${uploadCap()} (${formatBytes(s.mediaBytesOut)} total)`,
          `buffer ${(s.bufferMs / 1000).toFixed(1)} s`,
          `lag ${lag}`,
          `from peers ${(s.shareFromPeers * 100).toFixed(0)}%`,
          s.ended
            ? 'channel ended'
            : s.silentForMs !== undefined && s.silentForMs >= SILENCE_NOTICE_MS
              ? `no new data for ${Math.round(s.silentForMs / 1000)} s: waiting for the broadcaster`
              : s.started
                ? `continuity ${(s.continuity * 100).toFixed(1)}%`
                : 'joining',
        ].join(' | ');
      },
      stop: () => teardown.undo(),
    };
  });
}
