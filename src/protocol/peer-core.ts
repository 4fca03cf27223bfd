// The swarm logic of one node (source or viewer), sans I/O in the manner of quinn-proto:
// inputs are handle*(now, ...), outputs are drained with pollTransmit/pollEvent/pollTimeout.
// It never reads a clock, opens a socket or calls Math.random, so the node runtime, the
// browser runtime and the simulator all drive this same code.
//
// Protocol: mesh pull with buffer maps (CoolStreaming/DONet), HAVE announcements for every
// new chunk, earliest-deadline-first requests (./scheduler.ts), and a source that pushes each
// fresh chunk to one neighbour in turn and serves requests only as a last resort.

import { type Chunk, encodedChunkBytes, FLAG_KEYFRAME, type VerifyFn, verifyChunk } from './chunk.js';
import {
  type BufferMapMsg,
  bufferMapSeqs,
  MsgType,
  makeBufferMap,
  NO_SEQ,
  type PeerRole,
  PROTOCOL_VERSION,
  type WireMessage,
} from './codec.js';
import { Playout, type PlayoutAction } from './playout.js';
import type { RandomFn } from './random.js';
import { scheduleRequests } from './scheduler.js';

export type PeerId = string;

export interface PeerCoreConfig {
  role: PeerRole;
  /** Most neighbours kept at once. @default 32 */
  maxNeighbours: number;
  /** Chunks kept for relaying behind the newest one. @default 240 (60 s of 250 ms chunks) */
  windowChunks: number;
  /** Requests outstanding to one neighbour. @default 8 */
  maxPendingPerPeer: number;
  /** A request not answered within this is given up and retried elsewhere. @default 1500 */
  requestTimeoutMs: number;
  /** How long a viewer waits for another viewer to offer a chunk before asking the source. @default 400 */
  sourceGraceMs: number;
  /** A chunk due within this is fetched from anyone, the source included. @default 800 */
  urgentMs: number;
  /** Neighbours the source pushes each fresh chunk to. @default 1 */
  sourcePushFanout: number;
  /** Period of the scheduling and housekeeping timer. @default 100 */
  tickMs: number;
  /** A neighbour that sends no hello within this is dropped. @default 5000 */
  helloTimeoutMs: number;
  /** Playout slack after the start lag before a chunk counts as late. @default 1500 */
  playoutSlackMs: number;
  /** Duration assumed per chunk until measured. @default 250 */
  nominalChunkMs: number;
  /** Advertised chunks further than this ahead of the newest verified one are ignored. @default 40 */
  maxAheadChunks: number;
  /** Requests a neighbour may make per second, sustained. @default 50 */
  requestRatePerS: number;
  /** Requests a neighbour may make in one burst. @default 100 */
  requestBurst: number;
  /** Strikes (advertised-but-missing chunks, unrequested replays) before a neighbour is dropped. @default 6 */
  maxStrikes: number;
  /** The viewer's choice: relay chunks to others at all. @default true */
  uploadEnabled: boolean;
  /** The viewer's cap on relaying, bits per second; undefined: no cap. @default undefined */
  uploadLimitBps: number | undefined;
  /** Ask the runtime to fetch from the broadcaster's HTTP origin a chunk no neighbour offers
   * when it is due within `originUrgentMs`. @default false */
  originFallback: boolean;
  /** @default 700 */
  originUrgentMs: number;
}

export const DEFAULT_PEER_CORE_CONFIG: Omit<PeerCoreConfig, 'role'> = {
  maxNeighbours: 32,
  windowChunks: 240,
  maxPendingPerPeer: 8,
  requestTimeoutMs: 1500,
  sourceGraceMs: 400,
  urgentMs: 800,
  sourcePushFanout: 1,
  tickMs: 100,
  helloTimeoutMs: 5000,
  playoutSlackMs: 1500,
  nominalChunkMs: 250,
  maxAheadChunks: 40,
  requestRatePerS: 50,
  requestBurst: 100,
  maxStrikes: 6,
  uploadEnabled: true,
  uploadLimitBps: undefined,
  originFallback: false,
  originUrgentMs: 700,
};

