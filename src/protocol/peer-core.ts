// The swarm logic of one node (source or viewer), sans I/O in the manner of quinn-proto:
// inputs are handle*(now, ...), outputs are drained with pollTransmit/pollEvent/pollTimeout.
// It never reads a clock, opens a socket or calls Math.random, so the node runtime, the
// browser runtime and the simulator all drive this same code.
//
// Protocol: mesh pull with buffer maps (CoolStreaming/DONet), HAVE announcements for every
// new chunk, earliest-deadline-first requests (./scheduler.ts), and a source that pushes each
// fresh chunk to one relaying neighbour in turn and serves requests only as a last resort.
// With an upload cap the core paces its own uploads (./upload-pacer.ts: requests queue, Busy
// with a retry hint when full) and a viewer hands each fresh chunk pushed to it on to two
// relaying neighbours at once, so pushes run down chains from the source. A chunk that
// arrives takes back (Cancel) the requests still out for it.

import { CHUNK_MS, type Chunk, FLAG_KEYFRAME, verifyChunk } from './chunk.js';
import { ChunkWindow } from './chunk-window.js';
import {
  type BufferMapMsg,
  bufferMapSeqs,
  busyRetryOnWire,
  chunkMessageBytes,
  isSeqMessage,
  MsgType,
  makeBufferMap,
  messageBodyBytes,
  NO_SEQ,
  type PeerRole,
  PROTOCOL_VERSION,
  type WireMessage,
} from './codec.js';
import {
  type CoreEvent,
  type CoreStats,
  DEFAULT_PEER_CORE_CONFIG,
  emptyCoreStats,
  type NeighbourStats,
  type PeerCoreComponents,
  type PeerCoreConfig,
  type PeerId,
} from './core-types.js';
import { FetchRateMeter } from './fetch-rate.js';
import { choosePushTargets } from './fresh-push.js';
import { DEFAULT_SERVICE_MS, Neighbour } from './neighbour.js';
import { Playout } from './playout.js';
import { RequestBook } from './request-book.js';
import { type SchedulerNeighbour, scheduleRequests } from './scheduler.js';
import { chooseStartSeq, offeredBy } from './start-choice.js';
import { BUSY_RETRY_MAX_MS, UploadPacer } from './upload-pacer.js';

/**
 * A neighbour that has done nothing useful since it came may make room for a newcomer after
 * this, sooner than idleEvictMs: squatters take slots and do nothing (meshtv sim --attack
 * slots, 10%: honest continuity p5 0.988 -> 0.991; without attackers p5 0.992 -> 0.993).
 */
const NEVER_ACTIVE_EVICT_MS = 3000;

/** A viewer offered only stale chunks says so again at most this often. */
const NOT_LIVE_REPEAT_MS = 30_000;

/** Weight of the newest sample in a neighbour's service-time average. */
const SERVICE_EWMA_GAIN = 0.25;

/** The first unrequested copy of one of the newest chunks from a neighbour is a crossed push, not a replay. */
const FRESH_PUSH_TOLERANCE_CHUNKS = 2000 / CHUNK_MS;

export class PeerCore {
  private readonly config: PeerCoreConfig;
  private readonly neighbours = new Map<PeerId, Neighbour>();
  /** The same neighbours in the order they came: the hot loops walk an array faster than a map. */
  private readonly neighbourList: Neighbour[] = [];
  private readonly chunks: ChunkWindow;
  private readonly originAsked = new Set<number>();
  private readonly transmits: { to: PeerId; msg: WireMessage }[] = [];
  private readonly events: CoreEvent[] = [];
  private playout: Playout;
  /** When the newest verified chunk was stored (viewers): silence is how a restart shows. */
  private lastNewChunkAtMs: number | undefined;
  /** When playback last skipped a chunk or played one late. */
  private lastMissAtMs: number | undefined;
  /** When the last 'not-live' event went out. */
  private notLiveSaidAtMs = Number.NEGATIVE_INFINITY;
  private readonly fetches = new FetchRateMeter();
  private pushCursor = 0;
  private readonly uploads: UploadPacer<Neighbour>;
  private nextTickMs: number | undefined;
  /** Scratch space of schedule(), reused: it runs after most messages. */
  private readonly schedulerViews: SchedulerNeighbour[] = [];
  /** What each neighbour was asked for, and which chunks are on their way. */
  private readonly requests = new RequestBook();
  private readonly isSettled = (s: number) => this.chunks.has(s) || this.requests.has(s);
  /** Sends a chunk the upload pacer lets go; false when its neighbour left or it was evicted. */
  private readonly sendQueued = (n: Neighbour, seq: number): boolean => {
    const chunk = this.chunks.get(seq);
    if (chunk === undefined || n.closing || this.neighbours.get(n.peer) !== n) return false;
    this.sendChunk(n, chunk);
    return true;
  };
  private readonly firstSeenMs = (s: number) => this.chunks.firstSeenMs(s);
  private readonly deadlineMs = (s: number) => this.playout.deadlineMs(s);
  /** A missing chunk on its way: asked for, or offered by a neighbour we can ask. */
  private readonly awaited = (s: number) => {
    return this.requests.has(s) || offeredBy(this.neighbourList, s);
  };
  private readonly stats: CoreStats = emptyCoreStats();

