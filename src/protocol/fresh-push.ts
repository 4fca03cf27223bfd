// Which relaying neighbours a viewer hands a fresh chunk on to, unasked. Pure: it reads the
// neighbours and changes nothing; PeerCore queues the pushes.
//
// The newest chunk goes on at once to a few relaying neighbours that lack it: it saves those a
// HAVE-request round trip and spreads fresh chunks before old ones ("latest useful chunk",
// Bonald et al. 2008). Each goes to the lacking neighbour that has served us fastest: a fast
// server is most likely a fast uploader, and a fresh chunk that reaches the fast uploaders first
// reaches everyone sooner (pushing at random left them idle). Once a tenth of the relaying
// neighbours hold it, pulls cover the rest: later pushes mostly cross requests and arrive twice.

import { DEFAULT_SERVICE_MS, type Neighbour } from './neighbour.js';
import type { RandomFn } from './random.js';

/**
 * Up to `fanout` relaying viewers among `neighbours` that lack `seq`, fastest first; none once
 * more than `maxHolderShare` of the relaying viewers hold it.
 */
export function choosePushTargets(
  neighbours: readonly Neighbour[],
  seq: number,
  fanout: number,
  maxHolderShare: number,
  random: RandomFn,
): Neighbour[] {
  const candidates: Neighbour[] = [];
  let holders = 0;
  for (const n of neighbours) {
    if (!n.relays || n.role !== 'viewer' || n.closing) continue;
    if (n.holds.has(seq)) holders++;
    else candidates.push(n);
  }
  const targets: Neighbour[] = [];
  if (holders > maxHolderShare * (holders + candidates.length)) return targets;
  for (let i = 0; i < fanout && candidates.length > 0; i++) {
    const j = fastestOf(candidates, random);
    targets.push(candidates[j] as Neighbour);
    candidates[j] = candidates[candidates.length - 1] as Neighbour;
    candidates.pop();
  }
  return targets;
}

/** Index of the neighbour with the lowest service time (unmeasured ones assumed average), ties at random. */
function fastestOf(candidates: readonly Neighbour[], random: RandomFn): number {
  let best = 0;
  let bestMs = Number.POSITIVE_INFINITY;
  let ties = 0;
  for (let k = 0; k < candidates.length; k++) {
    const ms = (candidates[k] as Neighbour).serviceMs ?? DEFAULT_SERVICE_MS;
    if (ms < bestMs) {
      best = k;
      bestMs = ms;
      ties = 1;
    } else if (ms === bestMs && random() * ++ties < 1) best = k;
  }
  return best;
}
