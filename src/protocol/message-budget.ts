// A budget for every kind of message a neighbour sends: messages per second and control bytes
// per second, each a token bucket with a burst. Honest peers stay far below every budget (each
// is several times what the protocol ever sends); a peer past one is flooding and is dropped,
// so a few hundred kB/s of HAVEs or buffer maps cannot keep a core busy. Chunks are not
// budgeted here: each one is paid for by a request of ours (unrequested ones are strikes).
// Pure state; time is an argument.

import { CHUNK_MS } from './chunk.js';
import { MsgType, type WireMessage } from './codec.js';
import type { MisbehaviourCode } from './misbehaviour.js';

/** A sustained rate and the burst allowed above it. */
export interface Rate {
  perS: number;
  burst: number;
}

/** What one neighbour may send us, by kind. */
export interface MessageBudgets {
  /**
   * HAVEs: an honest peer sends one per new chunk of the stream (1000 / CHUNK_MS a second),
   * in bursts after a gap. @default 5 per chunk-time, bursts of 30 s of chunks
   */
  have: Rate;
  /** Buffer maps: one when a link opens, one after a restart. @default 1 per 2 s, bursts of 5 */
  bufferMap: Rate;
  /**
   * Cancels: an honest peer cancels only what it asked, and its requests are budgeted
   * (PeerCoreConfig.requestRatePerS). @default as requests
   */
  cancel: Rate;
  /** Reject and Busy: answers to our requests, at most one each. @default as requests */
  answer: Rate;
  /**
   * Every message but chunks, in bytes: HAVEs and requests are 2-4 bytes, a buffer map at
   * most 524. @default 32 kB/s, bursts of 128 kB
   */
  controlBytes: Rate;
}

const CHUNKS_PER_S = 1000 / CHUNK_MS;

export const DEFAULT_MESSAGE_BUDGETS: MessageBudgets = {
  have: { perS: 5 * CHUNKS_PER_S, burst: 30 * CHUNKS_PER_S },
  bufferMap: { perS: 0.5, burst: 5 },
  cancel: { perS: 12_500 / CHUNK_MS, burst: 25_000 / CHUNK_MS },
  answer: { perS: 12_500 / CHUNK_MS, burst: 25_000 / CHUNK_MS },
  controlBytes: { perS: 32_000, burst: 128_000 },
};

/** A message budget exceeded. */
export type FloodCode = Extract<MisbehaviourCode, `flood-${string}`>;

class Bucket {
  private tokens: number;
  private atMs: number;

  constructor(
    private readonly rate: Rate,
    nowMs: number,
  ) {
    this.tokens = rate.burst;
    this.atMs = nowMs;
  }

  take(nowMs: number, n: number): boolean {
    this.tokens = Math.min(this.rate.burst, this.tokens + ((nowMs - this.atMs) * this.rate.perS) / 1000);
    this.atMs = nowMs;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/** The budgets of one neighbour. */
export class NeighbourBudget {
  private readonly have: Bucket;
  private readonly bufferMap: Bucket;
  private readonly cancel: Bucket;
  private readonly answer: Bucket;
  private readonly bytes: Bucket;

  constructor(budgets: MessageBudgets, nowMs: number) {
    this.have = new Bucket(budgets.have, nowMs);
    this.bufferMap = new Bucket(budgets.bufferMap, nowMs);
    this.cancel = new Bucket(budgets.cancel, nowMs);
    this.answer = new Bucket(budgets.answer, nowMs);
    this.bytes = new Bucket(budgets.controlBytes, nowMs);
  }

  /**
   * Charges a message of `bytes` wire bytes; returns the flood it is part of, or undefined when
   * it is within budget. Requests have their own bucket (the core's), hellos are one per link.
   */
  charge(nowMs: number, msg: WireMessage, bytes: number): FloodCode | undefined {
    if (msg.type === MsgType.ChunkData) return undefined;
    if (!this.bytes.take(nowMs, bytes)) return 'flood-control-bytes';
    switch (msg.type) {
      case MsgType.Have:
        return this.have.take(nowMs, 1) ? undefined : 'flood-haves';
      case MsgType.BufferMap:
        return this.bufferMap.take(nowMs, 1) ? undefined : 'flood-buffer-maps';
      case MsgType.Cancel:
        return this.cancel.take(nowMs, 1) ? undefined : 'flood-cancels';
      case MsgType.Reject:
      case MsgType.Busy:
        return this.answer.take(nowMs, 1) ? undefined : 'flood-answers';
      default:
        return undefined;
    }
  }
}
