/// <reference lib="dom" />
// The browser viewer: the same PeerCore as native viewers, driven by CoreDriver over WebRTC data
// channels found through the tracker's WebTorrent-protocol signalling, chunks verified with
// noble's Ed25519 before they are stored, relayed or played. When a chunk is about to miss its
// deadline and no neighbour offers it, it is fetched from the broadcaster's HTTP origin; those
// bytes are counted (they are source load).

import { ed25519 } from '@noble/curves/ed25519.js';
import { Teardown } from '../common/teardown.js';
import type { NodeIdentity } from '../crypto/signatures.js';
import type { ChannelRecord } from '../protocol/channel-record.js';
import { decodeChunk } from '../protocol/chunk.js';
import { peerIdOf } from '../runtime/link-auth.js';
import { RenditionLanes } from '../runtime/rendition-lanes.js';
import { type PlaybackStats, playbackStats, ViewerRates } from '../runtime/viewer-stats.js';
import { checkNetworkConfig, type LinkPath, type NetworkConfig } from '../transport/ice.js';
import { type BrowserLane, fetchChannel, ladderOf, openBrowserLane } from './browser-lanes.js';

export interface BrowserViewerStats extends PlaybackStats {
  /** Neighbours by how the link crosses the network (NAT traversal at a glance). */
  paths: Record<LinkPath, number>;
  /** Peers that answered but could not be reached (NAT without a TURN relay, typically). */
  failedConnections: number;
  mediaBytesFromOrigin: number;
  /** Before playback: the age of the newest chunk offered, when it was too old to start on. */
  notLiveAgeMs: number | undefined;
  /** The rendition playing (absent: the channel has no ladder). */
  rendition: string | undefined;
  /** 'auto', or the rendition the user chose. */
  quality: string;
  /** The rendition being tried or switched to. */
  switchingTo: string | undefined;
  switches: { up: number; down: number };
}

export interface BrowserViewerOptions {
  channelId: string;
  /** Base URL of the tracker (the page's origin by default). */
  trackerUrl: string;
  uploadLimitBps?: number;
  uploadEnabled?: boolean;
}

export interface PlayedChunk {
  seq: number;
  captureTimeMs: number;
  flags: number;
  payload: Uint8Array;
}

export interface BrowserViewer {
  onPlay(cb: (chunk: PlayedChunk, lagMs: number) => void): void;
  /** A chunk was given up. */
  onSkip(cb: (seq: number) => void): void;
  /** The output moved to another rendition at a keyframe: chunk numbers start afresh. */
  onSwitch(cb: (to: string) => void): void;
  /** The channel's ladder, lowest first (one entry: no ladder). */
  readonly renditions: readonly { name: string; bitrateBps: number; height: number | undefined }[];
  /** 'auto' to let the viewer adapt, or a rendition's name to stay on it. */
  setQuality(quality: string): void;
  stats(): BrowserViewerStats;
  setUploadLimit(bps: number | undefined): void;
  setUploadEnabled(enabled: boolean): void;
  stop(): Promise<void>;
}

/** How often the channel's record (its HTTP origin) is read again. */
const RECORD_REFRESH_MS = 10_000;

type BrowserLanes = RenditionLanes<BrowserLane, { originBytes: number; failed: number }>;

export async function startBrowserViewer(o: BrowserViewerOptions): Promise<BrowserViewer> {
  // A node key per tab and run: its first 16 bytes are the tab's peer id on every link
  // (src/runtime/link-auth.ts), in every rendition's swarm.
  const nodeSeed = ed25519.utils.randomSecretKey();
  const identity: NodeIdentity = { publicKey: ed25519.getPublicKey(nodeSeed), sign: (m) => ed25519.sign(m, nodeSeed) };
  const log = { debug: () => {}, warn: (m: string) => console.warn(`meshtv: ${m}`) };
  const tracker = new URL(o.trackerUrl);
  const network = await fetchNetwork(tracker);
  const channel = new ChannelWatch(tracker, o.channelId);
  await channel.refresh();
  const teardown = new Teardown((err) => log.warn(`while stopping after a failed start: ${(err as Error).message}`));
  return teardown.start(async () => {
    const originTimer = setInterval(() => void channel.refresh(), RECORD_REFRESH_MS);
    teardown.defer(() => clearInterval(originTimer));
    let notLiveAgeMs: number | undefined;
    const origin = new OriginFetcher(() => channel.originUrl);
    const upload = { enabled: o.uploadEnabled ?? true, limitBps: o.uploadLimitBps };
    const lanes: BrowserLanes = new RenditionLanes({
      ladder: ladderOf(o.channelId, channel.record),
      quality: 'auto',
      upload,
      counts: (lane) => ({ originBytes: lane.originBytes, failed: lane.signaling.stats.failed }),
      open: (spec, index, feed) => {
        const lane = openBrowserLane({
          spec,
          index,
          identity,
          idBytes: peerIdOf(identity.publicKey),
          trackerUrl: o.trackerUrl,
          network: () => network,
          // Only where the core starts: as the lane opens, the lane set gives it its share of the
          // user's current choice (lanesChanged), before any link attaches.
          upload,
          log,
        });
        lane.driver.onEvent((e) => {
          if (e.type === 'play' || e.type === 'skip') feed(e);
          else if (lanes.lane !== lane) return;
          else if (e.type === 'not-live') notLiveAgeMs = e.ageMs;
          // Only for the stream on screen: a relay lane's late chunks are not worth the origin's upload.
          else if (e.type === 'origin-fetch' && index === 0) origin.fetch(lane, e.seq);
        });
        return lane;
      },
    });
    teardown.defer(() => lanes.stop());
    lanes.startAdapting();
    return browserViewer(lanes, () => notLiveAgeMs, teardown);
  });
}