export interface PeerCoreComponents {
  /** Raw Ed25519 public key of the channel: chunks signed by anything else are refused. */
  channelKey: Uint8Array;
  localPeerId: Uint8Array;
  verify: VerifyFn;
  random: RandomFn;
}

export type CoreEvent =
  | { type: 'hello'; peer: PeerId; peerId: Uint8Array; role: PeerRole }
  /** The peer broke the protocol; the runtime's policy decides what follows (drop, ban). */
  | { type: 'misbehaved'; peer: PeerId; reason: string }
  | { type: 'chunk'; chunk: Chunk; from: PeerId | undefined }
  /** A chunk about to miss its deadline that no neighbour offers: fetch it from the origin. */
  | { type: 'origin-fetch'; seq: number }
  | PlayoutAction;

export interface NeighbourStats {
  peer: PeerId;
  role: PeerRole | 'unknown';
  bytesIn: number;
  bytesOut: number;
  pending: number;
}

export interface CoreStats {
  neighbours: number;
  mediaBytesIn: number;
  mediaBytesInFromSource: number;
  mediaBytesOut: number;
  duplicateBytes: number;
  chunksPlayed: number;
  chunksLate: number;
  chunksSkipped: number;
  mediaMsPlayed: number;
  mediaMsMissed: number;
  lastLagMs: number | undefined;
  newestSeq: number | undefined;
  started: boolean;
}

interface Neighbour {
  readonly peer: PeerId;
  readonly connectedAtMs: number;
  role: PeerRole | undefined;
  /** It relays what it gets (false: upload turned off, so pushing to it helps nobody). */
  relays: boolean;
  has: Set<number>;
  newestKeySeq: number;
  pending: Map<number, number>;
  bytesIn: number;
  bytesOut: number;
  closing: boolean;
  /** Token bucket for the neighbour's requests (flood protection). */
  requestTokens: number;
  tokensAtMs: number;
  /** Consecutive broken promises: chunks it advertised then refused or never sent, unrequested replays. */
  strikes: number;
}

export class PeerCore {
  private readonly config: PeerCoreConfig;
  private readonly neighbours = new Map<PeerId, Neighbour>();
  private readonly store = new Map<number, Chunk>();
  private readonly firstSeen = new Map<number, number>();
  private readonly originAsked = new Set<number>();
  private readonly transmits: { to: PeerId; msg: WireMessage }[] = [];
  private readonly events: CoreEvent[] = [];
  private readonly playout: Playout;
  private newestSeq = -1;
  private newestKnownSeq = -1;
  private newestKeySeq = NO_SEQ;
  private pushCursor = 0;
  private uploadTokens = 0;
  private uploadTokensAtMs = 0;
  private nextTickMs: number | undefined;
  private readonly stats: CoreStats = {
    neighbours: 0,
    mediaBytesIn: 0,
    mediaBytesInFromSource: 0,
    mediaBytesOut: 0,
    duplicateBytes: 0,
    chunksPlayed: 0,
    chunksLate: 0,
    chunksSkipped: 0,
    mediaMsPlayed: 0,
    mediaMsMissed: 0,
    lastLagMs: undefined,
    newestSeq: undefined,
    started: false,
  };

  constructor(
    config: Partial<PeerCoreConfig> & { role: PeerRole },
    private readonly components: PeerCoreComponents,
  ) {
    this.config = { ...DEFAULT_PEER_CORE_CONFIG, ...config };
    this.playout = new Playout({ slackMs: this.config.playoutSlackMs, nominalChunkMs: this.config.nominalChunkMs });
  }

  get role(): PeerRole {
    return this.config.role;
  }

  /** Whether a new neighbour may be added (the runtime refuses connections otherwise). */
  acceptsNeighbour(): boolean {
    return this.neighbours.size < this.config.maxNeighbours;
  }

  neighbourCount(): number {
    return this.neighbours.size;
  }

