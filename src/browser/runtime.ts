/// <reference lib="dom" />
// The browser viewer: the same PeerCore as native viewers, driven by CoreDriver over WebRTC data
// channels found through the tracker's WebTorrent-protocol signalling, chunks verified with
// noble's Ed25519 before they are stored, relayed or played. When a chunk is about to miss its
// deadline and no neighbour offers it, it is fetched from the broadcaster's HTTP origin; those
// bytes are counted (they are source load).

import { decodeChunk } from '../protocol/chunk.js';
import { PEER_ID_BYTES } from '../protocol/codec.js';
import { bytesToHex, hexToBytes } from '../protocol/hex.js';
import { PeerCore, SHORT_SUPPLY_DIAL_FACTOR } from '../protocol/peer-core.js';
import { seededRandom } from '../protocol/random.js';
import { nobleVerify } from '../protocol/verify-noble.js';
import { CoreDriver } from '../runtime/core-driver.js';
import { checkNetworkConfig, type LinkPath, type NetworkConfig } from '../transport/ice.js';
import { type PeerConnectionLike, signalingUrlOf, WebRtcSignaling, type WebSocketLike } from '../transport/webrtc-signaling.js';

export interface BrowserViewerStats {
  peers: number;
  /** Neighbours by how the link crosses the network (NAT traversal at a glance). */
  paths: Record<LinkPath, number>;
  /** Peers that answered but could not be reached (NAT without a TURN relay, typically). */
  failedConnections: number;
  shareFromPeers: number;
  lagMs: number | undefined;
  bufferMs: number;
  downloadBps: number;
  uploadBps: number;
  mediaBytesIn: number;
  mediaBytesOut: number;
  mediaBytesFromOrigin: number;
  chunksPlayed: number;
  chunksSkipped: number;
  continuity: number;
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
  onSkip(cb: (seq: number) => void): void;
  stats(): BrowserViewerStats;
  setUploadLimit(bps: number | undefined): void;
  setUploadEnabled(enabled: boolean): void;
  stop(): Promise<void>;
}

/** Neighbours a browser looks for; it accepts up to the core's maximum. */
const TARGET_PEERS = 6;
const RATE_WINDOW_MS = 3000;

