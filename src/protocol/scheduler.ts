// Which chunk to ask from whom: a pure function over plain data (STYLE.md §6), so it can be
// tested and tuned without sockets. Earliest deadline first within the window; among the
// neighbours holding a chunk, the least loaded viewer. The source is asked only when no viewer
// has offered the chunk for a grace period or its deadline is near, which keeps the source's
// upload near one copy of the stream (DESIGN.md "Swarm protocol").

import type { RandomFn } from './random.js';

export interface SchedulerNeighbour {
  readonly id: string;
  readonly isSource: boolean;
  /** Has delivered at least one chunk. Unproven neighbours get one request at a time, and only
   * when no proven holder has room: a peer that lies about what it holds costs little. */
  readonly proven?: boolean;
  readonly pendingCount: number;
  /** Measured time from a request to its chunk (queueing at the holder included); undefined until measured. */
  readonly serviceMs?: number | undefined;
  has(seq: number): boolean;
}

export interface SchedulerInput {
  readonly nowMs: number;
  /** First and last sequence numbers worth fetching (inclusive). */
  readonly fromSeq: number;
  readonly toSeq: number;
  /** True when the chunk is held or already requested: nothing to do for it. */
  readonly isSettled: (seq: number) => boolean;
  /** When we first learned that some neighbour holds the chunk. */
  readonly firstSeenMs: (seq: number) => number | undefined;
  /** Playout deadline of the chunk, undefined before playback has started. */
  readonly deadlineMs: (seq: number) => number | undefined;
  readonly neighbours: readonly SchedulerNeighbour[];
  readonly maxPendingPerPeer: number;
  /** Upper bound on requests issued by one call. */
  readonly maxNewRequests: number;
  readonly sourceGraceMs: number;
  readonly urgentMs: number;
  /** Service time assumed for a neighbour not yet measured. */
  readonly defaultServiceMs: number;
  readonly random: RandomFn;
}

/** Most sequence numbers one call looks at, whatever range it is given. */
export const MAX_SCAN_CHUNKS = 512;

export interface PlannedRequest {
  readonly peer: string;
  readonly seq: number;
}

export function scheduleRequests(input: SchedulerInput): PlannedRequest[] {
  const planned: PlannedRequest[] = [];
  const extraLoad = new Map<string, number>();
  const load = (n: SchedulerNeighbour) => n.pendingCount + (extraLoad.get(n.id) ?? 0);
  // Expected wait for one more chunk: what is already asked of it, plus this, at its measured
  // pace. A fast holder takes more of the load, which is how spare upload gets used. Unproven
  // holders rank after every proven one.
  const rank = (n: SchedulerNeighbour) => (load(n) + 1) * (n.serviceMs ?? input.defaultServiceMs) + (n.proven === false ? 1e9 : 0);
  const toSeq = Math.min(input.toSeq, input.fromSeq + MAX_SCAN_CHUNKS);
  for (let seq = input.fromSeq; seq <= toSeq && planned.length < input.maxNewRequests; seq++) {
    if (input.isSettled(seq)) continue;
    let best: SchedulerNeighbour | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    let ties = 0;
    let source: SchedulerNeighbour | undefined;
    for (const n of input.neighbours) {
      if (!n.has(seq) || load(n) >= (n.proven === false ? 1 : input.maxPendingPerPeer)) continue;
      if (n.isSource) {
        source = n;
        continue;
      }
      const l = rank(n);
      if (l < bestLoad) {
        best = n;
        bestLoad = l;
        ties = 1;
      } else if (l === bestLoad) {
        // Reservoir choice among equally loaded holders spreads requests evenly.
        ties++;
        if (input.random() * ties < 1) best = n;
      }
    }
    if (best === undefined && source !== undefined && mayAskSource(input, seq)) best = source;
    if (best === undefined) continue;
    planned.push({ peer: best.id, seq });
    extraLoad.set(best.id, (extraLoad.get(best.id) ?? 0) + 1);
  }
  return planned;
}

function mayAskSource(input: SchedulerInput, seq: number): boolean {
  const seen = input.firstSeenMs(seq);
  if (seen !== undefined && input.nowMs - seen >= input.sourceGraceMs) return true;
  const deadline = input.deadlineMs(seq);
  return deadline !== undefined && deadline - input.nowMs <= input.urgentMs;
}
