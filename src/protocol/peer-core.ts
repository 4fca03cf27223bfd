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
//
// PeerCore itself only dispatches inputs and holds the output queues. The rules a neighbour
// must keep are in ./neighbour-rules.ts, the upload side in ./serving.ts, requests and
// playback in ./fetching.ts, arriving chunks in ./intake.ts, shared state in ./core-state.ts.

import type { Chunk } from './chunk.js';
import { type HelloMsg, MsgType, type PeerRole, PROTOCOL_VERSION, type WireMessage } from './codec.js';
import { CoreState } from './core-state.js';
import {
  type CoreEvent,
  type CoreStats,
  DEFAULT_PEER_CORE_CONFIG,
  type NeighbourStats,
  type PeerCoreComponents,
  type PeerCoreConfig,
  type PeerId,
} from './core-types.js';
import { Fetching } from './fetching.js';
import { Intake } from './intake.js';
import { Neighbour } from './neighbour.js';
import { admitMessage, checkHello, helloOverdue, idleVictim } from './neighbour-rules.js';
import { Serving } from './serving.js';

export class PeerCore {
  private readonly config: PeerCoreConfig;
  private readonly state: CoreState;
  private readonly serving: Serving;
  private readonly fetching: Fetching;
  private readonly intake: Intake;
  private nextTickMs: number | undefined;

  constructor(
    config: Partial<PeerCoreConfig> & { role: PeerRole },
    private readonly components: PeerCoreComponents,
  ) {
    this.config = { ...DEFAULT_PEER_CORE_CONFIG, ...config };
    this.state = new CoreState(this.config, components);
    this.serving = new Serving(this.state);
    this.fetching = new Fetching(this.state);
    this.intake = new Intake(this.state, this.fetching, this.serving);
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
    return this.state.neighbours.size < this.config.maxNeighbours;
  }

  /**
   * When full: the neighbour that has exchanged nothing for longest, if that is over
   * `idleEvictMs`, so the runtime can drop it for a newcomer. Otherwise idle connections
   * (or an attacker's) could keep every newcomer away from the broadcaster for good.
   */
  idleNeighbour(nowMs: number): PeerId | undefined {
    return idleVictim(this.state.neighbourList, nowMs, this.config)?.peer;
  }

  neighbourCount(): number {
    return this.state.neighbours.size;
  }

  handleConnected(nowMs: number, peer: PeerId): void {
    if (this.state.neighbours.has(peer)) throw new Error(`peer ${peer} already connected`);
    this.state.addNeighbour(new Neighbour(peer, nowMs, this.config.requestBurst, this.config.messageBudgets));
    this.state.send(nowMs, peer, {
      type: MsgType.Hello,
      version: PROTOCOL_VERSION,
      channelKey: this.components.channelKey,
      peerId: this.components.localPeerId,
      role: this.config.role,
      relays: this.config.uploadEnabled,
    });
    this.state.send(nowMs, peer, this.state.bufferMap());
    this.armTick(nowMs);
  }

  handleDisconnected(nowMs: number, peer: PeerId): void {
    const n = this.state.neighbours.get(peer);
    if (n === undefined) return;
    this.state.removeNeighbour(n);
    this.fetching.schedule(nowMs);
  }

  handleMessage(nowMs: number, peer: PeerId, msg: WireMessage): void {
    const n = this.state.neighbours.get(peer);
    if (n === undefined || n.closing) return;
    const refused = admitMessage(n, nowMs, msg);
    if (refused !== undefined) {
      this.state.misbehaved(n, refused);
      return;
    }
    switch (msg.type) {
      case MsgType.Hello:
        this.onHello(n, msg);
        return;
      case MsgType.BufferMap:
        this.state.onBufferMap(nowMs, n, msg);
        break;
      case MsgType.Have:
        this.fetching.onHave(nowMs, n, msg);
        return;
      case MsgType.Request:
        this.serving.onRequest(nowMs, n, msg.seq, msg.urgent === true);
        return;
      case MsgType.Reject:
        this.fetching.onReject(nowMs, n, msg.seq);
        return;
      case MsgType.ChunkData:
        this.intake.onChunk(nowMs, n, msg.chunk);
        break;
      case MsgType.Cancel:
        this.serving.onCancel(nowMs, n, msg.seq);
        return;
      case MsgType.Auth:
        // The runtime checks and strips a link's Auth before the core hears of the link's hello.
        return;
      case MsgType.Busy:
        this.fetching.onBusy(nowMs, n, msg.seq, msg.retryMs);
        return;
    }
    this.fetching.schedule(nowMs);
  }

