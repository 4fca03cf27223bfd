// Discrete-event simulation of a whole swarm in virtual time, driving the unchanged PeerCore
// (src/protocol/peer-core.ts) for the source and every viewer, in the manner of quinn-proto's
// test Pair: inputs at virtual times, outputs drained after every input, timers at pollTimeout().
// The simulator owns what a runtime owns (tracker, dialling, links, bandwidth, churn) and never
// decides anything about chunks. No clock and no Math.random: a seed fixes the whole run.

import { type Chunk, FLAG_KEYFRAME, signChunk } from '../protocol/chunk.js';
import { MsgType, PEER_ID_BYTES, type WireMessage } from '../protocol/codec.js';
import {
  type CoreEvent,
  DEFAULT_PEER_CORE_CONFIG,
  PeerCore,
  type PeerCoreConfig,
  type PeerId,
  SHORT_SUPPLY_DIAL_FACTOR,
} from '../protocol/peer-core.js';
import { type RandomFn, seededRandom } from '../protocol/random.js';
import { EventQueue } from './event-queue.js';
import { fakeSigner, fakeVerify } from './fake-crypto.js';
import { MsHistogram } from './metrics.js';
import { drawLinkLatencyMs, drawProfiles, type PeerProfile, shuffleInPlace } from './network.js';
import { messageWireBytes } from './wire-size.js';

export interface SimConfig {
  /** Viewers in the audience (N), kept stable under churn. */
  peers: number;
  /** Length of the stream in seconds of virtual time. */
  durationS: number;
  /** Resource index: (source upload + sum of viewers' uploads) / (N x r). */
  rho: number;
  /** Share of viewers that upload nothing, 0..1. */
  freeRiders: number;
  /** Share of the audience leaving per minute without goodbye (0.2 = 20%/min); each is replaced at once. */
  churnPerMin: number;
  /** The audience joins uniformly within this many seconds from the start. @default 10 */
  joinWindowS: number;
  seed: number;
  /** Stream bitrate r. @default 1_000_000 */
  bitrateBps: number;
  /** Media time per chunk; one chunk is cut every chunkMs. @default 250 */
  chunkMs: number;
  /** A keyframe (a chunk playback can start from) every this much media time. @default 1000 */
  keyframeIntervalMs: number;
  /**
   * Source upload capacity in multiples of r, counted in rho: what the broadcaster grants the
   * swarm (its core's upload cap). @default 1.5 (S <= 1.5 is the target; a bigger source mostly
   * serves requests a better-fed swarm would not make)
   */
  sourceUploadFactor: number;
  /** Neighbours a viewer dials up to (it accepts up to the core's maxNeighbours). @default 8 */
  dialTarget: number;
  /** Peers in one tracker answer (the source first). @default 30 */
  trackerAnswerPeers: number;
  /** @default 5000 */
  announceIntervalMs: number;
  /** A departed peer stays listed at the tracker this long after its last announce. @default 15000 */
  trackerPeerTtlMs: number;
  /** A dial to a peer that is gone fails after this. @default 4000 */
  dialTimeoutMs: number;
  /** A neighbour notices a silent departure after a delay drawn uniformly in this range. @default [2000, 6000] */
  leaveDetectMs: [number, number];
  /** Overrides of the core's configuration (tuning experiments). */
  core: Partial<PeerCoreConfig>;
}

export const DEFAULT_SIM_CONFIG: SimConfig = {
  peers: 200,
  durationS: 60,
  rho: 1.25,
  freeRiders: 0.2,
  churnPerMin: 0,
  joinWindowS: 10,
  seed: 1,
  bitrateBps: 1_000_000,
  chunkMs: 250,
  keyframeIntervalMs: 1000,
  sourceUploadFactor: 1.5,
  dialTarget: 8,
  trackerAnswerPeers: 30,
  announceIntervalMs: 5000,
  trackerPeerTtlMs: 15_000,
  dialTimeoutMs: 4000,
  leaveDetectMs: [2000, 6000],
  core: {},
};

export interface PeerResult {
  freeRider: boolean;
  uploadBps: number;
  joinedAtMs: number;
  leftAtMs: number | undefined;
  startupMs: number | undefined;
  continuity: number | undefined;
  mediaBytesOut: number;
}