  constructor(
    config: Partial<PeerCoreConfig> & { role: PeerRole },
    private readonly components: PeerCoreComponents,
  ) {
    this.config = { ...DEFAULT_PEER_CORE_CONFIG, ...config };
    this.playout = this.newPlayout();
    this.uploads = new UploadPacer(this.config);
    this.chunks = new ChunkWindow(this.config);
  }

  /** The stream this core is in (its links carry chunks without it). */
  get channelKey(): Uint8Array {
    return this.components.channelKey;
  }

  get role(): PeerRole {
    return this.config.role;
  }

  /** Whether a new neighbour may be added (the runtime refuses connections otherwise). */
  acceptsNeighbour(): boolean {
    return this.neighbours.size < this.config.maxNeighbours;
  }

  /**
   * When full: the neighbour that has exchanged nothing for longest, if that is over
   * `idleEvictMs`, so the runtime can drop it for a newcomer. Otherwise idle connections
   * (or an attacker's) could keep every newcomer away from the broadcaster for good.
   */
  idleNeighbour(nowMs: number): PeerId | undefined {
    let victim: Neighbour | undefined;
    for (const n of this.neighbourList) {
      // Never active since it came: it may go sooner (a squatter takes a slot and does nothing).
      const limit = n.lastActiveMs === n.connectedAtMs ? Math.min(this.config.idleEvictMs, NEVER_ACTIVE_EVICT_MS) : this.config.idleEvictMs;
      if (n.closing || nowMs - n.lastActiveMs < limit) continue;
      if (victim === undefined || n.lastActiveMs < victim.lastActiveMs) victim = n;
    }
    return victim?.peer;
  }

  neighbourCount(): number {
    return this.neighbours.size;
  }

  handleConnected(nowMs: number, peer: PeerId): void {
    if (this.neighbours.has(peer)) throw new Error(`peer ${peer} already connected`);
    const n = new Neighbour(peer, nowMs, this.config.requestBurst, this.config.messageBudgets);
    this.neighbours.set(peer, n);
    this.neighbourList.push(n);
    this.send(nowMs, peer, {
      type: MsgType.Hello,
      version: PROTOCOL_VERSION,
      channelKey: this.components.channelKey,
      peerId: this.components.localPeerId,
      role: this.config.role,
      relays: this.config.uploadEnabled,
    });
    this.send(nowMs, peer, this.bufferMap());
    this.armTick(nowMs);
  }

  handleDisconnected(nowMs: number, peer: PeerId): void {
    const n = this.neighbours.get(peer);
    if (n === undefined) return;
    this.requests.removeAll(n);
    this.neighbours.delete(peer);
    this.neighbourList.splice(this.neighbourList.indexOf(n), 1);
    this.schedule(nowMs);
  }