  handleConnected(nowMs: number, peer: PeerId): void {
    if (this.neighbours.has(peer)) throw new Error(`peer ${peer} already connected`);
    this.neighbours.set(peer, {
      peer,
      connectedAtMs: nowMs,
      role: undefined,
      relays: true,
      has: new Set(),
      newestKeySeq: NO_SEQ,
      pending: new Map(),
      bytesIn: 0,
      bytesOut: 0,
      closing: false,
      requestTokens: this.config.requestBurst,
      tokensAtMs: nowMs,
      strikes: 0,
    });
    this.send(peer, {
      type: MsgType.Hello,
      version: PROTOCOL_VERSION,
      channelKey: this.components.channelKey,
      peerId: this.components.localPeerId,
      role: this.config.role,
      relays: this.config.uploadEnabled,
    });
    this.send(peer, this.bufferMap());
    this.armTick(nowMs);
  }

  handleDisconnected(nowMs: number, peer: PeerId): void {
    if (!this.neighbours.delete(peer)) return;
    this.schedule(nowMs);
  }

  handleMessage(nowMs: number, peer: PeerId, msg: WireMessage): void {
    const n = this.neighbours.get(peer);
    if (n === undefined || n.closing) return;
    if (n.role === undefined && msg.type !== MsgType.Hello) {
      this.misbehaved(n, 'sent a message before its hello');
      return;
    }
    switch (msg.type) {
      case MsgType.Hello:
        if (n.role !== undefined) {
          this.misbehaved(n, 'sent a second hello');
          return;
        }
        if (msg.version !== PROTOCOL_VERSION) {
          this.misbehaved(n, `speaks protocol version ${msg.version}`);
          return;
        }
        if (!equalBytes(msg.channelKey, this.components.channelKey)) {
          this.misbehaved(n, 'is on another channel');
          return;
        }
        n.role = msg.role;
        n.relays = msg.relays !== false;
        this.events.push({ type: 'hello', peer, peerId: msg.peerId, role: msg.role });
        return;
      case MsgType.BufferMap:
        this.onBufferMap(nowMs, n, msg);
        break;
      case MsgType.Have:
        this.noteHas(nowMs, n, msg.seq);
        if ((msg.flags & FLAG_KEYFRAME) !== 0 && (n.newestKeySeq === NO_SEQ || msg.seq > n.newestKeySeq)) n.newestKeySeq = msg.seq;
        break;
      case MsgType.Request:
        this.onRequest(nowMs, n, msg.seq);
        return;
      case MsgType.Reject:
        if (n.pending.delete(msg.seq) && n.has.has(msg.seq)) {
          // It advertised the chunk, we asked, it refused: a broken promise.
          n.has.delete(msg.seq);
          if (this.strike(n, 'refuses chunks it advertised')) return;
        }
        break;
      case MsgType.ChunkData:
        this.onChunk(nowMs, n, msg.chunk);
        break;
      case MsgType.Busy:
        // Not a broken promise: it holds the chunk but will not send it now. Ask someone else.
        n.pending.delete(msg.seq);
        n.has.delete(msg.seq);
        break;
    }
    this.schedule(nowMs);
  }

  handleTimeout(nowMs: number): void {
    if (this.nextTickMs === undefined || nowMs < this.nextTickMs) return;
    this.nextTickMs = nowMs + this.config.tickMs;
    for (const n of this.neighbours.values()) {
      if (n.closing) continue;
      if (n.role === undefined && nowMs - n.connectedAtMs > this.config.helloTimeoutMs) this.misbehaved(n, 'sent no hello in time');
      for (const [seq, sentAt] of n.pending) {
        if (nowMs - sentAt > this.config.requestTimeoutMs) {
          n.pending.delete(seq);
          n.has.delete(seq);
          if (this.strike(n, 'does not deliver chunks it advertised')) break;
        }
      }
    }
    this.schedule(nowMs);
  }