export interface SimTotals {
  sourceWireBytesOut: number;
  sourceMediaBytesOut: number;
  /** Payload bytes received by viewers for the first time. */
  mediaBytesDelivered: number;
  duplicateBytes: number;
  /** Peer-wire bytes that are not chunk payload (headers, signatures, framing, control). */
  controlBytes: number;
  /** Estimated HTTP bytes of tracker announces and answers. */
  trackerBytes: number;
  freeRiderMediaBytesOut: number;
  events: number;
  misbehaved: number;
  /** Why neighbours were reported, by reason (peer-specific numbers removed). */
  misbehavedReasons: Record<string, number>;
  chunksPublished: number;
}

export interface SimResult {
  config: SimConfig;
  peers: PeerResult[];
  lag: MsHistogram;
  totals: SimTotals;
}

const PUBLISH = 0;
const ARRIVE = 1;
const DELIVER = 2;
const TIMER = 3;
const JOIN = 4;
const ANNOUNCE = 5;
const ANSWER = 6;
const CONNECT = 7;
const DIAL_FAIL = 8;
const DISCONNECT = 9;
const LEAVE = 10;
const UNLIST = 11;

class SimEvent {
  constructor(
    readonly kind: number,
    readonly peer: SimPeer,
    readonly other: SimPeer | undefined,
    readonly msg: WireMessage | undefined,
    /** Kind-specific number: upload finish time, timer time, link latency. */
    readonly x: number,
    readonly bytes: number,
    readonly list: SimPeer[] | undefined,
    /** The connection a message travels on: what was sent on a closed one is never delivered. */
    readonly link = 0,
  ) {}
}

interface SimLink {
  readonly id: number;
  readonly other: SimPeer;
  readonly latencyMs: number;
}

class SimPeer {
  readonly links = new Map<PeerId, SimLink>();
  readonly dialing = new Set<PeerId>();
  alive = true;
  leftAtMs = -1;
  uploadFreeAtMs = 0;
  downloadFreeAtMs = 0;
  timerAtMs = -1;
  listedIndex = -1;
  aliveIndex = -1;
  firstPlayMs = -1;
  startSeq = -1;
  offsetMs = 0;
  onTime: Uint8Array | undefined;
  wireBytesOut = 0;
  mediaBytesOut = 0;

  constructor(
    readonly id: PeerId,
    readonly core: PeerCore,
    readonly profile: PeerProfile,
    readonly joinedAtMs: number,
  ) {}
}

/** Rough HTTP sizes of a tracker announce: request line and headers, JSON bodies (tracker-client.ts). */
const TRACKER_REQUEST_BYTES =
  200 + JSON.stringify({ channelId: '0'.repeat(64), peerId: '0'.repeat(32), port: 40000, role: 'viewer' }).length;
const TRACKER_ANSWER_BASE_BYTES = 150 + JSON.stringify({ intervalMs: 5000, yourAddress: '100.64.123.45', peers: [] }).length;
const TRACKER_ANSWER_PEER_BYTES =
  1 + JSON.stringify({ peerId: '0'.repeat(32), address: '100.64.123.45', port: 40000, role: 'viewer' }).length;

export class Simulator {
  private readonly config: SimConfig;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly random: RandomFn;
  private readonly channelKey: Uint8Array;
  private readonly payload: Uint8Array;
  private readonly sign = fakeSigner();
  private readonly source: SimPeer;
  private readonly all: SimPeer[] = [];
  /** Viewers currently in the swarm (for churn). */
  private readonly aliveViewers: SimPeer[] = [];
  /** Viewers the tracker lists (alive, or gone but not yet expired). */
  private readonly listed: SimPeer[] = [];
  private readonly lag = new MsHistogram(120_000);
  private readonly totals: SimTotals = {
    sourceWireBytesOut: 0,
    sourceMediaBytesOut: 0,
    mediaBytesDelivered: 0,
    duplicateBytes: 0,
    controlBytes: 0,
    trackerBytes: 0,
    freeRiderMediaBytesOut: 0,
    events: 0,
    misbehaved: 0,
    misbehavedReasons: {},
    chunksPublished: 0,
  };
  private readonly chunkCount: number;
  private readonly slackMs: number;
  private nextIndex = 0;
  private nextLinkId = 1;

