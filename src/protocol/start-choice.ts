// Where a joining viewer starts playing: the newest keyframe chunk its neighbours offer, the
// lowest lag that can still start cleanly. Claims are only words (a neighbour's newest keyframe
// in its buffer map or HAVEs), so the start is the newest keyframe two neighbours have reached
// (a lone claim only when it is the only one), claims past what the window will fetch are
// ignored, and a chosen start nobody offers any longer is revisited: one liar cannot park a
// newcomer on a chunk that does not exist, nor colluders on an old one. Pure: it reads the window and the neighbours and changes neither.

import { FLAG_KEYFRAME } from './chunk.js';
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
  // A newer keyframe in hand beats an older start still missing (one that colluding peers
  // offer and never send could hold a newcomer back for good).
  // A start held that is no keyframe can never begin playback (a lie about a newest keyframe).
  const held = current === undefined ? undefined : window.get(current);
  const dead = held !== undefined && (held.flags & FLAG_KEYFRAME) === 0;
  const passed = current !== undefined && held === undefined && window.newestKey !== NO_SEQ && window.newestKey > current;
  if (current !== undefined && plausible && !passed && !dead && (held !== undefined || offeredBy(neighbours, current))) return undefined;
  const seqs: number[] = [];
  for (const n of neighbours) {
    // A neighbour that broke a promise lately (a chunk advertised and not sent) is not believed.
    if (n.role === undefined || n.closing || n.strikes > 0 || n.newestKeySeq === NO_SEQ || n.newestKeySeq < window.start()) continue;
    if (window.beyondReach(n.newestKeySeq)) continue;
    // A "keyframe" we hold that is none is a lie.
    const claimed = window.get(n.newestKeySeq);
    if (claimed !== undefined && (claimed.flags & FLAG_KEYFRAME) === 0) continue;
    seqs.push(n.newestKeySeq);
  }
  // Newest first. A claim is backed by every neighbour that claims it or a newer keyframe
  // (who holds a newer one passed this one): the newest claim two back is the second-newest.
  // Exact agreement let two colluding peers park newcomers on an old keyframe while honest
  // neighbours, a second apart, each claimed a different newer one (meshtv sim --attack replay).
  seqs.sort((a, b) => b - a);
  let best = seqs[1] ?? seqs[0] ?? NO_SEQ;
  if (window.newestKey !== NO_SEQ && (best === NO_SEQ || window.newestKey >= best)) best = window.newestKey;
  return best !== NO_SEQ && best !== current ? best : undefined;
}
