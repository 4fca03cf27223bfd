// The chunks a node keeps for playback and relaying, and what it knows exists beyond them: the
// newest windowChunks verified chunks, the newest number a neighbour offers within reach, and
// when each number was first offered. Only chunks move the window (PeerCore stores verified
// ones only), so no claim can make a node evict good chunks or chase numbers that do not exist.
// Plain state: time is an input, and it never talks to a neighbour.

import { type Chunk, FLAG_KEYFRAME } from './chunk.js';
import { NO_SEQ } from './codec.js';

/** The part of PeerCoreConfig the window reads; read live. */
export interface ChunkWindowConfig {
  readonly windowChunks: number;
  /** How far past the newest chunk held a claim is still believed (and a request made). */
  readonly maxAheadChunks: number;
}

export class ChunkWindow {
  /** The window's chunks, each in slot seq % windowChunks (a slot holds the chunk whose seq it checks). */
  private readonly chunks: (Chunk | undefined)[];
  /**
   * When each number was first offered. Once a chunk is held, every offer kept lies within
   * windowChunks + maxAheadChunks numbers of each other, so a ring of that size holds them:
   * slot seq % size keeps the number (-1: empty) and the time. Before the first chunk an offer
   * may name any number: those few go in `earlyOffers`, bounded like the ring, and move into it
   * with the first chunk. (Two maps of these took half the memory of a simulated peer.)
   */
  private readonly offerSeqs: Float64Array;
  private readonly offerTimes: Float64Array;
  private earlyOffers: Map<number, number> | undefined = new Map();
  /** Chunks are all at or above this (where the window last moved them). */
  private evictedBelow = 0;
  private newestSeq = -1;
  private newestKnownSeq = -1;
  private newestKeySeq = NO_SEQ;

  constructor(private readonly config: ChunkWindowConfig) {
    this.chunks = new Array<Chunk | undefined>(config.windowChunks).fill(undefined);
    this.offerSeqs = new Float64Array(config.windowChunks + config.maxAheadChunks).fill(-1);
    this.offerTimes = new Float64Array(config.windowChunks + config.maxAheadChunks);
  }

  /** Newest chunk held; -1 before the first. */
  get newest(): number {
    return this.newestSeq;
  }

  /** Newest number held or offered within reach; -1 before any. */
  get newestKnown(): number {
    return this.newestKnownSeq;
  }

  /** Newest keyframe chunk held, NO_SEQ when none is in the window. */
  get newestKey(): number {
    return this.newestKeySeq;
  }

  get(seq: number): Chunk | undefined {
    const chunk = this.chunks[seq % this.chunks.length];
    return chunk !== undefined && chunk.seq === seq ? chunk : undefined;
  }

  has(seq: number): boolean {
    return this.get(seq) !== undefined;
  }

  /** Oldest chunk kept. */
  start(): number {
    return Math.max(0, this.newestSeq - this.config.windowChunks + 1);
  }

  /** Newest chunk worth requesting: what neighbours offer, bounded ahead of what we hold. */
  horizon(): number {
    return this.newestSeq < 0 ? this.newestKnownSeq : Math.min(this.newestKnownSeq, this.newestSeq + this.config.maxAheadChunks);
  }

  /** Whether a claim about `seq` is worth believing: not behind the window, not too far past our newest. */
  inReach(seq: number): boolean {
    return seq >= this.start() && !this.beyondReach(seq);
  }

  /** Whether `seq` lies further past our newest chunk than a claim is believed (never before the first chunk). */
  beyondReach(seq: number): boolean {
    return this.newestSeq >= 0 && seq > this.newestSeq + this.config.maxAheadChunks;
  }

  /** A neighbour offers `seq` (in reach): the first offer's time is kept, bounded in number. */
  noteOffered(seq: number, nowMs: number): void {
    const early = this.earlyOffers;
    if (early !== undefined) {
      if (!early.has(seq) && early.size < this.offerSeqs.length) early.set(seq, nowMs);
    } else {
      // Offers in reach span at most the ring's size: a slot taken is this number's own.
      const i = seq % this.offerSeqs.length;
      if ((this.offerSeqs[i] as number) < 0) this.setOffer(i, seq, nowMs);
    }
    if (seq > this.newestKnownSeq) this.newestKnownSeq = seq;
  }

  /** When some neighbour first offered `seq`. */
  firstSeenMs(seq: number): number | undefined {
    if (this.earlyOffers !== undefined) return this.earlyOffers.get(seq);
    const i = seq % this.offerSeqs.length;
    return this.offerSeqs[i] === seq ? this.offerTimes[i] : undefined;
  }

  /** Keeps a chunk and moves the window past what falls out of it. */
  add(chunk: Chunk): void {
    const seq = chunk.seq;
    // A source that published a number behind its window keeps it out, as viewers refuse it.
    if (seq >= this.evictedBelow) this.chunks[seq % this.chunks.length] = chunk;
    if (seq > this.newestSeq) this.newestSeq = seq;
    if (seq > this.newestKnownSeq) this.newestKnownSeq = seq;
    if ((chunk.flags & FLAG_KEYFRAME) !== 0 && (this.newestKeySeq === NO_SEQ || seq > this.newestKeySeq)) this.newestKeySeq = seq;
    this.evict();
  }

  /** Forgets everything: the channel's numbering jumped (a broadcaster restart). */
  clear(): void {
    this.chunks.fill(undefined);
    this.offerSeqs.fill(-1);
    this.earlyOffers = new Map();
    this.evictedBelow = 0;
    this.newestSeq = -1;
    this.newestKnownSeq = -1;
    this.newestKeySeq = NO_SEQ;
  }

  private evict(): void {
    const start = this.start();
    const horizon = this.horizon();
    const early = this.earlyOffers;
    if (early !== undefined) {
      // The first chunk: the early offers within [start, horizon] move into the ring.
      this.earlyOffers = undefined;
      for (const [seq, atMs] of early) if (seq >= start && seq <= horizon) this.setOffer(seq % this.offerSeqs.length, seq, atMs);
    }
    if (start > this.evictedBelow) {
      const chunks = this.chunks;
      if (start - this.evictedBelow >= chunks.length) {
        for (let i = 0; i < chunks.length; i++) if ((chunks[i]?.seq ?? start) < start) chunks[i] = undefined;
      } else
        for (let seq = this.evictedBelow; seq < start; seq++) {
          const i = seq % chunks.length;
          if (chunks[i]?.seq === seq) chunks[i] = undefined;
        }
      this.forgetOffers(this.evictedBelow, start);
      this.evictedBelow = start;
    }
    if (this.newestKeySeq !== NO_SEQ && this.newestKeySeq < start) this.newestKeySeq = NO_SEQ;
  }

  /** Forgets the first offers of numbers in [from, to). */
  private forgetOffers(from: number, to: number): void {
    const seqs = this.offerSeqs;
    if (to - from >= seqs.length) {
      for (let i = 0; i < seqs.length; i++) if ((seqs[i] as number) >= 0 && (seqs[i] as number) < to) this.clearOffer(i);
    } else for (let seq = from; seq < to; seq++) if (seqs[seq % seqs.length] === seq) this.clearOffer(seq % seqs.length);
  }

  private setOffer(i: number, seq: number, atMs: number): void {
    this.offerSeqs[i] = seq;
    this.offerTimes[i] = atMs;
  }

  private clearOffer(i: number): void {
    this.offerSeqs[i] = -1;
  }
}