  constructor(config: Partial<SimConfig>) {
    this.config = { ...DEFAULT_SIM_CONFIG, ...config };
    const c = this.config;
    this.random = seededRandom(mix(c.seed, 0x5eed));
    this.channelKey = new Uint8Array(32).map((_, i) => (mix(c.seed, i) & 0xff) as number);
    this.payload = new Uint8Array(Math.round((c.bitrateBps * c.chunkMs) / 8000));
    this.chunkCount = Math.floor((c.durationS * 1000) / c.chunkMs);
    this.slackMs = c.core.playoutSlackMs ?? DEFAULT_PEER_CORE_CONFIG.playoutSlackMs;
    const profiles = drawProfiles(
      { peers: c.peers, bitrateBps: c.bitrateBps, rho: c.rho, freeRiders: c.freeRiders, sourceUploadFactor: c.sourceUploadFactor },
      seededRandom(mix(c.seed, 0x9f0f11e)),
    );
    this.source = this.newPeer('source', profiles.source, 0);
    const joinRandom = seededRandom(mix(c.seed, 0x10e1));
    for (const profile of profiles.viewers) {
      const p = this.newPeer('viewer', profile, Math.floor(joinRandom() * c.joinWindowS * 1000));
      this.queue.push(p.joinedAtMs, new SimEvent(JOIN, p, undefined, undefined, 0, 0, undefined));
    }
    this.queue.push(0, new SimEvent(ANNOUNCE, this.source, undefined, undefined, 0, 0, undefined));
    for (let seq = 0; seq < this.chunkCount; seq++)
      this.queue.push(seq * c.chunkMs, new SimEvent(PUBLISH, this.source, undefined, undefined, seq, 0, undefined));
    if (c.churnPerMin > 0) this.scheduleLeave(c.joinWindowS * 1000);
  }

  /** Runs the whole stream; `onSecond` is called after every second of virtual time (progress, memory sampling). */
  run(onSecond?: (virtualMs: number) => void): SimResult {
    const endMs = this.config.durationS * 1000;
    const handle = (e: SimEvent, now: number) => this.handle(e, now);
    for (let t = 0; t < endMs; t = Math.min(endMs, t + 1000)) {
      this.queue.run(Math.min(endMs, t + 1000) - 1, handle);
      onSecond?.(t + 1000);
    }
    return this.finish(endMs);
  }

  private newPeer(role: 'source' | 'viewer', profile: PeerProfile, joinedAtMs: number): SimPeer {
    const index = this.nextIndex++;
    const localPeerId = new Uint8Array(PEER_ID_BYTES);
    new DataView(localPeerId.buffer).setUint32(0, index);
    const core = new PeerCore(
      // The runtime grants the core what the simulated user grants: the link's upload as a cap,
      // and no upload at all for a free rider.
      { ...this.config.core, role, uploadEnabled: !profile.freeRider, uploadLimitBps: profile.uploadBytesPerMs * 8000 },
      { channelKey: this.channelKey, localPeerId, verify: fakeVerify, random: seededRandom(mix(this.config.seed, index + 1)) },
    );
    const p = new SimPeer(role === 'source' ? 's' : `v${index}`, core, profile, joinedAtMs);
    this.all.push(p);
    return p;
  }