  handleMessage(nowMs: number, peer: PeerId, msg: WireMessage): void {
    const n = this.neighbours.get(peer);
    if (n === undefined || n.closing) return;
    if (n.role === undefined && msg.type !== MsgType.Hello) {
      this.misbehaved(n, 'sent a message before its hello');
      return;
    }
    const over = n.budget.charge(nowMs, msg, msg.type === MsgType.ChunkData ? 0 : messageBodyBytes(msg));
    if (over !== undefined) {
      this.misbehaved(n, `floods us with ${over}`);
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
        this.scheduleOne(nowMs, msg.seq);
        return;
      case MsgType.Request:
        this.onRequest(nowMs, n, msg.seq, msg.urgent === true);
        return;
      case MsgType.Reject:
        if (this.requests.remove(n, msg.seq) && n.holds.has(msg.seq)) {
          // It advertised the chunk, we asked, it refused: a broken promise.
          n.holds.delete(msg.seq);
          if (this.strike(n, 'refuses chunks it advertised')) return;
        }
        this.scheduleOne(nowMs, msg.seq);
        return;
      case MsgType.ChunkData:
        this.onChunk(nowMs, n, msg.chunk);
        break;
      case MsgType.Cancel:
        this.onCancel(nowMs, n, msg.seq);
        return;
      case MsgType.Auth:
        // The runtime checks and strips a link's Auth before the core hears of the link's hello.
        return;
      case MsgType.Busy:
        // Not a broken promise: it holds the chunk but will not send it now. Ask someone else,
        // and leave it alone until it expects room (its hint, spread so the askers it turned
        // away come back one by one: a fixed 300 ms left uploads idle that had room sooner,
        // and brought a herd back to those that did not). It still holds the chunk and may
        // be the one with room once the backoff is over (forgetting that left idle uploads
        // idle). The source too: a capped broadcaster answers a newcomer's first burst Busy,
        // and forgotten, a chunk only it held was offered by nobody and skipped. Except a
        // newcomer's start chunk: a busy source is forgotten for it, so the start moves to a
        // keyframe other viewers offer (waiting on a flooded source, newcomers of a flash
        // crowd took 6 s to start in meshtv bench).
        if (this.requests.remove(n, msg.seq)) {
          n.busyUntilMs = nowMs + this.busyBackoff(n, msg.retryMs);
          n.lastActiveMs = nowMs;
        }
        if (n.role === 'source' && !this.playout.isStarted && msg.seq === this.playout.nextSeq) n.holds.delete(msg.seq);
        this.scheduleOne(nowMs, msg.seq);
        return;
    }
    this.schedule(nowMs);
  }

  handleTimeout(nowMs: number): void {
    const wake = this.uploads.wakeMs;
    if (wake !== undefined && nowMs >= wake) this.pumpUploads(nowMs);
    if (this.nextTickMs === undefined || nowMs < this.nextTickMs) return;
    this.nextTickMs = nowMs + this.config.tickMs;
    this.detectRestart(nowMs);
    for (const n of this.neighbourList) {
      if (n.closing) continue;
      if (n.role === undefined && nowMs - n.connectedAtMs > this.config.helloTimeoutMs) this.misbehaved(n, 'sent no hello in time');
      if (n.cancelled.size > 0) for (const [seq, at] of n.cancelled) if (nowMs - at > this.config.requestTimeoutMs) n.cancelled.delete(seq);
      if (n.pending.size === 0) continue;
      for (const [seq, sentAt] of n.pending) {
        if (nowMs - sentAt > this.config.requestTimeoutMs) {
          this.requests.remove(n, seq);
          n.holds.delete(seq);
          // Taken back like a request answered elsewhere: a slow holder need not send it, and a
          // copy that still comes is a duplicate, not a second strike for a replay (at 10,000
          // peers one honest viewer was dropped so).
          n.cancelled.set(seq, nowMs);
          this.send(nowMs, n.peer, { type: MsgType.Cancel, seq });
          if (this.strike(n, 'does not deliver chunks it advertised')) break;
        }
      }
    }
    this.schedule(nowMs);
  }

  /** Source only: a freshly cut and signed chunk enters the swarm. */
  publish(nowMs: number, chunk: Chunk): void {
    if (this.config.role !== 'source') throw new Error('only the source publishes chunks');
    this.storeChunk(nowMs, chunk);
    const ready = this.neighbourList.filter((n) => n.role === 'viewer' && n.relays && !n.closing);
    const pushTo = new Set<Neighbour>();
    for (let i = 0; i < Math.min(this.config.sourcePushFanout, ready.length); i++) {
      pushTo.add(ready[(this.pushCursor + i) % ready.length] as Neighbour);
    }
    this.pushCursor = (this.pushCursor + pushTo.size) % Math.max(1, ready.length);
    for (const n of this.neighbourList) {
      if (n.closing) continue;
      // A push counts as activity: the source cannot see whether its neighbour relays what it
      // is pushed, and evicting push-fed relays for every newcomer would churn the very
      // links the swarm's supply starts on (docs/security.md says what that leaves open).
      if (pushTo.has(n)) {
        n.lastActiveMs = nowMs;
        this.queueUpload(n, chunk, true);
      } else this.send(nowMs, n.peer, { type: MsgType.Have, seq: chunk.seq, flags: chunk.flags });
    }
    this.pumpUploads(nowMs);
    this.armTick(nowMs);
  }