  /** Source only: a freshly cut and signed chunk enters the swarm. */
  publish(nowMs: number, chunk: Chunk): void {
    if (this.config.role !== 'source') throw new Error('only the source publishes chunks');
    this.storeChunk(chunk);
    const ready = [...this.neighbours.values()].filter((n) => n.role === 'viewer' && n.relays && !n.closing);
    const pushTo = new Set<Neighbour>();
    for (let i = 0; i < Math.min(this.config.sourcePushFanout, ready.length); i++) {
      pushTo.add(ready[(this.pushCursor + i) % ready.length] as Neighbour);
    }
    this.pushCursor = (this.pushCursor + pushTo.size) % Math.max(1, ready.length);
    for (const n of this.neighbours.values()) {
      if (n.role === undefined || n.closing) continue;
      if (pushTo.has(n)) this.sendChunk(n, chunk);
      else this.send(n.peer, { type: MsgType.Have, seq: chunk.seq, flags: chunk.flags });
    }
    this.armTick(nowMs);
  }

  pollTransmit(): { to: PeerId; msg: WireMessage } | undefined {
    return this.transmits.shift();
  }

  pollEvent(): CoreEvent | undefined {
    return this.events.shift();
  }

  pollTimeout(): number | undefined {
    return this.nextTickMs;
  }

  getStats(): CoreStats {
    return {
      ...this.stats,
      neighbours: this.neighbours.size,
      newestSeq: this.newestSeq < 0 ? undefined : this.newestSeq,
      started: this.playout.isStarted,
    };
  }

  neighbourStats(): NeighbourStats[] {
    return [...this.neighbours.values()].map((n) => ({
      peer: n.peer,
      role: n.role ?? 'unknown',
      bytesIn: n.bytesIn,
      bytesOut: n.bytesOut,
      pending: n.pending.size,
    }));
  }

  /** Safety margin before the next needed chunk is late (0 before playback). */
  playoutSlackMs(nowMs: number): number {
    return this.playout.slackMs(nowMs);
  }

  private onBufferMap(nowMs: number, n: Neighbour, msg: BufferMapMsg): void {
    n.has.clear();
    for (const seq of bufferMapSeqs(msg)) this.noteHas(nowMs, n, seq);
    n.newestKeySeq = msg.newestKeySeq;
  }

  private noteHas(nowMs: number, n: Neighbour, seq: number): void {
    // Only verified chunks move our window; advertisements far ahead of it are ignored, so a
    // peer cannot make us evict good chunks or chase chunks that do not exist.
    if (seq < this.windowStart() || (this.newestSeq >= 0 && seq > this.newestSeq + this.config.maxAheadChunks)) return;
    if (n.has.size >= this.config.windowChunks + this.config.maxAheadChunks) this.pruneHas(n);
    n.has.add(seq);
    if (!this.firstSeen.has(seq) && this.firstSeen.size < this.config.windowChunks + this.config.maxAheadChunks)
      this.firstSeen.set(seq, nowMs);
    if (seq > this.newestKnownSeq) this.newestKnownSeq = seq;
  }

  private onRequest(nowMs: number, n: Neighbour, seq: number): void {
    const rate = this.config.requestRatePerS / 1000;
    n.requestTokens = Math.min(this.config.requestBurst, n.requestTokens + (nowMs - n.tokensAtMs) * rate);
    n.tokensAtMs = nowMs;
    if (n.requestTokens < 1) {
      this.misbehaved(n, 'floods us with requests');
      return;
    }
    n.requestTokens -= 1;
    const chunk = this.store.get(seq);
    if (chunk === undefined) {
      this.send(n.peer, { type: MsgType.Reject, seq });
      return;
    }
    if (!this.mayUpload(nowMs, chunk.payload.length)) {
      this.send(n.peer, { type: MsgType.Busy, seq });
      return;
    }
    this.sendChunk(n, chunk);
  }

