// What the parts of a PeerCore share: its neighbours and what they hold, its chunks, the
// requests out, the upload pacer, its counts, and the two output queues (messages for the
// runtime to send, events for it to hear). The parts (./serving.ts, ./fetching.ts,
// ./intake.ts) decide; this holds and queues.

import type { Chunk } from './chunk.js';
import { ChunkWindow } from './chunk-window.js';
import { type BufferMapMsg, bufferMapSeqs, isSeqMessage, MsgType, makeBufferMap, messageBodyBytes, type WireMessage } from './codec.js';
import { type CoreEvent, type CoreStats, emptyCoreStats, type PeerCoreComponents, type PeerCoreConfig, type PeerId } from './core-types.js';
import type { Misbehaviour } from './misbehaviour.js';
import type { Neighbour } from './neighbour.js';
import { RequestBook } from './request-book.js';
import { UploadPacer } from './upload-pacer.js';

export class CoreState {
  readonly neighbours = new Map<PeerId, Neighbour>();
  /** The same neighbours in the order they came: the hot loops walk an array faster than a map. */
  readonly neighbourList: Neighbour[] = [];
  readonly chunks: ChunkWindow;
  /** What each neighbour was asked for, and which chunks are on their way. */
  readonly requests = new RequestBook();
  readonly uploads: UploadPacer<Neighbour>;
  readonly stats: CoreStats = emptyCoreStats();
  readonly transmits: { to: PeerId; msg: WireMessage }[] = [];
  readonly events: CoreEvent[] = [];
  /**
   * The neighbours that said they are the source (viewers): the source holds what it made, told
   * or not. Usually one; a peer that only claims the role is struck like any other when it
   * does not deliver, and the real source keeps its place beside it.
   */
  readonly sources: Neighbour[] = [];
  /** Newest chunk the sources are taken to hold for that reason. */
  private sourceHoldsUpTo = -1;

  constructor(
    readonly config: PeerCoreConfig,
    readonly components: PeerCoreComponents,
  ) {
    this.uploads = new UploadPacer(config);
    this.chunks = new ChunkWindow(config);
  }

  addNeighbour(n: Neighbour): void {
    this.neighbours.set(n.peer, n);
    this.neighbourList.push(n);
  }

  removeNeighbour(n: Neighbour): void {
    const source = this.sources.indexOf(n);
    if (source >= 0) this.sources.splice(source, 1);
    this.requests.removeAll(n);
    this.neighbours.delete(n.peer);
    this.neighbourList.splice(this.neighbourList.indexOf(n), 1);
  }

  /** The neighbour broke a rule (./neighbour-rules.ts): ignored from now on, and reported. */
  misbehaved(n: Neighbour, m: Misbehaviour): void {
    n.closing = true;
    this.requests.removeAll(n);
    this.events.push({ type: 'misbehaved', peer: n.peer, ...m });
  }

  /** Queues a message for the runtime; a control message is counted against the upload cap. */
  send(nowMs: number, to: PeerId, msg: WireMessage): void {
    if (msg.type !== MsgType.ChunkData && this.uploads.paced) {
      // As the codec sends it on a link that is under way (a number as a step of 0 from itself)
      // and the transport frames it.
      const body = messageBodyBytes(msg, isSeqMessage(msg) ? msg : undefined);
      this.uploads.charge(nowMs, this.components.wireBytes?.(body) ?? body);
    }
    this.transmits.push({ to, msg });
  }

  sendChunk(n: Neighbour, chunk: Chunk): void {
    n.bytesOut += chunk.payload.length;
    n.holds.add(chunk.seq);
    this.stats.mediaBytesOut += chunk.payload.length;
    this.transmits.push({ to: n.peer, msg: { type: MsgType.ChunkData, chunk } });
  }

  bufferMap(): BufferMapMsg {
    const start = this.chunks.start();
    const count = this.chunks.newest < 0 ? 0 : this.chunks.newest - start + 1;
    return makeBufferMap(start, count, (s) => this.config.uploadEnabled && this.chunks.has(s), this.chunks.newestKey);
  }

  onBufferMap(nowMs: number, n: Neighbour, msg: BufferMapMsg): void {
    n.holds.clear();
    for (const seq of bufferMapSeqs(msg)) this.noteHas(nowMs, n, seq);
    n.newestKeySeq = msg.newestKeySeq;
  }

  noteHas(nowMs: number, n: Neighbour, seq: number): void {
    // Only verified chunks move our window; advertisements far ahead of it are ignored, so a
    // peer cannot make us evict good chunks or chase chunks that do not exist.
    if (!this.chunks.inReach(seq)) return;
    if (n.holds.size >= this.config.windowChunks + this.config.maxAheadChunks) this.pruneHas(n);
    n.holds.add(seq);
    this.chunks.noteOffered(seq, nowMs);
  }

  /**
   * A viewer verified chunk `seq`: the source made it, and every chunk before it, and holds them
   * for a window far longer than playback waits, so it offers them without a HAVE (protocol 7).
   * Only verified chunks count: a peer's claim of a chunk ahead could otherwise make us ask the
   * source for one it never made, and strike it for refusing. Keyframes still come in HAVEs.
   */
  inferSourceHolds(nowMs: number, seq: number): void {
    if (this.sources.length === 0 || seq <= this.sourceHoldsUpTo) return;
    const from = Math.max(this.sourceHoldsUpTo + 1, seq - this.config.maxAheadChunks, this.chunks.start());
    this.sourceHoldsUpTo = seq;
    for (const src of this.sources) {
      if (src.closing) continue;
      for (let s = from; s <= seq; s++) src.holds.add(s);
    }
    for (let s = from; s <= seq; s++) this.chunks.noteOffered(s, nowMs);
  }

  /** A neighbour said it is the source: from our next verified chunk, it is taken to hold what came before. */
  addSource(n: Neighbour): void {
    this.sources.push(n);
    this.sourceHoldsUpTo = -1;
  }

  /** The sources are taken to hold nothing more until shown again (a restart). */
  forgetSourceHolds(): void {
    this.sourceHoldsUpTo = -1;
  }

  private pruneHas(n: Neighbour): void {
    const start = this.chunks.start();
    n.holds.deleteBelow(start);
    if (n.holds.size >= this.config.windowChunks + this.config.maxAheadChunks) n.holds.clear();
  }
}