  pollTransmit(): { to: PeerId; msg: WireMessage } | undefined {
    return this.transmits.shift();
  }

  pollEvent(): CoreEvent | undefined {
    return this.events.shift();
  }

  pollTimeout(): number | undefined {
    const wake = this.uploads.wakeMs;
    if (wake === undefined) return this.nextTickMs;
    if (this.nextTickMs === undefined) return wake;
    return Math.min(this.nextTickMs, wake);
  }

  getStats(): CoreStats {
    return {
      ...this.stats,
      neighbours: this.neighbours.size,
      newestSeq: this.chunks.newest < 0 ? undefined : this.chunks.newest,
      started: this.playout.isStarted,
      lastChunkAtMs: this.lastNewChunkAtMs,
      lastMissAtMs: this.lastMissAtMs,
    };
  }

  neighbourStats(): NeighbourStats[] {
    return this.neighbourList.map((n) => ({
      peer: n.peer,
      role: n.role ?? 'unknown',
      bytesIn: n.bytesIn,
      bytesOut: n.bytesOut,
      pending: n.pending.size,
    }));
  }

  /** Whether a neighbour said it is the channel's source. */
  hasSourceNeighbour(): boolean {
    for (const n of this.neighbourList) if (n.role === 'source') return true;
    return false;
  }

  /**
   * Whether this viewer missed media lately (a skip or a late chunk within shortSupplyMs): its
   * neighbours do not bring it the stream in time, and the runtime should look for more of
   * them. A viewer stuck with a few weak neighbours otherwise stays short for good.
   */
  supplyShort(nowMs: number): boolean {
    return this.lastMissAtMs !== undefined && nowMs - this.lastMissAtMs < this.config.shortSupplyMs;
  }

  /** What this viewer's download carries, as far as fetches show, bit/s (see FetchRateMeter.rate). */
  fetchRate(): { peakBps: number | undefined; samples: number } {
    return this.fetches.rate();
  }

  /** Safety margin before the next needed chunk is late (0 before playback). */
  playoutSlackMs(nowMs: number): number {
    return this.playout.slackMs(nowMs);
  }

  private onBufferMap(nowMs: number, n: Neighbour, msg: BufferMapMsg): void {
    n.holds.clear();
    for (const seq of bufferMapSeqs(msg)) this.noteHas(nowMs, n, seq);
    n.newestKeySeq = msg.newestKeySeq;
  }

  private noteHas(nowMs: number, n: Neighbour, seq: number): void {
    // Only verified chunks move our window; advertisements far ahead of it are ignored, so a
    // peer cannot make us evict good chunks or chase chunks that do not exist.
    if (!this.chunks.inReach(seq)) return;
    if (n.holds.size >= this.config.windowChunks + this.config.maxAheadChunks) this.pruneHas(n);
    n.holds.add(seq);
    this.chunks.noteOffered(seq, nowMs);
  }

  private onRequest(nowMs: number, n: Neighbour, seq: number, urgent: boolean): void {
    const rate = this.config.requestRatePerS / 1000;
    n.requestTokens = Math.min(this.config.requestBurst, n.requestTokens + (nowMs - n.tokensAtMs) * rate);
    n.tokensAtMs = nowMs;
    if (n.requestTokens < 1) {
      this.misbehaved(n, 'floods us with requests');
      return;
    }
    n.requestTokens -= 1;
    const chunk = this.chunks.get(seq);
    if (chunk === undefined) {
      // Asking for what we do not hold is no activity: a link that only does that is idle.
      this.send(nowMs, n.peer, { type: MsgType.Reject, seq });
      return;
    }
    n.lastActiveMs = nowMs;
    // Sent it already (or it says it holds it): asking again would make us upload one chunk
    // over and over, which is how one peer could multiply the broadcaster's upload.
    if (n.holds.has(seq)) {
      this.send(nowMs, n.peer, { type: MsgType.Busy, seq, retryMs: busyRetryOnWire(this.config.busyBackoffMs) });
      return;
    }
    // An urgent request (its asker is about to stall) goes ahead of the queue, and is taken
    // a little past the queue's usual length.
    const room = this.uploads.roomInMs(nowMs);
    if (!this.config.uploadEnabled || room > (urgent ? this.config.urgentBacklogMs : 0)) {
      this.send(nowMs, n.peer, { type: MsgType.Busy, seq, retryMs: busyRetryOnWire(room) });
      return;
    }
    this.queueUpload(n, chunk, urgent);
    this.pumpUploads(nowMs);
  }