  private onChunk(nowMs: number, n: Neighbour, chunk: Chunk): void {
    if (!equalBytes(chunk.channelKey, this.components.channelKey)) {
      this.misbehaved(n, 'sent a chunk of another channel');
      return;
    }
    const size = chunk.payload.length;
    const requested = n.pending.delete(chunk.seq);
    if (this.config.role === 'source' || this.store.has(chunk.seq) || chunk.seq < this.windowStart()) {
      // Nothing new: no need to spend a signature check on it. Unrequested copies are replays.
      this.stats.duplicateBytes += size;
      if (!requested) this.strike(n, 'replays chunks nobody asked for');
      return;
    }
    if (!verifyChunk(chunk, this.components.verify)) {
      this.misbehaved(n, `sent chunk ${chunk.seq} with an invalid signature`);
      return;
    }
    n.strikes = 0;
    n.has.add(chunk.seq);
    if ((chunk.flags & FLAG_KEYFRAME) !== 0 && (n.newestKeySeq === NO_SEQ || chunk.seq > n.newestKeySeq)) n.newestKeySeq = chunk.seq;
    n.bytesIn += size;
    this.stats.mediaBytesIn += size;
    if (n.role === 'source') this.stats.mediaBytesInFromSource += size;
    this.storeChunk(chunk);
    this.events.push({ type: 'chunk', chunk, from: n.peer });
    // A viewer that does not upload does not advertise either: nobody waits on it.
    if (this.config.uploadEnabled)
      for (const other of this.neighbours.values()) {
        if (other === n || other.role === undefined || other.closing || other.has.has(chunk.seq)) continue;
        this.send(other.peer, { type: MsgType.Have, seq: chunk.seq, flags: chunk.flags });
      }
    this.advancePlayout(nowMs);
  }

  /** A chunk the runtime fetched from the HTTP origin; returns true when it was new and valid. */
  handleOriginChunk(nowMs: number, chunk: Chunk): boolean {
    if (!equalBytes(chunk.channelKey, this.components.channelKey) || this.store.has(chunk.seq) || chunk.seq < this.windowStart())
      return false;
    if (!verifyChunk(chunk, this.components.verify)) return false;
    this.stats.mediaBytesIn += chunk.payload.length;
    this.storeChunk(chunk);
    this.events.push({ type: 'chunk', chunk, from: undefined });
    if (this.config.uploadEnabled) {
      for (const n of this.neighbours.values()) {
        if (n.role !== undefined && !n.closing && !n.has.has(chunk.seq))
          this.send(n.peer, { type: MsgType.Have, seq: chunk.seq, flags: chunk.flags });
      }
    }
    this.advancePlayout(nowMs);
    return true;
  }

  /** A stored chunk (the source's HTTP origin serves from here). */
  getChunk(seq: number): Chunk | undefined {
    return this.store.get(seq);
  }

  /** Changes what this node gives: upload on or off, and a cap in bits per second. */
  setUploadPolicy(enabled: boolean, limitBps: number | undefined): void {
    this.config.uploadEnabled = enabled;
    this.config.uploadLimitBps = limitBps;
    this.uploadTokens = Math.min(this.uploadTokens, this.uploadBurstBytes());
  }

  get uploadPolicy(): { enabled: boolean; limitBps: number | undefined } {
    return { enabled: this.config.uploadEnabled, limitBps: this.config.uploadLimitBps };
  }

  /** Token bucket over payload bytes; a burst of one second of the cap, and at least one chunk. */
  private mayUpload(nowMs: number, bytes: number): boolean {
    if (!this.config.uploadEnabled) return false;
    const limit = this.config.uploadLimitBps;
    if (limit === undefined) return true;
    this.uploadTokens = Math.min(this.uploadBurstBytes(), this.uploadTokens + ((nowMs - this.uploadTokensAtMs) * limit) / 8000);
    this.uploadTokensAtMs = nowMs;
    if (this.uploadTokens < bytes) return false;
    this.uploadTokens -= bytes;
    return true;
  }

  private uploadBurstBytes(): number {
    return Math.max((this.config.uploadLimitBps ?? 0) / 8, 64 * 1024);
  }

