// What a PeerCore knows about one connected peer: what it holds, what we asked of it, how it
// serves us and how it behaves. Plain state, no decisions; it is also the scheduler's view of
// the peer (SchedulerNeighbour), read for every chunk and every neighbour the scheduler plans.

import { NO_SEQ, type PeerRole } from './codec.js';
import type { PeerId } from './core-types.js';
import { DEFAULT_MESSAGE_BUDGETS, type MessageBudgets, NeighbourBudget } from './message-budget.js';
import type { SchedulerNeighbour } from './scheduler.js';
import { SeqWindow } from './seq-window.js';

/** Service time assumed for a neighbour that has not served us yet: about one chunk's transfer and a round trip. */
export const DEFAULT_SERVICE_MS = 300;

export class Neighbour implements SchedulerNeighbour {
  role: PeerRole | undefined = undefined;
  /** It relays what it gets (false: upload turned off, so pushing to it helps nobody). */
  relays = true;
  /** Chunks it holds, as far as its buffer map, HAVEs and our uploads tell. */
  readonly holds = new SeqWindow();
  newestKeySeq = NO_SEQ;
  /** Requests out to it: seq -> when asked. */
  readonly pending = new Map<number, number>();
  /** Requests we took back with a Cancel (seq -> when): their copy may still come, as a duplicate, not a replay. */
  readonly cancelled = new Map<number, number>();
  bytesIn = 0;
  bytesOut = 0;
  closing = false;
  /** Token bucket for the neighbour's requests (flood protection). */
  requestTokens: number;
  tokensAtMs: number;
  /** Consecutive broken promises: chunks it advertised then refused or never sent, unrequested replays. */
  strikes = 0;
  /** Answered Busy: not asked again before this. */
  busyUntilMs = 0;
  /** Last useful traffic (see PeerCoreConfig.idleEvictMs): who may make room when we are full. */
  lastActiveMs: number;
  /** What it may still send, by message kind. */
  readonly budget: NeighbourBudget;
  /** Moving average of request-to-chunk time: how fast it serves us (its queue included). */
  serviceMs: number | undefined = undefined;

  constructor(
    readonly peer: PeerId,
    readonly connectedAtMs: number,
    requestBurst: number,
    budgets: MessageBudgets = DEFAULT_MESSAGE_BUDGETS,
  ) {
    this.budget = new NeighbourBudget(budgets, connectedAtMs);
    this.requestTokens = requestBurst;
    this.tokensAtMs = connectedAtMs;
    this.lastActiveMs = connectedAtMs;
  }

  get id(): string {
    return this.peer;
  }

  get isSource(): boolean {
    return this.role === 'source';
  }

  /** Has delivered media to us. */
  get proven(): boolean {
    return this.bytesIn > 0;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  has(seq: number): boolean {
    return this.holds.has(seq);
  }
}
