/// <reference lib="dom" />
// The browser viewer: the same PeerCore as native viewers, driven by CoreDriver over WebRTC data
// channels found through the tracker's WebTorrent-protocol signalling, chunks verified with
// noble's Ed25519 before they are stored, relayed or played. When a chunk is about to miss its
// deadline and no neighbour offers it, it is fetched from the broadcaster's HTTP origin; those
// bytes are counted (they are source load).

import { ed25519 } from '@noble/curves/ed25519.js';
import { hexToBytes } from '../common/hex.js';
import type { NodeIdentity } from '../crypto/signatures.js';
import { nobleVerify } from '../crypto/verify-noble.js';
import { AbrSession } from '../protocol/abr-session.js';
import {
  type ChannelRecord,
  canonicalRecord,
  checkSignedChannelRecord,
  type SignedChannelRecord,
  usableOrigin,
} from '../protocol/channel-record.js';
import { decodeChunk } from '../protocol/chunk.js';
import { Membership } from '../protocol/membership.js';
import { PeerCore } from '../protocol/peer-core.js';
import { seededRandom } from '../protocol/random.js';
import { CoreDriver } from '../runtime/core-driver.js';
import { peerIdOf } from '../runtime/link-auth.js';
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

/** Neighbours a browser looks for; it accepts up to the core's maximum. */
const TARGET_PEERS = 6;
const RATE_WINDOW_MS = 3000;

/** One rendition's swarm: its core, the driver feeding it WebRTC links, and the signalling that finds them. */
interface Lane {
  core: PeerCore;
  driver: CoreDriver;
  signaling: WebRtcSignaling;
  /** Chunks from the HTTP origin: only the base rendition has one. */
  originBytes: number;
}

/** A closed rendition's lane stays this long, for neighbours still fetching from it. */
const RETIRE_AFTER_MS = 2000;