/** The viewer the page holds, over its lanes. */
function browserViewer(lanes: BrowserLanes, notLiveAgeMs: () => number | undefined, teardown: Teardown): BrowserViewer {
  const rates = new ViewerRates();
  return {
    onPlay: (cb) => lanes.events.on('play', (chunk) => cb(chunk, Date.now() - chunk.captureTimeMs)),
    onSkip: (cb) => lanes.events.on('skip', cb),
    onSwitch: (cb) => lanes.events.on('switched', (e) => cb(e.to.name)),
    renditions: lanes.ladder.map((l) => ({ name: l.name, bitrateBps: l.bitrateBps, height: l.height })),
    setQuality: (quality) => lanes.setQuality(quality),
    stats: () => browserStats(lanes, rates, notLiveAgeMs()),
    setUploadLimit: (bps) => lanes.setUpload({ ...lanes.uploadPolicy, limitBps: bps }),
    setUploadEnabled: (enabled) => lanes.setUpload({ ...lanes.uploadPolicy, enabled }),
    stop: () => teardown.undo(),
  };
}

function browserStats(lanes: BrowserLanes, rates: ViewerRates, notLiveAgeMs: number | undefined): BrowserViewerStats {
  const counts = lanes.counts();
  const p = playbackStats(lanes, rates, Date.now(), counts.originBytes);
  const paths = { direct: 0, reflexive: 0, relayed: 0 };
  for (const l of lanes.lane.driver.linkStats()) if (l.path !== undefined) paths[l.path]++;
  return {
    peers: p.peers,
    paths,
    failedConnections: counts.failed,
    shareFromPeers: p.shareFromPeers,
    lagMs: p.lagMs,
    bufferMs: p.bufferMs,
    downloadBps: p.downloadBps,
    uploadBps: p.uploadBps,
    mediaBytesIn: p.mediaBytesIn,
    mediaBytesOut: p.mediaBytesOut,
    mediaBytesFromOrigin: counts.originBytes,
    chunksPlayed: p.chunksPlayed,
    notLiveAgeMs: p.chunksPlayed > 0 ? undefined : notLiveAgeMs,
    chunksSkipped: p.chunksSkipped,
    continuity: p.continuity,
    rendition: p.rendition,
    quality: lanes.pinned?.name ?? 'auto',
    switchingTo: p.switchingTo,
    switches: p.switches,
  };
}

/**
 * How the tracker's operator wants peers to meet: STUN/TURN servers (none: host candidates
 * only) and the WebTorrent trackers to signal through (none: this tracker's own /announce).
 */
async function fetchNetwork(tracker: URL): Promise<NetworkConfig> {
  try {
    const res = await fetch(new URL('/api/network', tracker));
    if (res.ok) return checkNetworkConfig(await res.json());
  } catch {
    // an older or unreachable tracker: defaults
  }
  return { iceServers: [], signaling: [] };
}

/** The channel's record as last read: the ladder (checked against the channel key) and the HTTP origin. */
class ChannelWatch {
  record: ChannelRecord | undefined;
  originUrl: string | undefined;

  constructor(
    private readonly tracker: URL,
    private readonly channelId: string,
  ) {}

  async refresh(): Promise<void> {
    try {
      const got = await fetchChannel(this.tracker, this.channelId);
      if (got === undefined) return;
      this.record = got.record;
      this.originUrl = got.originUrl;
    } catch {
      // keep the last known origin
    }
  }
}

/** The HTTP origin, a last resort announced by the broadcaster in the directory (base rendition only). */
class OriginFetcher {
  private readonly inFlight = new Set<number>();

  constructor(private readonly originUrl: () => string | undefined) {}

  fetch(lane: BrowserLane, seq: number): void {
    const originUrl = this.originUrl();
    if (originUrl === undefined || this.inFlight.has(seq)) return;
    this.inFlight.add(seq);
    fetch(`${originUrl}/chunk/${seq}`)
      .then(async (res) => {
        if (!res.ok) return;
        const bytes = new Uint8Array(await res.arrayBuffer());
        const chunk = decodeChunk(bytes);
        if (lane.driver.handleOriginChunk(chunk)) lane.originBytes += chunk.payload.length;
      })
      .catch(() => {})
      .finally(() => this.inFlight.delete(seq));
  }
}