  private onChunk(nowMs: number, n: Neighbour, chunk: Chunk): void {
    if (!equalBytes(chunk.channelKey, this.components.channelKey)) {
      this.misbehaved(n, 'sent a chunk of another channel');
      return;
    }
    const size = chunk.payload.length;
    const askedAt = n.pending.get(chunk.seq);
    const requested = this.requests.remove(n, chunk.seq);
    if (askedAt !== undefined) {
      const took = nowMs - askedAt;
      n.serviceMs = n.serviceMs === undefined ? took : n.serviceMs + SERVICE_EWMA_GAIN * (took - n.serviceMs);
    }
    this.fetches.noteArrival(nowMs, size, askedAt);
    if (this.config.role === 'source' || this.chunks.has(chunk.seq) || chunk.seq < this.chunks.start()) {
      // Nothing new: no need to spend a signature check on it. Unrequested copies are replays,
      // except the first copy of a fresh chunk from a neighbour not known to hold it: a push
      // that crossed our request elsewhere.
      this.stats.duplicateBytes += size;
      const crossedPush = !n.holds.has(chunk.seq) && chunk.seq + FRESH_PUSH_TOLERANCE_CHUNKS >= this.chunks.newest;
      const wasCancelled = n.cancelled.delete(chunk.seq);
      n.holds.add(chunk.seq);
      if (!requested && !crossedPush && !wasCancelled) this.strike(n, 'replays chunks nobody asked for');
      return;
    }
    if (!verifyChunk(chunk, this.components.verify)) {
      this.misbehaved(n, `sent chunk ${chunk.seq} with an invalid signature`);
      return;
    }
    n.lastActiveMs = nowMs;
    if (this.startsNewRun(chunk)) this.restart();
    n.strikes = 0;
    n.holds.add(chunk.seq);
    if ((chunk.flags & FLAG_KEYFRAME) !== 0 && (n.newestKeySeq === NO_SEQ || chunk.seq > n.newestKeySeq)) n.newestKeySeq = chunk.seq;
    n.bytesIn += size;
    this.stats.mediaBytesIn += size;
    if (n.role === 'source') this.stats.mediaBytesInFromSource += size;
    // Only a chunk that was pushed to us is pushed on (see pushFresh).
    this.accept(nowMs, chunk, n, !requested);
  }

  /**
   * A new verified chunk, from neighbour `from` or the origin: stored, requests still out for it
   * taken back, announced to the neighbours lacking it, handed to playout.
   */
  private accept(nowMs: number, chunk: Chunk, from: Neighbour | undefined, pushOn: boolean): void {
    const fresh = chunk.seq > this.chunks.newest;
    this.storeChunk(nowMs, chunk);
    if (this.requests.has(chunk.seq)) this.cancelRequests(nowMs, chunk.seq);
    this.events.push({ type: 'chunk', chunk, from: from?.peer });
    // A viewer that does not upload does not advertise either: nobody waits on it.
    if (this.config.uploadEnabled) {
      if (pushOn && fresh && this.uploads.paced) this.pushFresh(chunk);
      // Neighbours whose hello is still on its way are told too: our hello and buffer map went
      // ahead of this on the link, and a chunk that arrived in between was otherwise never
      // advertised to them (a newcomer skipped it soon after starting).
      for (const other of this.neighbourList) {
        if (other === from || other.closing || other.holds.has(chunk.seq)) continue;
        this.send(nowMs, other.peer, { type: MsgType.Have, seq: chunk.seq, flags: chunk.flags });
      }
      this.pumpUploads(nowMs);
    }
    this.advancePlayout(nowMs);
  }

  /**
   * Hands a fresh chunk on to a few relaying neighbours that lack it (fresh-push.ts). Only
   * chunks that came unasked (from the source's push, or a viewer's) are pushed on, so pushes
   * run down chains from the source, ahead of the HAVEs. A viewer that pulled a chunk pushed it
   * too, to neighbours that had mostly asked for it elsewhere meanwhile: nearly all duplicates
   * were such crossed pushes. At 10,000 peers, chains of two pushes per step against one push
   * from every new holder: duplicates 0.91% -> 0.12%, lag p50 2.95 -> 2.78 s, continuity p5
   * 0.984 -> 0.986 (docs/architecture.md has the alternatives).
   */
  private pushFresh(chunk: Chunk): void {
    const c = this.config;
    const targets = choosePushTargets(this.neighbourList, chunk.seq, c.freshPushFanout, c.pushMaxHolderShare, this.components.random);
    // Each push goes ahead of the queue: queued last to first, the fastest leaves first.
    for (let i = targets.length - 1; i >= 0; i--) this.queueUpload(targets[i] as Neighbour, chunk, true);
  }

