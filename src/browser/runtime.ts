/// <reference lib="dom" />
// The browser viewer: the same PeerCore as native viewers, driven by CoreDriver over WebRTC data
// channels found through the tracker's WebTorrent-protocol signalling, chunks verified with
// noble's Ed25519 before they are stored, relayed or played. When a chunk is about to miss its
// deadline and no neighbour offers it, it is fetched from the broadcaster's HTTP origin; those
// bytes are counted (they are source load). A tab that reaches no peer (a browser without
// WebRTC, or peers that do not answer within PEER_WAIT_MS) streams from that origin while it
// lets it (origin-client.ts), and moves over to peers as they come.

import { ed25519 } from '@noble/curves/ed25519.js';
import { Teardown } from '../common/teardown.js';
import type { NodeIdentity } from '../crypto/signatures.js';
import type { ChannelRecord } from '../protocol/channel-record.js';
import { peerIdOf } from '../runtime/link-auth.js';
import { RenditionLanes } from '../runtime/rendition-lanes.js';
import { type PlaybackStats, playbackStats, ViewerRates } from '../runtime/viewer-stats.js';
import { checkNetworkConfig, type LinkPath, type NetworkConfig } from '../transport/ice.js';
import { type BrowserLane, fetchChannel, ladderOf, openBrowserLane } from './browser-lanes.js';
import { OriginClient, type OriginState } from './origin-client.js';

export interface BrowserViewerStats extends PlaybackStats {
  /** Neighbours by how the link crosses the network (NAT traversal at a glance). */
  paths: Record<LinkPath, number>;
  /** Peers that answered but could not be reached (NAT without a TURN relay, typically). */
  failedConnections: number;
  mediaBytesFromOrigin: number;
  /** What the broadcaster's HTTP origin does for this tab. */
  origin: OriginState;
  /** Whether this browser can link to peers at all (RTCPeerConnection). */
  webrtc: boolean;
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
/** How long a tab with WebRTC waits for peers to bring the stream before it asks the origin. */
export const PEER_WAIT_MS = 4000;
/** How often a tab that is not playing asks the origin again (it may have been full). */
const ORIGIN_RETRY_MS = 3000;

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
    const origin = new OriginClient(() => channel.originUrl);
    const upload = { enabled: o.uploadEnabled ?? true, limitBps: o.uploadLimitBps };
    const lanes: BrowserLanes = new RenditionLanes({
      ladder: ladderOf(o.channelId, channel.record),
      quality: 'auto',
      upload,
      counts: (lane) => ({ originBytes: lane.originBytes, failed: lane.signaling?.stats.failed ?? 0 }),
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
    const peerless = new PeerlessStart(lanes, origin);
    const peerlessTimer = setInterval(() => peerless.check(Date.now()), 1000);
    teardown.defer(() => clearInterval(peerlessTimer));
    return browserViewer(lanes, { notLiveAgeMs: () => notLiveAgeMs, origin: (now) => origin.state(now) }, teardown);
  });
}

/** The viewer the page holds, over its lanes. */
interface ViewerState {
  notLiveAgeMs: () => number | undefined;
  origin: (nowMs: number) => OriginState;
}

function browserViewer(lanes: BrowserLanes, state: ViewerState, teardown: Teardown): BrowserViewer {
  const rates = new ViewerRates();
  return {
    onPlay: (cb) => lanes.events.on('play', (chunk) => cb(chunk, Date.now() - chunk.captureTimeMs)),
    onSkip: (cb) => lanes.events.on('skip', cb),
    onSwitch: (cb) => lanes.events.on('switched', (e) => cb(e.to.name)),
    renditions: lanes.ladder.map((l) => ({ name: l.name, bitrateBps: l.bitrateBps, height: l.height })),
    setQuality: (quality) => lanes.setQuality(quality),
    stats: () => browserStats(lanes, rates, state),
    setUploadLimit: (bps) => lanes.setUpload({ ...lanes.uploadPolicy, limitBps: bps }),
    setUploadEnabled: (enabled) => lanes.setUpload({ ...lanes.uploadPolicy, enabled }),
    stop: () => teardown.undo(),
  };
}

function browserStats(lanes: BrowserLanes, rates: ViewerRates, state: ViewerState): BrowserViewerStats {
  const counts = lanes.counts();
  const now = Date.now();
  const p = playbackStats(lanes, rates, now, counts.originBytes);
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
    origin: state.origin(now),
    webrtc: typeof RTCPeerConnection === 'function',
    chunksPlayed: p.chunksPlayed,
    notLiveAgeMs: p.chunksPlayed > 0 ? undefined : state.notLiveAgeMs(),
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

/**
 * Starts a tab that no peer brings the stream to on the origin's live edge: at once without
 * WebRTC, else after PEER_WAIT_MS. On a channel with a ladder it holds the tab on the base
 * rendition meanwhile (the only one the origin serves), and gives the choice back to the
 * viewer's adaptation once peers bring the stream.
 */
class PeerlessStart {
  private readonly startedAtMs = Date.now();
  private lastTryMs = Number.NEGATIVE_INFINITY;
  private held = false;
  /** Peers brought the first chunks: later gaps are theirs to fill (and the origin's late fetches). */
  private playedFromPeers = false;
  private joined = false;

  constructor(
    private readonly lanes: BrowserLanes,
    private readonly origin: OriginClient,
  ) {
    // A rendition switch opens a lane with no peer yet; starting it on the origin's edge would
    // cut across the switch, which the lane set times at a keyframe.
    lanes.events.on('play', () => {
      if (!this.joined) this.playedFromPeers = true;
    });
  }

  check(nowMs: number): void {
    if (this.playedFromPeers) return;
    const lane = this.lanes.lane;
    const peers = lane.driver.linkCount;
    const base = this.lanes.ladder[0];
    if (this.held && peers > 0 && this.origin.state(nowMs) !== 'streaming') {
      this.held = false;
      if (this.lanes.pinned?.name === base?.name) this.lanes.setQuality('auto');
    }
    if (lane.core.getStats().started && peers > 0) return;
    const waited = lane.signaling === undefined || nowMs - this.startedAtMs >= PEER_WAIT_MS;
    if (!waited || peers > 0 || nowMs - this.lastTryMs < ORIGIN_RETRY_MS) return;
    if (this.lanes.ladder.length > 1 && this.lanes.pinned === undefined && base !== undefined) {
      this.lanes.setQuality(base.name);
      this.held = true;
    }
    // Streaming already (a start still on its way): a second lease would only take a slot.
    if (lane.core.getStats().started || this.origin.state(nowMs) === 'streaming') return;
    this.lastTryMs = nowMs;
    this.joined = true;
    void this.origin.join(this.lanes.lane);
  }
}
