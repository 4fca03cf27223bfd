// Where a joining viewer starts playing: the newest keyframe chunk its neighbours offer, the
// lowest lag that can still start cleanly. Claims are only words (a neighbour's newest keyframe
// in its buffer map or HAVEs), so a number claimed by one neighbour alone is used only when no
// two agree, claims past what the window will fetch are ignored, and a chosen start nobody
// offers any longer is revisited: one liar cannot park a newcomer on a chunk that does not
// exist. Pure: it reads the window and the neighbours and changes neither.

import type { ChunkWindow } from './chunk-window.js';
import { NO_SEQ } from './codec.js';
import type { Neighbour } from './neighbour.js';

/** Whether a neighbour that is not being dropped holds (or offers) `seq`. */
export function offeredBy(neighbours: readonly Neighbour[], seq: number): boolean {
  for (const n of neighbours) if (!n.closing && n.holds.has(seq)) return true;
  return false;
}

/**
 * The start to choose now, or undefined to keep `current` (it is held or still offered and
 * within reach, or nothing better is known).
 */
export function chooseStartSeq(current: number | undefined, neighbours: readonly Neighbour[], window: ChunkWindow): number | undefined {
  const plausible = current !== undefined && !window.beyondReach(current);
  if (current !== undefined && plausible && (window.has(current) || offeredBy(neighbours, current))) return undefined;
  const claims = new Map<number, number>();
  for (const n of neighbours) {
    if (n.role === undefined || n.closing || n.newestKeySeq === NO_SEQ || n.newestKeySeq < window.start()) continue;
    if (window.beyondReach(n.newestKeySeq)) continue;
    claims.set(n.newestKeySeq, (claims.get(n.newestKeySeq) ?? 0) + 1);
  }
  const seqs = [...claims.keys()].sort((a, b) => b - a);
  let best = seqs.find((q) => (claims.get(q) as number) >= 2) ?? seqs[0] ?? NO_SEQ;
  if (window.newestKey !== NO_SEQ && (best === NO_SEQ || window.newestKey >= best)) best = window.newestKey;
  return best !== NO_SEQ && best !== current ? best : undefined;
}