  private storeChunk(chunk: Chunk): void {
    this.store.set(chunk.seq, chunk);
    if (chunk.seq > this.newestSeq) this.newestSeq = chunk.seq;
    if (chunk.seq > this.newestKnownSeq) this.newestKnownSeq = chunk.seq;
    if ((chunk.flags & FLAG_KEYFRAME) !== 0 && (this.newestKeySeq === NO_SEQ || chunk.seq > this.newestKeySeq))
      this.newestKeySeq = chunk.seq;
    this.evict();
  }

  /** Oldest chunk kept; it follows verified chunks only, never what peers merely claim. */
  private windowStart(): number {
    return Math.max(0, this.newestSeq - this.config.windowChunks + 1);
  }

  /** Newest chunk worth requesting: what neighbours advertise, bounded ahead of verified data. */
  private requestHorizon(): number {
    return this.newestSeq < 0 ? this.newestKnownSeq : Math.min(this.newestKnownSeq, this.newestSeq + this.config.maxAheadChunks);
  }

  private pruneHas(n: Neighbour): void {
    const start = this.windowStart();
    for (const seq of n.has) if (seq < start) n.has.delete(seq);
    if (n.has.size >= this.config.windowChunks + this.config.maxAheadChunks) n.has.clear();
  }

  /** Counts a broken promise; returns true when the neighbour has used up its strikes and is dropped. */
  private strike(n: Neighbour, reason: string): boolean {
    n.strikes++;
    if (n.strikes < this.config.maxStrikes) return false;
    this.misbehaved(n, reason);
    return true;
  }

  private evict(): void {
    const start = this.windowStart();
    for (const seq of this.store.keys()) if (seq < start) this.store.delete(seq);
    for (const seq of this.firstSeen.keys()) if (seq < start || seq > this.requestHorizon()) this.firstSeen.delete(seq);
    for (const seq of this.originAsked) if (seq < start) this.originAsked.delete(seq);
    if (this.newestKeySeq !== NO_SEQ && this.newestKeySeq < start) this.newestKeySeq = NO_SEQ;
  }

  private schedule(nowMs: number): void {
    if (this.config.role !== 'viewer') return;
    if (!this.playout.isStarted) this.chooseStart();
    this.advancePlayout(nowMs);
    const from = this.playout.nextSeq;
    if (from === undefined) return;
    const neighbours = [...this.neighbours.values()]
      .filter((n) => n.role !== undefined && !n.closing)
      .map((n) => ({
        id: n.peer,
        isSource: n.role === 'source',
        proven: n.bytesIn > 0,
        pendingCount: n.pending.size,
        has: (s: number) => n.has.has(s),
      }));
    const requested = new Set<number>();
    for (const n of this.neighbours.values()) for (const seq of n.pending.keys()) requested.add(seq);
    const plan = scheduleRequests({
      nowMs,
      fromSeq: Math.max(from, this.windowStart()),
      toSeq: this.requestHorizon(),
      isSettled: (s) => this.store.has(s) || requested.has(s),
      firstSeenMs: (s) => this.firstSeen.get(s),
      deadlineMs: (s) => this.playout.deadlineMs(s),
      neighbours,
      maxPendingPerPeer: this.config.maxPendingPerPeer,
      maxNewRequests: 64,
      sourceGraceMs: this.config.sourceGraceMs,
      urgentMs: this.config.urgentMs,
      random: this.components.random,
    });
    for (const { peer, seq } of plan) {
      const n = this.neighbours.get(peer) as Neighbour;
      n.pending.set(seq, nowMs);
      requested.add(seq);
      this.send(peer, { type: MsgType.Request, seq });
    }
    if (this.config.originFallback && this.playout.isStarted) this.askOrigin(nowMs, from, requested);
  }

