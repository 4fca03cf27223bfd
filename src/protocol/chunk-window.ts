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
  private readonly chunks = new Map<number, Chunk>();
  private readonly firstSeen = new Map<number, number>();
  /** Keys of chunks and firstSeen are all at or above this (where the window last moved them). */
  private evictedBelow = 0;
  private newestSeq = -1;
  private newestKnownSeq = -1;
  private newestKeySeq = NO_SEQ;

  constructor(private readonly config: ChunkWindowConfig) {}

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
    return this.chunks.get(seq);
  }

  has(seq: number): boolean {
    return this.chunks.has(seq);
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
    if (!this.firstSeen.has(seq) && this.firstSeen.size < this.config.windowChunks + this.config.maxAheadChunks)
      this.firstSeen.set(seq, nowMs);
    if (seq > this.newestKnownSeq) this.newestKnownSeq = seq;
  }

  /** When some neighbour first offered `seq`. */
  firstSeenMs(seq: number): number | undefined {
    return this.firstSeen.get(seq);
  }

  /** Keeps a chunk and moves the window past what falls out of it. */
  add(chunk: Chunk): void {
    const seq = chunk.seq;
    // A source that published a number behind its window keeps it out, as viewers refuse it.
    if (seq >= this.evictedBelow) this.chunks.set(seq, chunk);
    if (seq > this.newestSeq) this.newestSeq = seq;
    if (seq > this.newestKnownSeq) this.newestKnownSeq = seq;
    if ((chunk.flags & FLAG_KEYFRAME) !== 0 && (this.newestKeySeq === NO_SEQ || seq > this.newestKeySeq)) this.newestKeySeq = seq;
    this.evict();
  }

  /** Forgets everything: the channel's numbering jumped (a broadcaster restart). */
  clear(): void {
    this.chunks.clear();
    this.firstSeen.clear();
    this.evictedBelow = 0;
    this.newestSeq = -1;
    this.newestKnownSeq = -1;
    this.newestKeySeq = NO_SEQ;
  }

  private evict(): void {
    const start = this.start();
    if (start > this.evictedBelow) {
      deleteBelow(this.chunks, this.evictedBelow, start);
      deleteBelow(this.firstSeen, this.evictedBelow, start);
      this.evictedBelow = start;
    }
    // No key of firstSeen is past newestKnownSeq (noteOffered): only offers beyond the
    // horizon, made before our first chunk, are worth a scan.
    const horizon = this.horizon();
    if (this.newestKnownSeq > horizon) for (const seq of this.firstSeen.keys()) if (seq > horizon) this.firstSeen.delete(seq);
    if (this.newestKeySeq !== NO_SEQ && this.newestKeySeq < start) this.newestKeySeq = NO_SEQ;
  }
}

/**
 * Deletes the keys below `start` of a map whose keys are all at or above `from`: one delete per
 * number in between, or one pass over the map when that is shorter.
 */
function deleteBelow(map: Map<number, unknown>, from: number, start: number): void {
  if (start - from > map.size) {
    for (const key of map.keys()) if (key < start) map.delete(key);
  } else for (let seq = from; seq < start; seq++) map.delete(seq);
}
