// The simulated tracker: which viewers each swarm lists, and the sample an announce is answered
// with, as src/tracker/directory.ts answers (the source first while it is listed, then viewers
// at random). It keeps no time: the simulator lists a viewer at its announce and unlists it when
// its entry would expire or it leaves.

import type { RandomFn } from '../protocol/random.js';
import { shuffleInPlace } from './network.js';
import { removeAt, type SimPeer } from './sim-peer.js';

/** Rough HTTP sizes of an announce: request line and headers, JSON bodies (tracker-client.ts). */
const REQUEST_BYTES = 200 + JSON.stringify({ channelId: '0'.repeat(64), peerId: '0'.repeat(32), port: 40000, role: 'viewer' }).length;
const ANSWER_BASE_BYTES = 150 + JSON.stringify({ intervalMs: 5000, yourAddress: '100.64.123.45', peers: [] }).length;
const ANSWER_PEER_BYTES = 1 + JSON.stringify({ peerId: '0'.repeat(32), address: '100.64.123.45', port: 40000, role: 'viewer' }).length;

/** Bytes of one announce and its answer listing `answered` peers, both ways. */
export function announceBytes(answered: number): number {
  return REQUEST_BYTES + ANSWER_BASE_BYTES + answered * ANSWER_PEER_BYTES;
}

export class SimTracker {
  /** Viewers listed per swarm (alive, or gone but not yet expired). */
  private readonly listed: SimPeer[][];

  /** `sources[i]` is the broadcaster of rendition i's swarm; `random` is shared with the simulator. */
  constructor(
    private readonly sources: readonly SimPeer[],
    private readonly answerPeers: number,
    private readonly random: RandomFn,
  ) {
    this.listed = sources.map(() => []);
  }

  list(p: SimPeer): void {
    if (p.listedIndex < 0) p.listedIndex = (this.listed[p.rendition] as SimPeer[]).push(p) - 1;
  }

  unlist(p: SimPeer): void {
    if (p.listedIndex < 0) return;
    removeAt(this.listed[p.rendition] as SimPeer[], p.listedIndex, (q, i) => {
      q.listedIndex = i;
    });
    p.listedIndex = -1;
  }

  /** The answer to `p`'s announce: its swarm's source, then up to answerPeers - 1 other listed viewers. */
  sample(p: SimPeer): SimPeer[] {
    const want = this.answerPeers - 1;
    const listed = this.listed[p.rendition] as SimPeer[];
    const out: SimPeer[] = [this.sources[p.rendition] as SimPeer];
    const n = listed.length;
    if (n - 1 <= want) {
      const others = listed.filter((q) => q !== p);
      shuffleInPlace(others, this.random);
      out.push(...others);
      return out;
    }
    const chosen = new Set<number>();
    while (chosen.size < want) {
      const i = Math.floor(this.random() * n);
      if (listed[i] === p || chosen.has(i)) continue;
      chosen.add(i);
      out.push(listed[i] as SimPeer);
    }
    return out;
  }
}
