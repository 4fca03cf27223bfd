// Which chunk to ask from whom: a pure function over plain data, so it can be tested and tuned
// without sockets (docs/architecture.md, "Why it is cut this way"). Earliest deadline first
// within the window; among the neighbours holding a chunk, the least loaded viewer. The source
// is asked only when no viewer has offered the chunk for a grace period or its deadline is
// near, which keeps the source's upload near one copy of the stream (docs/architecture.md,
// "From encoder to player", step 4).

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
  const neighbours = input.neighbours;
  // Requests planned by this call, by neighbour index (allocated with the first one).
  let extraLoad: number[] | undefined;
  const toSeq = Math.min(input.toSeq, input.fromSeq + MAX_SCAN_CHUNKS);
  for (let seq = input.fromSeq; seq <= toSeq && planned.length < input.maxNewRequests; seq++) {
    if (input.isSettled(seq)) continue;
    let best = -1;
    let bestRank = Number.POSITIVE_INFINITY;
    let ties = 0;
    let source = -1;
    for (let i = 0; i < neighbours.length; i++) {
      const n = neighbours[i] as SchedulerNeighbour;
      if (!n.has(seq)) continue;
      const load = n.pendingCount + (extraLoad === undefined ? 0 : (extraLoad[i] as number));
      const unproven = n.proven === false;
      if (load >= (unproven ? 1 : input.maxPendingPerPeer)) continue;
      if (n.isSource) {
        source = i;
        continue;
      }
      // Expected wait for one more chunk: what is already asked of it, plus this, at its
      // measured pace. A fast holder takes more of the load, which is how spare upload gets
      // used. Unproven holders rank after every proven one.
      const rank = (load + 1) * (n.serviceMs ?? input.defaultServiceMs) + (unproven ? 1e9 : 0);
      if (rank < bestRank) {
        best = i;
        bestRank = rank;
        ties = 1;
      } else if (rank === bestRank) {
        // Reservoir choice among equally loaded holders spreads requests evenly.
        ties++;
        if (input.random() * ties < 1) best = i;
      }
    }
    if (best < 0 && source >= 0 && mayAskSource(input, seq)) best = source;
    if (best < 0) continue;
    planned.push({ peer: (neighbours[best] as SchedulerNeighbour).id, seq });
    extraLoad ??= new Array<number>(neighbours.length).fill(0);
    extraLoad[best] = (extraLoad[best] as number) + 1;
  }
  return planned;
}

function mayAskSource(input: SchedulerInput, seq: number): boolean {
  const seen = input.firstSeenMs(seq);
  if (seen !== undefined && input.nowMs - seen >= input.sourceGraceMs) return true;
  const deadline = input.deadlineMs(seq);
  return deadline !== undefined && deadline - input.nowMs <= input.urgentMs;
}