  private handle(e: SimEvent, now: number): void {
    this.totals.events++;
    const p = e.peer;
    switch (e.kind) {
      case PUBLISH:
        this.publish(e.x, now);
        return;
      case ARRIVE: {
        // The chunk's last byte reached the receiver's access link: queue it on its download.
        const from = e.other as SimPeer;
        if (!p.alive || (!from.alive && e.x > from.leftAtMs) || p.links.get(from.id)?.id !== e.link) return;
        const done = Math.max(now, p.downloadFreeAtMs) + e.bytes / p.profile.downloadBytesPerMs;
        p.downloadFreeAtMs = done;
        this.queue.push(done, new SimEvent(DELIVER, p, from, e.msg, 0, e.bytes, undefined, e.link));
        return;
      }
      case DELIVER: {
        const from = e.other as SimPeer;
        if (!p.alive || p.links.get(from.id)?.id !== e.link) return;
        p.core.handleMessage(now, from.id, e.msg as WireMessage);
        this.drain(p, now);
        return;
      }
      case TIMER:
        if (!p.alive || e.x !== p.timerAtMs) return;
        p.timerAtMs = -1;
        p.core.handleTimeout(now);
        this.drain(p, now);
        return;
      case JOIN:
        p.aliveIndex = this.aliveViewers.push(p) - 1;
        this.announce(p, now);
        return;
      case ANNOUNCE:
        if (p.alive) this.announce(p, now);
        return;
      case ANSWER:
        if (p.alive) this.dialFrom(p, e.list as SimPeer[], now);
        return;
      case CONNECT:
        this.connect(p, e.other as SimPeer, e.x, now);
        return;
      case DIAL_FAIL:
        p.dialing.delete((e.other as SimPeer).id);
        return;
      case DISCONNECT:
        this.disconnect(p, e.other as SimPeer, now);
        return;
      case LEAVE:
        this.churnOne(now);
        return;
      case UNLIST:
        this.unlist(p);
        return;
    }
  }

  private publish(seq: number, now: number): void {
    const c = this.config;
    const chunk: Chunk = signChunk(
      {
        channelKey: this.channelKey,
        seq,
        captureTimeMs: now,
        flags: seq % Math.max(1, Math.round(c.keyframeIntervalMs / c.chunkMs)) === 0 ? FLAG_KEYFRAME : 0,
        payload: this.payload,
      },
      this.sign,
    );
    this.totals.chunksPublished++;
    this.source.core.publish(now, chunk);
    this.drain(this.source, now);
  }

  /** After every input: send what the core queued, record its events, re-arm its timer. */
  private drain(p: SimPeer, now: number): void {
    const core = p.core;
    for (let t = core.pollTransmit(); t !== undefined; t = core.pollTransmit()) this.send(p, t.to, t.msg, now);
    for (let e = core.pollEvent(); e !== undefined; e = core.pollEvent()) this.onCoreEvent(p, e, now);
    const at = core.pollTimeout();
    if (at !== undefined && at !== p.timerAtMs) {
      p.timerAtMs = at;
      this.queue.push(at, new SimEvent(TIMER, p, undefined, undefined, at, 0, undefined));
    }
  }

  /**
   * Control messages go out ahead of queued media (a runtime keeps its own send queue and
   * writes control frames first), so they cost only latency. Chunks wait in the sender's
   * upload queue, serialized at its capacity, then in the receiver's download queue.
   */
  private send(p: SimPeer, to: PeerId, msg: WireMessage, now: number): void {
    const link = p.links.get(to);
    if (link === undefined) return;
    const bytes = messageWireBytes(msg);
    if (msg.type === MsgType.ChunkData) {
      const media = msg.chunk.payload.length;
      if (p.profile.uploadBytesPerMs === 0) {
        // The core was told this peer uploads nothing; if it sends anyway, count it and drop it.
        this.totals.freeRiderMediaBytesOut += media;
        return;
      }
      p.mediaBytesOut += media;
      p.wireBytesOut += bytes;
      if (p.profile.freeRider) this.totals.freeRiderMediaBytesOut += media;
      this.totals.controlBytes += bytes - media;
      const finish = Math.max(now, p.uploadFreeAtMs) + bytes / p.profile.uploadBytesPerMs;
      p.uploadFreeAtMs = finish;
      this.queue.push(finish + link.latencyMs, new SimEvent(ARRIVE, link.other, p, msg, finish, bytes, undefined, link.id));
      return;
    }
    p.wireBytesOut += bytes;
    this.totals.controlBytes += bytes;
    this.queue.push(now + link.latencyMs, new SimEvent(DELIVER, link.other, p, msg, 0, bytes, undefined, link.id));
  }