  /** The chunk came (or playback skipped it): take back the requests for it still out. */
  private cancelRequests(nowMs: number, seq: number): void {
    for (const o of this.neighbourList) {
      if (!this.requests.remove(o, seq)) continue;
      o.cancelled.set(seq, nowMs);
      this.send(nowMs, o.peer, { type: MsgType.Cancel, seq });
    }
  }

  /** A neighbour takes back a request: drop its chunk from our upload queue if it has not left. */
  private onCancel(nowMs: number, n: Neighbour, seq: number): void {
    if (!this.uploads.cancel(n, seq)) return;
    this.stats.uploadsCancelled++;
    this.pumpUploads(nowMs);
  }

  /** A chunk the runtime fetched from the HTTP origin; returns true when it was new and valid. */
  handleOriginChunk(nowMs: number, chunk: Chunk): boolean {
    if (!equalBytes(chunk.channelKey, this.components.channelKey) || this.chunks.has(chunk.seq) || chunk.seq < this.chunks.start())
      return false;
    if (!verifyChunk(chunk, this.components.verify)) return false;
    if (this.startsNewRun(chunk)) this.restart();
    this.stats.mediaBytesIn += chunk.payload.length;
    this.accept(nowMs, chunk, undefined, false);
    return true;
  }

  /** A stored chunk (the source's HTTP origin serves from here). */
  getChunk(seq: number): Chunk | undefined {
    return this.chunks.get(seq);
  }

  /** Changes what this node gives: upload on or off, and a cap in bits per second. */
  setUploadPolicy(enabled: boolean, limitBps: number | undefined): void {
    this.config.uploadEnabled = enabled;
    this.config.uploadLimitBps = limitBps;
  }

  get uploadPolicy(): { enabled: boolean; limitBps: number | undefined } {
    return { enabled: this.config.uploadEnabled, limitBps: this.config.uploadLimitBps };
  }

  /** Unpaced: the chunk goes to the runtime at once. Paced: it waits its turn (pushes go first). */
  private queueUpload(n: Neighbour, chunk: Chunk, first: boolean): void {
    if (!this.uploads.paced) {
      this.sendChunk(n, chunk);
      return;
    }
    n.holds.add(chunk.seq);
    this.uploads.enqueue(n, chunk.seq, chunkMessageBytes(chunk), first);
  }

  /** Paced uploads: hands queued chunks to the runtime as the cap allows. */
  private pumpUploads(nowMs: number): void {
    this.uploads.pump(nowMs, this.sendQueued);
  }

  private storeChunk(nowMs: number, chunk: Chunk): void {
    if (chunk.seq > this.chunks.newest) this.lastNewChunkAtMs = nowMs;
    this.chunks.add(chunk);
    const start = this.chunks.start();
    for (const seq of this.originAsked) if (seq < start) this.originAsked.delete(seq);
  }

  /**
   * A restarted broadcaster numbers its chunks from its clock, far past where it stopped, and
   * our window ignores claims that far ahead. When nothing new has come for a while and a
   * neighbour offers a keyframe chunk beyond the window, the channel restarted: start over
   * from there, as a newcomer would (the new chunks are verified like any others, so a liar
   * can at most restart a stream that had already stopped).
   */
  private detectRestart(nowMs: number): void {
    if (this.config.role !== 'viewer' || !this.playout.isStarted || this.lastNewChunkAtMs === undefined) return;
    if (nowMs - this.lastNewChunkAtMs < this.config.restartSilenceMs) return;
    let ahead = false;
    for (const n of this.neighbourList) {
      if (!n.closing && n.newestKeySeq !== NO_SEQ && this.chunks.beyondReach(n.newestKeySeq)) ahead = true;
    }
    if (ahead) this.restart();
  }

  /**
   * Whether a verified chunk belongs to a new run of the broadcaster that playback has not
   * reached: flagged as a run's first chunk, or numbered far past our window (its numbers jumped).
   */
  private startsNewRun(chunk: Chunk): boolean {
    if (!this.playout.isStarted) return false;
    return this.chunks.beyondReach(chunk.seq) || this.playout.beginsNewRun(chunk);
  }

