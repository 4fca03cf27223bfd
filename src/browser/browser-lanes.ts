/// <reference lib="dom" />
// A browser viewer's lanes: per rendition, a PeerCore fed by a CoreDriver over WebRTC data
// channels that the tracker's WebTorrent-protocol signalling finds; and the channel's record
// (its ladder and HTTP origin) as the channel key signed it.

import { hexToBytes } from '../common/hex.js';
import type { DriverLog } from '../common/log.js';
import type { NodeIdentity } from '../crypto/signatures.js';
import { nobleVerify } from '../crypto/verify-noble.js';
import {
  type ChannelRecord,
  canonicalRecord,
  checkSignedChannelRecord,
  type SignedChannelRecord,
  usableOrigin,
} from '../protocol/channel-record.js';
import { Membership } from '../protocol/membership.js';
import { PeerCore } from '../protocol/peer-core.js';
import { seededRandom } from '../protocol/random.js';
import { CoreDriver } from '../runtime/core-driver.js';
import type { RenditionSpec } from '../runtime/rendition-lanes.js';
import type { NetworkConfig } from '../transport/ice.js';
import { type PeerConnectionLike, signalingUrlOf, WebRtcSignaling, type WebSocketLike } from '../transport/webrtc-signaling.js';

/** Neighbours a browser looks for; it accepts up to the core's maximum. */
const TARGET_PEERS = 6;

/** One rendition's swarm: its core, the driver feeding it WebRTC links, and the signalling that finds them. */
export interface BrowserLane {
  readonly core: PeerCore;
  readonly driver: CoreDriver;
  /** Absent in a browser without WebRTC: the lane then lives on the HTTP origin alone. */
  readonly signaling: WebRtcSignaling | undefined;
  /** Chunks from the HTTP origin: only the base rendition has one. */
  originBytes: number;
  stop(): void;
}

export interface BrowserLaneOptions {
  spec: RenditionSpec;
  index: number;
  identity: NodeIdentity;
  idBytes: Uint8Array;
  trackerUrl: string;
  network: () => NetworkConfig;
  upload: { enabled: boolean; limitBps: number | undefined };
  log: DriverLog;
}

/** A lane joining its rendition's swarm (signalling started). */
export function openBrowserLane(o: BrowserLaneOptions): BrowserLane {
  const channelKey = hexToBytes(o.spec.channelId);
  const seed = new Uint32Array(1);
  crypto.getRandomValues(seed);
  const core = new PeerCore(
    { role: 'viewer', uploadEnabled: o.upload.enabled, uploadLimitBps: o.upload.limitBps, originFallback: o.index === 0 },
    { channelKey, localPeerId: o.idBytes, verify: nobleVerify, random: seededRandom(seed[0] as number) },
  );
  const driver = new CoreDriver(core, { identity: o.identity, verify: nobleVerify, log: o.log });
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
  const signaling = typeof RTCPeerConnection === 'function' ? startSignaling(o, channelKey, driver, membership) : undefined;
  return {
    core,
    driver,
    signaling,
    originBytes: 0,
    stop: () => {
      signaling?.stop();
      driver.stop();
    },
  };
}

/** The WebTorrent-protocol signalling that finds the lane's WebRTC neighbours. */
function startSignaling(o: BrowserLaneOptions, channelKey: Uint8Array, driver: CoreDriver, membership: Membership): WebRtcSignaling {
  const signalingUrls = o.network().signaling;
  const signaling = new WebRtcSignaling({
    trackerUrls: signalingUrls.length > 0 ? signalingUrls : [signalingUrlOf(o.trackerUrl)],
    channelKey,
    peerId: driver.localPeerId,
    createPeerConnection: (config) => new RTCPeerConnection(config) as unknown as PeerConnectionLike,
    createWebSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    iceServers: () => o.network().iceServers,
    noTurnAdvice: 'the site needs a TURN server for viewers behind such NATs (its tracker: --turn)',
    // More neighbours while playback misses chunks: the ones we have do not bring the stream in time.
    wantPeers: () => membership.webrtcWanted(Date.now()),
    accept: () => driver.acceptsIncoming(),
    linkedTo: (signalPeerId) => driver.linkedTo(signalPeerId),
    onConnection: (conn, outbound) => driver.attach(conn, 'webrtc', outbound),
    log: o.log,
    announceIntervalMs: 5000,
  });
  signaling.start();
  return signaling;
}

/**
 * The channel's record from the tracker: only what the channel key signed, so the tracker (or
 * anyone on its path) cannot point the page at another origin. undefined: none (yet).
 */
export async function fetchChannel(
  tracker: URL,
  channelId: string,
): Promise<{ record: ChannelRecord; originUrl: string | undefined } | undefined> {
  const res = await fetch(new URL(`/api/channels/${channelId}`, tracker));
  if (!res.ok) return undefined;
  const body = (await res.json()) as { signed?: unknown };
  if (body.signed === undefined || checkSignedChannelRecord(body.signed, nobleVerify) !== undefined) return undefined;
  const signed = (body.signed as SignedChannelRecord).record;
  if (signed.channelId !== channelId) return undefined;
  const record = canonicalRecord(signed);
  return { record, originUrl: usableOrigin(record.originUrl, location.href) };
}

/** The renditions a record lists, lowest first; without a ladder (or a record), the channel's one stream. */
export function ladderOf(channelId: string, record: ChannelRecord | undefined): RenditionSpec[] {
  return (
    record?.renditions?.map((r) => ({
      name: r.name,
      channelId: r.channelId,
      bitrateBps: r.bitrateBps,
      height: r.height as number | undefined,
    })) ?? [{ name: 'main', channelId, bitrateBps: record?.bitrateBps ?? 0, height: undefined }]
  );
}