  private onCoreEvent(p: SimPeer, e: CoreEvent, now: number): void {
    switch (e.type) {
      case 'play': {
        if (p.firstPlayMs < 0) {
          p.firstPlayMs = now;
          p.startSeq = e.chunk.seq;
          // The core's playout: deadline = capture time + (first play - first capture + slack).
          p.offsetMs = now - e.chunk.captureTimeMs + this.slackMs;
          p.onTime = new Uint8Array(Math.max(0, this.chunkCount - p.startSeq));
        }
        this.lag.add(e.lagMs);
        if (!e.late && p.onTime !== undefined) p.onTime[e.chunk.seq - p.startSeq] = 1;
        return;
      }
      case 'misbehaved': {
        // Honest simulated peers never misbehave; if one is reported, the core has a bug.
        this.totals.misbehaved++;
        const reason = e.reason.replace(/\d+/g, 'N');
        this.totals.misbehavedReasons[reason] = (this.totals.misbehavedReasons[reason] ?? 0) + 1;
        const link = p.links.get(e.peer);
        if (link !== undefined) {
          this.disconnect(p, link.other, now);
          this.disconnect(link.other, p, now);
        }
        return;
      }
      default:
        return;
    }
  }

  private announce(p: SimPeer, now: number): void {
    const c = this.config;
    if (p !== this.source && p.listedIndex < 0) p.listedIndex = this.listed.push(p) - 1;
    const answer = p === this.source ? [] : this.trackerSample(p);
    this.totals.trackerBytes += TRACKER_REQUEST_BYTES + TRACKER_ANSWER_BASE_BYTES + answer.length * TRACKER_ANSWER_PEER_BYTES;
    const rttMs = 2 * (p.profile.accessLatencyMs + 10);
    if (answer.length > 0) this.queue.push(now + rttMs, new SimEvent(ANSWER, p, undefined, undefined, 0, 0, answer));
    this.queue.push(now + c.announceIntervalMs, new SimEvent(ANNOUNCE, p, undefined, undefined, 0, 0, undefined));
  }

  /** Like src/tracker/directory.ts: the source while it is listed, then a random sample of viewers. */
  private trackerSample(p: SimPeer): SimPeer[] {
    const want = this.config.trackerAnswerPeers - 1;
    const out: SimPeer[] = [this.source];
    const n = this.listed.length;
    if (n - 1 <= want) {
      const others = this.listed.filter((q) => q !== p);
      shuffleInPlace(others, this.random);
      out.push(...others);
      return out;
    }
    const chosen = new Set<number>();
    while (chosen.size < want) {
      const i = Math.floor(this.random() * n);
      if (this.listed[i] === p || chosen.has(i)) continue;
      chosen.add(i);
      out.push(this.listed[i] as SimPeer);
    }
    return out;
  }

  /** Like SwarmNode.announceTo: dial answered peers until links + dials reach the dial target (doubled while short of supply). */
  private dialFrom(p: SimPeer, candidates: SimPeer[], now: number): void {
    const target = this.config.dialTarget * (p.core.supplyShort(now) ? SHORT_SUPPLY_DIAL_FACTOR : 1);
    for (const q of candidates) {
      if (p.links.size + p.dialing.size >= target || !p.core.acceptsNeighbour()) break;
      if (q === p || p.links.has(q.id) || p.dialing.has(q.id)) continue;
      p.dialing.add(q.id);
      if (!q.alive) {
        this.queue.push(now + this.config.dialTimeoutMs, new SimEvent(DIAL_FAIL, p, q, undefined, 0, 0, undefined));
        continue;
      }
      const latency = drawLinkLatencyMs(p.profile, q.profile, this.random);
      // The TCP handshake takes one round trip before either side can send.
      this.queue.push(now + 2 * latency, new SimEvent(CONNECT, p, q, undefined, latency, 0, undefined));
    }
  }

  private connect(p: SimPeer, q: SimPeer, latencyMs: number, now: number): void {
    if (!q.alive) {
      this.queue.push(now + this.config.dialTimeoutMs, new SimEvent(DIAL_FAIL, p, q, undefined, 0, 0, undefined));
      return;
    }
    p.dialing.delete(q.id);
    if (!p.alive || p.links.has(q.id) || !p.core.acceptsNeighbour() || !q.core.acceptsNeighbour()) return;
    const id = this.nextLinkId++;
    p.links.set(q.id, { id, other: q, latencyMs });
    q.links.set(p.id, { id, other: p, latencyMs });
    p.core.handleConnected(now, q.id);
    q.core.handleConnected(now, p.id);
    this.drain(p, now);
    this.drain(q, now);
  }