  /** Starts over as a newcomer: the channel's numbering jumped (a broadcaster restart). */
  private restart(): void {
    this.chunks.clear();
    this.originAsked.clear();
    this.lastNewChunkAtMs = undefined;
    for (const n of this.neighbourList) {
      this.requests.removeAll(n);
      n.holds.clear();
    }
    // Back on a restarted broadcaster, the swarm is formed already: resume at once.
    this.playout = this.newPlayout(0);
    this.events.push({ type: 'restarted' });
  }

  private newPlayout(minStartLagMs = this.config.minStartLagMs): Playout {
    const c = this.config;
    return new Playout({
      slackMs: c.playoutSlackMs,
      nominalChunkMs: c.nominalChunkMs,
      maxLagMs: c.maxPlayoutLagMs,
      minStartLagMs,
      maxStartAgeMs: c.maxStartAgeMs,
    });
  }

  private pruneHas(n: Neighbour): void {
    const start = this.chunks.start();
    n.holds.deleteBelow(start);
    if (n.holds.size >= this.config.windowChunks + this.config.maxAheadChunks) n.holds.clear();
  }

  /** Counts a broken promise; returns true when the neighbour has used up its strikes and is dropped. */
  private strike(n: Neighbour, reason: string): boolean {
    n.strikes++;
    if (n.strikes < this.config.maxStrikes) return false;
    this.misbehaved(n, reason);
    return true;
  }

  private schedule(nowMs: number): void {
    if (this.config.role !== 'viewer') return;
    if (!this.playout.isStarted) this.chooseStart();
    this.advancePlayout(nowMs);
    const from = this.playout.nextSeq;
    if (from === undefined) return;
    this.requestPlan(nowMs, Math.max(from, this.chunks.start()), this.chunks.horizon());
    if (this.config.originFallback && this.playout.isStarted) this.askOrigin(nowMs, from);
  }

  /**
   * After a HAVE, Busy or Reject about one chunk, only that chunk can have a new holder to ask:
   * plan it alone (a full schedule after every such message was most of a swarm's CPU time).
   */
  private scheduleOne(nowMs: number, seq: number): void {
    if (this.config.role !== 'viewer' || !this.playout.isStarted) {
      this.schedule(nowMs);
      return;
    }
    const from = this.playout.nextSeq as number;
    if (seq < Math.max(from, this.chunks.start()) || seq > this.chunks.horizon() || this.chunks.has(seq)) return;
    if (this.requests.has(seq)) return;
    this.requestPlan(nowMs, seq, seq);
  }

  /** Asks neighbours for the chunks in [fromSeq, toSeq] that the scheduler picks. */
  private requestPlan(nowMs: number, fromSeq: number, toSeq: number): void {
    const neighbours = this.schedulerViews;
    neighbours.length = 0;
    // Planning one chunk (after a HAVE), only its holders matter: the scheduler skips the rest.
    const one = fromSeq === toSeq ? fromSeq : undefined;
    for (const n of this.neighbourList)
      if (n.role !== undefined && !n.closing && n.busyUntilMs <= nowMs && (one === undefined || n.holds.has(one))) neighbours.push(n);
    if (neighbours.length === 0) return;
    const plan = scheduleRequests({
      nowMs,
      fromSeq,
      toSeq,
      isSettled: this.isSettled,
      firstSeenMs: this.firstSeenMs,
      deadlineMs: this.deadlineMs,
      neighbours,
      maxPendingPerPeer: this.config.maxPendingPerPeer,
      maxNewRequests: 64,
      sourceGraceMs: this.config.sourceGraceMs,
      urgentMs: this.config.urgentMs,
      defaultServiceMs: DEFAULT_SERVICE_MS,
      random: this.components.random,
    });
    // Only a viewer in its first urgentJoinMs of playback flags requests urgent.
    const joining = nowMs - (this.playout.startedAtMs ?? nowMs) < this.config.urgentJoinMs;
    for (const { peer, seq } of plan) {
      this.requests.add(this.neighbours.get(peer) as Neighbour, seq, nowMs);
      const deadline = this.playout.deadlineMs(seq);
      const urgent = joining && deadline !== undefined && deadline - nowMs < this.config.urgentRequestMs;
      this.send(nowMs, peer, urgent ? { type: MsgType.Request, seq, urgent } : { type: MsgType.Request, seq });
    }
  }