  /** Last resort: chunks due very soon that no neighbour offers or is sending. */
  private askOrigin(nowMs: number, from: number, requested: Set<number>): void {
    const to = Math.min(this.requestHorizon(), from + this.config.maxAheadChunks);
    for (let seq = from; seq <= to; seq++) {
      if (this.store.has(seq) || requested.has(seq) || this.originAsked.has(seq) || this.offeredByNeighbour(seq)) continue;
      const deadline = this.playout.deadlineMs(seq);
      if (deadline === undefined || deadline - nowMs > this.config.originUrgentMs) break;
      this.originAsked.add(seq);
      this.events.push({ type: 'origin-fetch', seq });
    }
  }

  /**
   * Joins at the newest keyframe chunk the neighbours offer: the lowest lag that can still start
   * cleanly. A claim made by a single neighbour is used only when no two agree, and the choice is
   * revisited while nobody actually offers the chosen chunk, so one liar cannot park the start
   * on a chunk that does not exist.
   */
  private chooseStart(): void {
    const current = this.playout.nextSeq;
    if (current !== undefined && (this.store.has(current) || this.offeredByNeighbour(current))) return;
    const claims = new Map<number, number>();
    for (const n of this.neighbours.values()) {
      if (n.role === undefined || n.closing || n.newestKeySeq === NO_SEQ || n.newestKeySeq < this.windowStart()) continue;
      if (this.newestSeq >= 0 && n.newestKeySeq > this.newestSeq + this.config.maxAheadChunks) continue;
      claims.set(n.newestKeySeq, (claims.get(n.newestKeySeq) ?? 0) + 1);
    }
    const seqs = [...claims.keys()].sort((a, b) => b - a);
    let best = seqs.find((q) => (claims.get(q) as number) >= 2) ?? seqs[0] ?? NO_SEQ;
    if (this.newestKeySeq !== NO_SEQ && (best === NO_SEQ || this.newestKeySeq >= best)) best = this.newestKeySeq;
    if (best !== NO_SEQ && best !== current) this.playout.chooseStart(best);
  }

  private offeredByNeighbour(seq: number): boolean {
    for (const n of this.neighbours.values()) if (!n.closing && n.has.has(seq)) return true;
    return false;
  }

  private advancePlayout(nowMs: number): void {
    if (this.config.role !== 'viewer') return;
    for (const a of this.playout.advance(nowMs, (s) => this.store.get(s), this.newestSeq)) {
      if (a.type === 'play') {
        this.stats.chunksPlayed++;
        this.stats.lastLagMs = a.lagMs;
        if (a.late) {
          this.stats.chunksLate++;
          this.stats.mediaMsMissed += this.playout.chunkMs;
        } else this.stats.mediaMsPlayed += this.playout.chunkMs;
      } else {
        this.stats.chunksSkipped++;
        this.stats.mediaMsMissed += a.mediaMs;
      }
      this.events.push(a);
    }
  }

  private sendChunk(n: Neighbour, chunk: Chunk): void {
    n.bytesOut += chunk.payload.length;
    n.has.add(chunk.seq);
    this.stats.mediaBytesOut += chunk.payload.length;
    this.send(n.peer, { type: MsgType.ChunkData, chunk });
  }

  private bufferMap(): BufferMapMsg {
    const start = this.windowStart();
    const count = this.newestSeq < 0 ? 0 : this.newestSeq - start + 1;
    return makeBufferMap(start, count, (s) => this.config.uploadEnabled && this.store.has(s), this.newestKeySeq);
  }

  private misbehaved(n: Neighbour, reason: string): void {
    n.closing = true;
    for (const seq of n.pending.keys()) n.pending.delete(seq);
    this.events.push({ type: 'misbehaved', peer: n.peer, reason });
  }

  private send(to: PeerId, msg: WireMessage): void {
    this.transmits.push({ to, msg });
  }

  private armTick(nowMs: number): void {
    if (this.nextTickMs === undefined) this.nextTickMs = nowMs + this.config.tickMs;
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Wire size of what a chunk message costs, for rate accounting in runtimes. */
export function chunkWireBytes(chunk: Chunk): number {
  return encodedChunkBytes(chunk) + 1;
}
