// The simulator's actors and events: a peer (one PeerCore in one swarm) on a host (a machine's
// access link, shared by every swarm it is in), the ends of a connection, a viewer on a ladder,
// and the events of the virtual-time queue. Plain state: what happens to it is simulator.ts.

import type { AbrSession } from '../protocol/abr-session.js';
import type { Admission } from '../protocol/admission.js';
import type { SeqRef, WireMessage } from '../protocol/codec.js';
import type { PeerId } from '../protocol/core-types.js';
import type { Membership } from '../protocol/membership.js';
import type { PeerCore } from '../protocol/peer-core.js';
import type { AttackKind } from './hostile.js';
import type { PeerProfile } from './network.js';
import type { OrderedPath } from './path-model.js';

/** Event kinds. */
export const PUBLISH = 0;
export const ARRIVE = 1;
export const DELIVER = 2;
export const TIMER = 3;
export const JOIN = 4;
/** Membership's wake-up: an announce when due, a look at the core's signals. */
export const WAKE = 5;
export const ANSWER = 6;
export const CONNECT = 7;
export const DIAL_FAIL = 8;
export const DISCONNECT = 9;
export const LEAVE = 10;
export const UNLIST = 11;
export const ABR_TICK = 12;
export const AGENT_JOIN = 13;
export const HOSTILE_TICK = 14;

export class SimEvent {
  constructor(
    readonly kind: number,
    readonly peer: SimPeer,
    readonly other: SimPeer | undefined,
    readonly msg: WireMessage | undefined,
    /** Kind-specific number: upload finish time, timer time, link latency. */
    readonly x: number,
    readonly bytes: number,
    readonly list: SimPeer[] | undefined,
    /** The receiving end of the connection a message travels on: what was sent on a closed one is never delivered. */
    readonly link: SimLink | undefined = undefined,
  ) {}
}

/** One end of a connection, as its peer sees it (and its sending direction's order: path-model.ts). */
export interface SimLink extends OrderedPath {
  readonly other: SimPeer;
  /** Until this end notices the other left (or drops it). */
  open: boolean;
  /** The other end, which receives what is sent on this one. */
  remote: SimLink | undefined;
  readonly latencyMs: number;
  /** The sending direction's last sequence number, for the codec's short steps (wire-size.ts). */
  readonly txSeq: SeqRef;
}

/** A machine on the network: its access link's queues, shared by every swarm it is in. */
export class SimHost {
  uploadFreeAtMs = 0;
  downloadFreeAtMs = 0;
  constructor(readonly profile: PeerProfile) {}
}

/** One peer in one swarm (a viewer on a ladder has one per rendition it is in). */
export class SimPeer {
  readonly links = new Map<PeerId, SimLink>();
  alive = true;
  leftAtMs = -1;
  timerAtMs = -1;
  /** The WAKE event that counts (earlier ones were superseded). */
  wakeAtMs = -1;
  /** Whom it dials and when it announces: the policy native nodes run. */
  membership!: Membership;
  listedIndex = -1;
  aliveIndex = -1;
  firstPlayMs = -1;
  startSeq = -1;
  offsetMs = 0;
  onTime: Uint8Array | undefined;
  wireBytesOut = 0;
  mediaBytesOut = 0;

  /** The viewer whose rendition lane this is (ladder runs only). */
  agent: AbrAgent | undefined;
  isSource = false;
  /** What a hostile peer does; undefined: an honest peer. */
  hostile: AttackKind | undefined;
  /** Whom it refuses (bans, as CoreDriver keeps them); made at its first ban. */
  admission: Admission | undefined;

  constructor(
    readonly id: PeerId,
    readonly core: PeerCore,
    readonly host: SimHost,
    readonly joinedAtMs: number,
    readonly rendition: number,
  ) {}

  get profile(): PeerProfile {
    return this.host.profile;
  }
}

/** A viewer on a ladder: its host, its AbrSession and the lanes the session opened. */
export class AbrAgent {
  session!: AbrSession;
  readonly lanes = new Map<number, SimPeer>();
  /** Media bytes uploaded by lanes since closed. */
  closedBytesOut = 0;
  firstPlayMs = -1;
  constructor(
    readonly host: SimHost,
    readonly joinedAtMs: number,
  ) {}
}

/** Removes item i by moving the last one into its place; `moved` is told the moved item's new index. */
export function removeAt<T>(items: T[], i: number, moved: (item: T, index: number) => void): void {
  const last = items.pop() as T;
  if (i < items.length) {
    items[i] = last;
    moved(last, i);
  }
}