  handleTimeout(nowMs: number): void {
    const wake = this.state.uploads.wakeMs;
    if (wake !== undefined && nowMs >= wake) this.serving.pump(nowMs);
    if (this.nextTickMs === undefined || nowMs < this.nextTickMs) return;
    this.nextTickMs = nowMs + this.config.tickMs;
    this.fetching.detectRestart(nowMs);
    for (const n of this.state.neighbourList) {
      if (n.closing) continue;
      const silent = helloOverdue(n, nowMs, this.config);
      if (silent !== undefined) this.state.misbehaved(n, silent);
      this.fetching.expireRequests(nowMs, n);
    }
    this.fetching.schedule(nowMs);
  }

  /** Source only: a freshly cut and signed chunk enters the swarm. */
  publish(nowMs: number, chunk: Chunk): void {
    if (this.config.role !== 'source') throw new Error('only the source publishes chunks');
    this.fetching.store(nowMs, chunk);
    this.serving.publish(nowMs, chunk);
    this.armTick(nowMs);
  }

  /** A chunk the runtime fetched from the HTTP origin; returns true when it was new and valid. */
  handleOriginChunk(nowMs: number, chunk: Chunk): boolean {
    const fresh = this.intake.onOriginChunk(nowMs, chunk);
    // A tab that no peer reached has no tick yet, and its playout runs on it.
    if (fresh) this.armTick(nowMs);
    return fresh;
  }

  pollTransmit(): { to: PeerId; msg: WireMessage } | undefined {
    return this.state.transmits.shift();
  }

  pollEvent(): CoreEvent | undefined {
    return this.state.events.shift();
  }

  pollTimeout(): number | undefined {
    const wake = this.state.uploads.wakeMs;
    if (wake === undefined) return this.nextTickMs;
    if (this.nextTickMs === undefined) return wake;
    return Math.min(this.nextTickMs, wake);
  }

  getStats(): CoreStats {
    const chunks = this.state.chunks;
    return {
      ...this.state.stats,
      neighbours: this.state.neighbours.size,
      newestSeq: chunks.newest < 0 ? undefined : chunks.newest,
      started: this.fetching.playout.isStarted,
      lastChunkAtMs: this.fetching.lastNewChunkAtMs,
      lastMissAtMs: this.fetching.lastMissAtMs,
    };
  }

  neighbourStats(): NeighbourStats[] {
    return this.state.neighbourList.map((n) => ({
      peer: n.peer,
      role: n.role ?? 'unknown',
      bytesIn: n.bytesIn,
      bytesOut: n.bytesOut,
      pending: n.pending.size,
    }));
  }

  /** Whether a neighbour said it is the channel's source. */
  hasSourceNeighbour(): boolean {
    for (const n of this.state.neighbourList) if (n.role === 'source') return true;
    return false;
  }

  /**
   * Whether this viewer missed media lately (a skip or a late chunk within shortSupplyMs): its
   * neighbours do not bring it the stream in time, and the runtime should look for more of
   * them. A viewer stuck with a few weak neighbours otherwise stays short for good.
   */
  supplyShort(nowMs: number): boolean {
    const last = this.fetching.lastMissAtMs;
    return last !== undefined && nowMs - last < this.config.shortSupplyMs;
  }

  /** What this viewer's download carries, as far as fetches show, bit/s (see FetchRateMeter.rate). */
  fetchRate(): { peakBps: number | undefined; samples: number } {
    return this.intake.fetches.rate();
  }

  /** Safety margin before the next needed chunk is late (0 before playback). */
  playoutSlackMs(nowMs: number): number {
    return this.fetching.playout.slackMs(nowMs);
  }

  /** A stored chunk (the source's HTTP origin serves from here). */
  getChunk(seq: number): Chunk | undefined {
    return this.state.chunks.get(seq);
  }

  /** Changes what this node gives: upload on or off, and a cap in bits per second. */
  setUploadPolicy(enabled: boolean, limitBps: number | undefined): void {
    this.config.uploadEnabled = enabled;
    this.config.uploadLimitBps = limitBps;
  }

  get uploadPolicy(): { enabled: boolean; limitBps: number | undefined } {
    return { enabled: this.config.uploadEnabled, limitBps: this.config.uploadLimitBps };
  }

  /** A hello that keeps the rules names the neighbour's role; the runtime hears of it. */
  private onHello(n: Neighbour, msg: HelloMsg): void {
    const wrong = checkHello(n, msg, this.components.channelKey);
    if (wrong !== undefined) {
      this.state.misbehaved(n, wrong);
      return;
    }
    n.role = msg.role;
    n.relays = msg.relays !== false;
    if (msg.role === 'source' && this.config.role === 'viewer') this.state.addSource(n);
    this.state.events.push({ type: 'hello', peer: n.peer, peerId: msg.peerId, role: msg.role });
  }

  private armTick(nowMs: number): void {
    if (this.nextTickMs === undefined) this.nextTickMs = nowMs + this.config.tickMs;
  }
}