export async function startBrowserViewer(o: BrowserViewerOptions): Promise<BrowserViewer> {
  const channelKey = hexToBytes(o.channelId);
  const idBytes = new Uint8Array(PEER_ID_BYTES);
  crypto.getRandomValues(idBytes);
  const seed = new Uint32Array(1);
  crypto.getRandomValues(seed);
  const core = new PeerCore(
    { role: 'viewer', uploadEnabled: o.uploadEnabled ?? true, uploadLimitBps: o.uploadLimitBps, originFallback: true },
    { channelKey, localPeerId: idBytes, verify: nobleVerify, random: seededRandom(seed[0] as number) },
  );
  const log = { debug: () => {}, warn: (m: string) => console.warn(`meshtv: ${m}`) };
  const driver = new CoreDriver(core, bytesToHex(idBytes), log);
  const playCbs: ((c: PlayedChunk, lagMs: number) => void)[] = [];
  const skipCbs: ((seq: number) => void)[] = [];
  driver.onEvent((e) => {
    if (e.type === 'play') for (const cb of playCbs) cb(e.chunk, e.lagMs);
    else if (e.type === 'skip') for (const cb of skipCbs) cb(e.seq);
    else if (e.type === 'origin-fetch') fetchFromOrigin(e.seq);
  });

  const tracker = new URL(o.trackerUrl);
  // How the tracker's operator wants peers to meet: STUN/TURN servers (none: host candidates
  // only) and the WebTorrent trackers to signal through (none: this tracker's own /announce).
  let network: NetworkConfig = { iceServers: [], signaling: [] };
  try {
    const res = await fetch(new URL('/api/network', tracker));
    if (res.ok) network = checkNetworkConfig(await res.json());
  } catch {
    // an older or unreachable tracker: defaults
  }
  const signaling = new WebRtcSignaling({
    trackerUrls: network.signaling.length > 0 ? network.signaling : [signalingUrlOf(o.trackerUrl)],
    channelKey,
    peerId: driver.localPeerId,
    createPeerConnection: (config) => new RTCPeerConnection(config) as unknown as PeerConnectionLike,
    createWebSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    iceServers: () => network.iceServers,
    noTurnAdvice: 'the site needs a TURN server for viewers behind such NATs (its tracker: --turn)',
    // More neighbours while playback misses chunks: the ones we have do not bring the stream in time.
    wantPeers: () => Math.max(0, TARGET_PEERS * (core.supplyShort(Date.now()) ? SHORT_SUPPLY_DIAL_FACTOR : 1) - driver.linkCount),
    accept: () => driver.acceptsIncoming(),
    linkedTo: (signalPeerId) => driver.linkedTo(signalPeerId),
    onConnection: (conn, outbound) => driver.attach(conn, 'webrtc', outbound),
    log,
    announceIntervalMs: 5000,
  });
  signaling.start();

  // The HTTP origin, a last resort announced by the broadcaster in the directory.
  let originUrl: string | undefined;
  const originTimer = setInterval(() => void refreshOrigin(), 10_000);
  async function refreshOrigin(): Promise<void> {
    try {
      const res = await fetch(new URL(`/api/channels/${o.channelId}`, tracker));
      if (res.ok) originUrl = ((await res.json()) as { originUrl?: string }).originUrl;
    } catch {
      // keep the last known origin
    }
  }
  await refreshOrigin();
  let originBytes = 0;
  const originInFlight = new Set<number>();
  function fetchFromOrigin(seq: number): void {
    if (originUrl === undefined || originInFlight.has(seq)) return;
    originInFlight.add(seq);
    fetch(`${originUrl}/chunk/${seq}`)
      .then(async (res) => {
        if (!res.ok) return;
        const bytes = new Uint8Array(await res.arrayBuffer());
        const chunk = decodeChunk(bytes);
        if (core.handleOriginChunk(Date.now(), chunk)) originBytes += chunk.payload.length;
        driver.pump();
      })
      .catch(() => {})
      .finally(() => originInFlight.delete(seq));
  }

  const samples: { atMs: number; down: number; up: number }[] = [];
  const rate = (now: number, down: number, up: number) => {
    samples.push({ atMs: now, down, up });
    while (samples.length > 2 && now - (samples[0] as { atMs: number }).atMs > RATE_WINDOW_MS) samples.shift();
    const first = samples[0] as { atMs: number; down: number; up: number };
    const span = now - first.atMs;
    return span <= 0 ? { down: 0, up: 0 } : { down: ((down - first.down) * 8000) / span, up: ((up - first.up) * 8000) / span };
  };

  return {
    onPlay: (cb) => playCbs.push(cb),
    onSkip: (cb) => skipCbs.push(cb),
    stats: () => {
      const s = core.getStats();
      const now = Date.now();
      const r = rate(now, s.mediaBytesIn, s.mediaBytesOut);
      const due = s.mediaMsPlayed + s.mediaMsMissed;
      const fromPeers = s.mediaBytesIn - s.mediaBytesInFromSource - originBytes;
      const paths = { direct: 0, reflexive: 0, relayed: 0 };
      for (const l of driver.linkStats()) if (l.path !== undefined) paths[l.path]++;
      return {
        peers: s.neighbours,
        paths,
        failedConnections: signaling.stats.failed,
        shareFromPeers: s.mediaBytesIn === 0 ? 0 : fromPeers / s.mediaBytesIn,
        lagMs: s.lastLagMs === undefined ? undefined : Math.round(s.lastLagMs),
        bufferMs: Math.round(core.playoutSlackMs(now)),
        downloadBps: Math.round(r.down),
        uploadBps: Math.round(r.up),
        mediaBytesIn: s.mediaBytesIn,
        mediaBytesOut: s.mediaBytesOut,
        mediaBytesFromOrigin: originBytes,
        chunksPlayed: s.chunksPlayed,
        chunksSkipped: s.chunksSkipped,
        continuity: due === 0 ? 1 : s.mediaMsPlayed / due,
      };
    },
    setUploadLimit: (bps) => core.setUploadPolicy(core.uploadPolicy.enabled, bps),
    setUploadEnabled: (enabled) => core.setUploadPolicy(enabled, core.uploadPolicy.limitBps),
    stop: async () => {
      clearInterval(originTimer);
      signaling.stop();
      driver.stop();
    },
  };
}
