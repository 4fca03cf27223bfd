// Making a simulated peer: its PeerCore, configured as a runtime would configure it for the
// simulated user (the link's upload as a cap, none for a free rider), its seeded randomness,
// and the Membership policy native nodes run, reading the simulated links and bans.

import { PEER_ID_BYTES } from '../protocol/codec.js';
import { Membership, type PeerCandidate } from '../protocol/membership.js';
import { PeerCore } from '../protocol/peer-core.js';
import { type RandomFn, seededRandom } from '../protocol/random.js';
import { tcpWireBytes } from '../transport/framing.js';
import { fakeVerify } from './fake-crypto.js';
import { type AttackKind, HOSTILE_DIAL_TARGET } from './hostile.js';
import type { SimConfig } from './sim-config.js';
import { type SimHost, SimPeer } from './sim-peer.js';

export interface PeerFactoryInit {
  config: SimConfig;
  /** Per rendition: the stream's key. */
  channelKeys: readonly Uint8Array[];
  /** The simulation's shared randomness (Membership draws from it). */
  random: RandomFn;
  /** The virtual time now. */
  now: () => number;
}

export class PeerFactory {
  /** Every peer made, in order (those that left too). */
  readonly all: SimPeer[] = [];
  private nextIndex = 0;

  constructor(private readonly init: PeerFactoryInit) {}

  newPeer(role: 'source' | 'viewer', host: SimHost, joinedAtMs: number, rendition: number, hostile?: AttackKind): SimPeer {
    const { config } = this.init;
    const profile = host.profile;
    const index = this.nextIndex++;
    // A broadcaster with a ladder splits its upload between the renditions by their rates, as
    // startBroadcast does, so a busy high rendition cannot starve the low one.
    const rates = config.renditions?.map((r) => r.bitrateBps);
    const share = role === 'source' && rates !== undefined ? (rates[rendition] as number) / rates.reduce((a, b) => a + b, 0) : 1;
    const localPeerId = new Uint8Array(PEER_ID_BYTES);
    new DataView(localPeerId.buffer).setUint32(0, index);
    const core = new PeerCore(
      // The runtime grants the core what the simulated user grants: the link's upload as a cap,
      // and no upload at all for a free rider.
      { ...config.core, role, uploadEnabled: !profile.freeRider, uploadLimitBps: profile.uploadBytesPerMs * 8000 * share },
      {
        channelKey: this.init.channelKeys[rendition] as Uint8Array,
        localPeerId,
        verify: fakeVerify,
        random: seededRandom(mix(config.seed, index + 1)),
        // Simulated links cost what native TCP links cost (sim/wire-size.ts).
        wireBytes: tcpWireBytes,
      },
    );
    const p = new SimPeer(role === 'source' ? (rendition === 0 ? 's' : `s${rendition}`) : `v${index}`, core, host, joinedAtMs, rendition);
    p.isSource = role === 'source';
    p.hostile = hostile;
    // The policy native nodes run, reading the simulated links and bans. A hostile peer dials
    // as many as it can, full or not.
    p.membership = new Membership(
      { role, dialTarget: hostile === undefined ? config.dialTarget : HOSTILE_DIAL_TARGET },
      {
        core,
        linkCount: () => p.links.size,
        linkedTo: (id) => p.links.has(id),
        accepts: (id) =>
          hostile !== undefined ||
          (core.acceptsNeighbour() && (id === undefined || p.admission?.refusal(this.init.now(), id, id) === undefined)),
      },
      this.init.random,
    );
    this.all.push(p);
    return p;
  }
}

/** A simulated peer as a tracker names it (its name stands for its address). */
export function candidateOf(q: SimPeer): PeerCandidate {
  return { peerId: q.id, role: q.isSource ? 'source' : 'viewer', address: q.id, port: 0 };
}

/** Derives a 32-bit seed from a seed and a stream number (splitmix-style). */
export function mix(seed: number, n: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(n >>> 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