export async function startBrowserViewer(o: BrowserViewerOptions): Promise<BrowserViewer> {
  // A node key per tab and run: its first 16 bytes are the tab's peer id on every link
  // (src/runtime/link-auth.ts), in every rendition's swarm.
  const nodeSeed = ed25519.utils.randomSecretKey();
  const identity: NodeIdentity = { publicKey: ed25519.getPublicKey(nodeSeed), sign: (m) => ed25519.sign(m, nodeSeed) };
  const idBytes = peerIdOf(identity.publicKey);
  const log = { debug: () => {}, warn: (m: string) => console.warn(`meshtv: ${m}`) };
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
  // The channel's record: the ladder (checked against the channel key) and the HTTP origin.
  let originUrl: string | undefined;
  let record: ChannelRecord | undefined;
  async function refreshChannel(): Promise<void> {
    try {
      const res = await fetch(new URL(`/api/channels/${o.channelId}`, tracker));
      if (!res.ok) return;
      const body = (await res.json()) as { signed?: unknown };
      // Only what the channel key signed: the tracker (or anyone on its path) cannot point the
      // page at another origin.
      if (body.signed !== undefined && checkSignedChannelRecord(body.signed, nobleVerify) === undefined) {
        const signed = (body.signed as SignedChannelRecord).record;
        if (signed.channelId === o.channelId) {
          record = canonicalRecord(signed);
          originUrl = usableOrigin(record.originUrl, location.href);
        }
      }
    } catch {
      // keep the last known origin
    }
  }
  await refreshChannel();
  const originTimer = setInterval(() => void refreshChannel(), 10_000);
  const ladder = record?.renditions?.map((r) => ({
    name: r.name,
    channelId: r.channelId,
    bitrateBps: r.bitrateBps,
    height: r.height as number | undefined,
  })) ?? [{ name: 'main', channelId: o.channelId, bitrateBps: record?.bitrateBps ?? 0, height: undefined }];

  const playCbs: ((c: PlayedChunk, lagMs: number) => void)[] = [];
  const skipCbs: ((seq: number) => void)[] = [];
  const switchCbs: ((to: string) => void)[] = [];
  let notLiveAgeMs: number | undefined;
  const lanes = new Map<number, Lane>();
  const retired = new Map<number, { lane: Lane; timer: ReturnType<typeof setTimeout> }>();
  /** What lanes stopped since had counted. */
  const gone = { originBytes: 0, failed: 0 };
  let upload = { enabled: o.uploadEnabled ?? true, limitBps: o.uploadLimitBps };
  let session: AbrSession | undefined;

  /** Stops a closed lane's links and signalling (after its grace, or at once when reopened). */
  function retire(index: number): void {
    const r = retired.get(index);
    if (r === undefined) return;
    retired.delete(index);
    clearTimeout(r.timer);
    gone.originBytes += r.lane.originBytes;
    gone.failed += r.lane.signaling.stats.failed;
    r.lane.signaling.stop();
    r.lane.driver.stop();
  }

  function openLane(index: number): Lane {
    // The same peer id must not be in one swarm twice: a lane reopened within its grace goes first.
    retire(index);
    const spec = ladder[index] as (typeof ladder)[number];
    const channelKey = hexToBytes(spec.channelId);
    const seed = new Uint32Array(1);
    crypto.getRandomValues(seed);
    const core = new PeerCore(
      { role: 'viewer', uploadEnabled: upload.enabled, uploadLimitBps: upload.limitBps, originFallback: index === 0 },
      { channelKey, localPeerId: idBytes, verify: nobleVerify, random: seededRandom(seed[0] as number) },
    );
    const driver = new CoreDriver(core, { identity, verify: nobleVerify, log });
    // A tab meets peers only through signalling: the policy sizes how many it asks for.
    const membership = new Membership(
      { role: 'viewer', dialTarget: TARGET_PEERS },
      {
        core,
        linkCount: () => driver.linkCount,
        linkedTo: (peerId) => driver.linkedTo(peerId),
        accepts: (peerId, address) => driver.accepts(peerId, address),
      },
      Math.random,
    );
    const signaling = new WebRtcSignaling({
      trackerUrls: network.signaling.length > 0 ? network.signaling : [signalingUrlOf(o.trackerUrl)],
      channelKey,
      peerId: driver.localPeerId,
      createPeerConnection: (config) => new RTCPeerConnection(config) as unknown as PeerConnectionLike,
      createWebSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
      iceServers: () => network.iceServers,
      noTurnAdvice: 'the site needs a TURN server for viewers behind such NATs (its tracker: --turn)',
      // More neighbours while playback misses chunks: the ones we have do not bring the stream in time.
      wantPeers: () => membership.webrtcWanted(Date.now()),
      accept: () => driver.acceptsIncoming(),
      linkedTo: (signalPeerId) => driver.linkedTo(signalPeerId),
      onConnection: (conn, outbound) => driver.attach(conn, 'webrtc', outbound),
      log,
      announceIntervalMs: 5000,
    });
    const lane: Lane = { core, driver, signaling, originBytes: 0 };
    driver.onEvent((e) => {
      if (lanes.get(index) !== lane) return;
      if (e.type === 'not-live') notLiveAgeMs = e.ageMs;
      if (session === undefined) return;
      if (e.type === 'play') session.played(index, e.chunk, Date.now());
      else if (e.type === 'skip') session.skipped(index, e.seq);
      else if (e.type === 'origin-fetch') fetchFromOrigin(lane, e.seq);
    });
    signaling.start();
    lanes.set(index, lane);
    return lane;
  }

  session = new AbrSession(ladder, 'auto', Date.now(), {
    open: (index) => openLane(index).core,
    close: (index) => {
      const lane = lanes.get(index);
      lanes.delete(index);
      if (lane === undefined) return;
      retired.set(index, { lane, timer: setTimeout(() => retire(index), RETIRE_AFTER_MS) });
    },
    output: (e) => {
      if (e.type === 'play') for (const cb of playCbs) cb(e.chunk, Date.now() - e.chunk.captureTimeMs);
      else if (e.type === 'skip') for (const cb of skipCbs) cb(e.seq);
      else if (e.type === 'switched') for (const cb of switchCbs) cb(ladder[e.to]?.name ?? '');
    },
    // An upload cap is shared by the lanes by their rates (a relay lane takes its stream's part).
    lanesChanged: () => shareUpload(),
  });
  function shareUpload(): void {
    if (session === undefined) return;
    for (const [index, share] of session.uploadShares()) {
      const limit = upload.limitBps === undefined ? undefined : Math.max(1, Math.round(upload.limitBps * share));
      lanes.get(index)?.core.setUploadPolicy(upload.enabled, limit);
    }
  }
  const abr = session;
  const abrTimer = setInterval(() => abr.tick(Date.now()), abr.config.tickMs);

  // The HTTP origin, a last resort announced by the broadcaster in the directory (base rendition only).
  const originInFlight = new Set<number>();
  function fetchFromOrigin(lane: Lane, seq: number): void {
    // Only for the stream on screen: a relay lane's late chunks are not worth the origin's upload.
    if (originUrl === undefined || originInFlight.has(seq) || session?.current !== 0) return;
    originInFlight.add(seq);
    fetch(`${originUrl}/chunk/${seq}`)
      .then(async (res) => {
        if (!res.ok) return;
        const bytes = new Uint8Array(await res.arrayBuffer());
        const chunk = decodeChunk(bytes);
        if (lane.driver.handleOriginChunk(chunk)) lane.originBytes += chunk.payload.length;
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
    onSwitch: (cb) => switchCbs.push(cb),
    renditions: ladder.map((l) => ({ name: l.name, bitrateBps: l.bitrateBps, height: l.height })),
    setQuality: (quality) => {
      const index = ladder.findIndex((l) => l.name === quality);
      if (quality !== 'auto' && index < 0) throw new Error(`no rendition named ${quality}`);
      abr.pin(quality === 'auto' ? undefined : index, Date.now());
    },
    stats: () => {
      const t = abr.totals();
      const current = abr.currentLane.getStats();
      const now = Date.now();
      const r = rate(now, t.mediaBytesIn, t.mediaBytesOut);
      const due = t.mediaMsPlayed + t.mediaMsMissed;
      let originBytes = gone.originBytes;
      let failed = gone.failed;
      const paths = { direct: 0, reflexive: 0, relayed: 0 };
      for (const lane of [...lanes.values(), ...[...retired.values()].map((r) => r.lane)]) {
        originBytes += lane.originBytes;
        failed += lane.signaling.stats.failed;
      }
      const currentLane = lanes.get(abr.current);
      for (const l of currentLane?.driver.linkStats() ?? []) if (l.path !== undefined) paths[l.path]++;
      const fromPeers = t.mediaBytesIn - t.mediaBytesInFromSource - originBytes;
      const target = abr.target;
      const pinned = abr.pinnedIndex;
      return {
        peers: current.neighbours,
        paths,
        failedConnections: failed,
        shareFromPeers: t.mediaBytesIn === 0 ? 0 : fromPeers / t.mediaBytesIn,
        lagMs: current.lastLagMs === undefined ? undefined : Math.round(current.lastLagMs),
        bufferMs: Math.round(abr.currentLane.playoutSlackMs(now)),
        downloadBps: Math.round(r.down),
        uploadBps: Math.round(r.up),
        mediaBytesIn: t.mediaBytesIn,
        mediaBytesOut: t.mediaBytesOut,
        mediaBytesFromOrigin: originBytes,
        chunksPlayed: t.chunksPlayed,
        notLiveAgeMs: t.chunksPlayed > 0 ? undefined : notLiveAgeMs,
        chunksSkipped: t.chunksSkipped,
        continuity: due === 0 ? 1 : t.mediaMsPlayed / due,
        rendition: ladder.length > 1 ? ladder[abr.current]?.name : undefined,
        quality: pinned === undefined ? 'auto' : (ladder[pinned]?.name ?? 'auto'),
        switchingTo: target === undefined ? undefined : ladder[target]?.name,
        switches: abr.switches,
      };
    },
    setUploadLimit: (bps) => {
      upload = { ...upload, limitBps: bps };
      shareUpload();
    },
    setUploadEnabled: (enabled) => {
      upload = { ...upload, enabled };
      shareUpload();
    },
    stop: async () => {
      clearInterval(originTimer);
      clearInterval(abrTimer);
      for (const index of [...retired.keys()]) retire(index);
      for (const lane of lanes.values()) {
        lane.signaling.stop();
        lane.driver.stop();
      }
    },
  };
}