  /** Last resort: chunks due very soon that no neighbour offers or is sending. */
  private askOrigin(nowMs: number, from: number): void {
    // Not bounded by what neighbours advertise: with no neighbour at all, a chunk whose deadline
    // is this close was captured long enough ago that the origin holds it.
    for (let seq = from; seq <= from + this.config.maxAheadChunks; seq++) {
      if (this.chunks.has(seq) || this.requests.has(seq) || this.originAsked.has(seq) || offeredBy(this.neighbourList, seq)) continue;
      const deadline = this.playout.deadlineMs(seq);
      if (deadline === undefined || deadline - nowMs > this.config.originUrgentMs) break;
      this.originAsked.add(seq);
      this.events.push({ type: 'origin-fetch', seq });
    }
  }

  /**
   * Joins at the newest keyframe chunk the neighbours offer (start-choice.ts); past a start
   * found too old to play, only a newer one.
   */
  private chooseStart(): void {
    const stale = this.playout.staleStart?.seq;
    const current = this.playout.nextSeq;
    const seq = chooseStartSeq(current === stale ? undefined : current, this.neighbourList, this.chunks);
    if (seq !== undefined && (stale === undefined || seq > stale)) this.playout.chooseStart(seq);
  }

  private advancePlayout(nowMs: number): void {
    if (this.config.role !== 'viewer') return;
    const staleBefore = this.playout.staleStart;
    const actions = this.playout.advance(nowMs, (s) => this.chunks.get(s), this.chunks.newest, this.awaited);
    const stale = this.playout.staleStart;
    // Said once, and again at most every NOT_LIVE_REPEAT_MS while newer stale starts come.
    if (stale !== undefined && stale !== staleBefore && !(nowMs - this.notLiveSaidAtMs < NOT_LIVE_REPEAT_MS)) {
      this.notLiveSaidAtMs = nowMs;
      this.events.push({ type: 'not-live', seq: stale.seq, ageMs: stale.ageMs });
    }
    for (const a of actions) {
      if (a.type === 'play') {
        this.stats.chunksPlayed++;
        this.stats.lastLagMs = a.lagMs;
        if (a.late) {
          this.lastMissAtMs = nowMs;
          this.stats.chunksLate++;
          this.stats.mediaMsMissed += this.playout.chunkMs;
        } else this.stats.mediaMsPlayed += this.playout.chunkMs;
      } else {
        // A request still out for a skipped chunk would only spend the holder's upload on a
        // copy nobody plays (3 per mille of what viewers received at rho 1.05).
        if (this.requests.has(a.seq)) this.cancelRequests(nowMs, a.seq);
        this.lastMissAtMs = nowMs;
        this.stats.chunksSkipped++;
        this.stats.mediaMsMissed += a.mediaMs;
      }
      this.events.push(a);
    }
  }

  private sendChunk(n: Neighbour, chunk: Chunk): void {
    n.bytesOut += chunk.payload.length;
    n.holds.add(chunk.seq);
    this.stats.mediaBytesOut += chunk.payload.length;
    this.transmits.push({ to: n.peer, msg: { type: MsgType.ChunkData, chunk } });
  }

  private bufferMap(): BufferMapMsg {
    const start = this.chunks.start();
    const count = this.chunks.newest < 0 ? 0 : this.chunks.newest - start + 1;
    return makeBufferMap(start, count, (s) => this.config.uploadEnabled && this.chunks.has(s), this.chunks.newestKey);
  }

  /**
   * How long to leave a neighbour alone after its Busy: until it expects room, spread over up to
   * twice that, so the askers it turned away do not all come back at the same moment. The
   * source, the last resort, no sooner than busyBackoffMs: asked back at its hint, its Busy
   * answers alone came to 4% of a copy of the stream at 10,000 peers (S 1.52 -> 1.57).
   */
  private busyBackoff(n: Neighbour, retryMs: number): number {
    const floor = n.role === 'source' ? this.config.busyBackoffMs : 0;
    const hint = Math.max(floor, Math.min(BUSY_RETRY_MAX_MS, retryMs));
    return hint * (1 + this.components.random());
  }

  private misbehaved(n: Neighbour, reason: string): void {
    n.closing = true;
    this.requests.removeAll(n);
    this.events.push({ type: 'misbehaved', peer: n.peer, reason });
  }

  /** Queues a message for the runtime; a control message is counted against the upload cap. */
  private send(nowMs: number, to: PeerId, msg: WireMessage): void {
    if (msg.type !== MsgType.ChunkData && this.uploads.paced) {
      // As the codec sends it on a link that is under way (a number as a step of 0 from itself)
      // and the transport frames it.
      const body = messageBodyBytes(msg, isSeqMessage(msg) ? msg : undefined);
      this.uploads.charge(nowMs, this.components.wireBytes?.(body) ?? body);
    }
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