  private disconnect(p: SimPeer, gone: SimPeer, now: number): void {
    if (!p.alive || !p.links.delete(gone.id)) return;
    p.core.handleDisconnected(now, gone.id);
    this.drain(p, now);
  }

  private scheduleLeave(afterMs: number): void {
    const ratePerMs = (this.config.churnPerMin * this.config.peers) / 60_000;
    const gap = -Math.log(1 - this.random()) / ratePerMs;
    this.queue.push(afterMs + gap, new SimEvent(LEAVE, this.source, undefined, undefined, 0, 0, undefined));
  }

  /** One viewer leaves without goodbye and a newcomer with the same capacities joins at once. */
  private churnOne(now: number): void {
    this.scheduleLeave(now);
    if (this.aliveViewers.length === 0) return;
    const victim = this.aliveViewers[Math.floor(this.random() * this.aliveViewers.length)] as SimPeer;
    victim.alive = false;
    victim.leftAtMs = now;
    removeAt(this.aliveViewers, victim.aliveIndex, (q, i) => {
      q.aliveIndex = i;
    });
    const [lo, hi] = this.config.leaveDetectMs;
    for (const link of victim.links.values()) {
      this.queue.push(now + lo + (hi - lo) * this.random(), new SimEvent(DISCONNECT, link.other, victim, undefined, 0, 0, undefined));
    }
    this.queue.push(now + this.config.trackerPeerTtlMs, new SimEvent(UNLIST, victim, undefined, undefined, 0, 0, undefined));
    const newcomer = this.newPeer('viewer', victim.profile, now);
    this.queue.push(now, new SimEvent(JOIN, newcomer, undefined, undefined, 0, 0, undefined));
  }

  private unlist(p: SimPeer): void {
    if (p.listedIndex < 0) return;
    removeAt(this.listed, p.listedIndex, (q, i) => {
      q.listedIndex = i;
    });
    p.listedIndex = -1;
  }

  private finish(endMs: number): SimResult {
    const peers: PeerResult[] = [];
    this.totals.sourceWireBytesOut = this.source.wireBytesOut;
    this.totals.sourceMediaBytesOut = this.source.mediaBytesOut;
    for (const p of this.all) {
      if (p === this.source) continue;
      const stats = p.core.getStats();
      this.totals.mediaBytesDelivered += stats.mediaBytesIn;
      this.totals.duplicateBytes += stats.duplicateBytes;
      const until = p.alive ? endMs : p.leftAtMs;
      peers.push({
        freeRider: p.profile.freeRider,
        uploadBps: p.profile.uploadBytesPerMs * 8000,
        joinedAtMs: p.joinedAtMs,
        leftAtMs: p.alive ? undefined : p.leftAtMs,
        startupMs: p.firstPlayMs < 0 ? undefined : p.firstPlayMs - p.joinedAtMs,
        continuity: this.continuity(p, until),
        mediaBytesOut: p.mediaBytesOut,
      });
    }
    return {
      config: this.config,
      peers,
      lag: this.lag,
      totals: { ...this.totals, misbehavedReasons: { ...this.totals.misbehavedReasons } },
    };
  }

  /**
   * DESIGN.md: media time played on time / media time due after startup. A chunk is due once its
   * playout deadline (capture + the offset fixed at the first play) has passed before `untilMs`;
   * undefined when nothing was due yet.
   */
  private continuity(p: SimPeer, untilMs: number): number | undefined {
    if (p.firstPlayMs < 0 || p.onTime === undefined) return undefined;
    const chunkMs = this.config.chunkMs;
    // deadline(seq) = seq * chunkMs + offset <= untilMs
    const lastDue = Math.min(this.chunkCount - 1, Math.floor((untilMs - p.offsetMs) / chunkMs));
    const due = lastDue - p.startSeq + 1;
    if (due <= 0) return undefined;
    let onTime = 0;
    for (let i = 0; i < due; i++) onTime += p.onTime[i] as number;
    return onTime / due;
  }
}

/** Derives a 32-bit seed from a seed and a stream number (splitmix-style). */
export function mix(seed: number, n: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(n >>> 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

function removeAt<T>(items: T[], i: number, moved: (item: T, index: number) => void): void {
  const last = items.pop() as T;
  if (i < items.length) {
    items[i] = last;
    moved(last, i);
  }
}
