// What a PeerCore is told and what it tells: its configuration (with the defaults and the
// measurements behind them), the components a runtime hands it, and the events and counts it
// reports. Data only; the behaviour is in ./peer-core.ts.

import type { VerifyFn } from '../crypto/signatures.js';
import { CHUNK_MS, type Chunk } from './chunk.js';
import type { PeerRole } from './codec.js';
import type { MessageBudgets } from './message-budget.js';
import { DEFAULT_MESSAGE_BUDGETS } from './message-budget.js';
import type { Misbehaviour } from './misbehaviour.js';
import type { PlayoutAction } from './playout.js';
import type { RandomFn } from './random.js';

export type PeerId = string;

export interface PeerCoreConfig {
  role: PeerRole;
  /** Most neighbours kept at once. @default 32 */
  maxNeighbours: number;
  /** Chunks kept for relaying behind the newest one. @default 60 s of CHUNK_MS chunks (600 at 100 ms) */
  windowChunks: number;
  /** Requests outstanding to one neighbour. @default 8 */
  maxPendingPerPeer: number;
  /** A request not answered within this is given up and retried elsewhere. @default 1500 */
  requestTimeoutMs: number;
  /** How long a viewer waits for another viewer to offer a chunk before asking the source. @default 400 */
  sourceGraceMs: number;
  /** A chunk due within this is fetched from anyone, the source included. @default 800 */
  urgentMs: number;
  /** Neighbours the source pushes each fresh chunk to. @default 1 */
  sourcePushFanout: number;
  /** Period of the scheduling and housekeeping timer. @default 100 */
  tickMs: number;
  /** A neighbour that sends no hello within this is dropped. @default 5000 */
  helloTimeoutMs: number;
  /** Playout slack after the start lag before a chunk counts as late. @default 1500 */
  playoutSlackMs: number;
  /** A late chunk on its way is waited for (a stall) while it would play within this of capture. @default 8000 */
  maxPlayoutLagMs: number;
  /**
   * Playback first starts no closer than this to its first chunk's capture (see
   * PlayoutConfig.minStartLagMs); not after a broadcaster restart. @default 1500
   */
  minStartLagMs: number;
  /** A viewer that missed media within this long is short of supply (see supplyShort). @default 10000 */
  shortSupplyMs: number;
  /** Duration assumed per chunk until measured. @default CHUNK_MS */
  nominalChunkMs: number;
  /** Advertised chunks further than this ahead of the newest verified one are ignored. @default 10 s of chunks (100 at 100 ms) */
  maxAheadChunks: number;
  /** Requests a neighbour may make per second, sustained. @default 12 500 / CHUNK_MS (125 at 100 ms) */
  requestRatePerS: number;
  /** Requests a neighbour may make in one burst. @default twice the rate (250 at 100 ms) */
  requestBurst: number;
  /** Strikes (advertised-but-missing chunks, unrequested replays) before a neighbour is dropped. @default 6 */
  maxStrikes: number;
  /** The viewer's choice: relay chunks to others at all. @default true */
  uploadEnabled: boolean;
  /** The viewer's cap on relaying, bits per second; undefined: no cap. @default undefined */
  uploadLimitBps: number | undefined;
  /** Ask the runtime to fetch from the broadcaster's HTTP origin a chunk no neighbour offers
   * when it is due within `originUrgentMs`. @default false */
  originFallback: boolean;
  /** @default 700 */
  originUrgentMs: number;
  /**
   * A neighbour idle this long may be dropped for a newcomer when we are full. Activity is
   * useful traffic only: chunks it sent us, requests for chunks we hold, the source's pushes to
   * it, answers to our requests; a peer that only asks for what nobody holds is idle.
   * @default 10000
   */
  idleEvictMs: number;
  /** What each neighbour may send, by message kind (./message-budget.ts). */
  messageBudgets: MessageBudgets;
  /**
   * A viewer does not start on a chunk captured longer ago than this: 30 s of delay a live
   * channel may have, plus 30 s for the broadcaster's and the viewer's clocks to disagree.
   * Older chunks are a replay (or a channel that stopped): the viewer says so and keeps
   * looking. @default 60000
   */
  maxStartAgeMs: number;
  /** A viewer that got nothing new for this long, while a neighbour offers a keyframe far past
   * its window, takes the channel as restarted. @default 1500 */
  restartSilenceMs: number;
  /**
   * With an upload cap, the core paces uploads itself: accepted requests wait in its own queue,
   * the runtime gets one chunk at a time as the cap allows (so its send queue stays short), and
   * a request is answered Busy when the queue would take longer than this to drain. Short: a
   * chunk queued behind others at a slow uplink is better fetched elsewhere (in the simulator at
   * rho 1.25, 150 ms against 500 ms cut the median lag from 4.6 to 3.3 s and raised
   * continuity). @default 150
   */
  maxUploadBacklogMs: number;
  /**
   * A request for a chunk due at the player within this is sent urgent (protocol 5). @default 500
   */
  urgentRequestMs: number;
  /**
   * A viewer flags requests urgent only this long after its playback starts: while it joins,
   * with a short buffer and neighbours that do not know it yet. Later, in a starved swarm,
   * serving first the viewers furthest behind slowed every chunk's spread. @default 10000
   */
  urgentJoinMs: number;
  /**
   * With an upload cap, an urgent request is still taken while the queue drains within
   * maxUploadBacklogMs plus this, and goes ahead of the queue: a viewer about to stall gets its
   * chunk before requests that can wait. @default 300
   */
  urgentBacklogMs: number;
  /** With an upload cap, the next chunk goes to the runtime this long before the previous one has left. @default 20 */
  uploadLeadMs: number;
  /**
   * With an upload cap, upload left unused may be spent later, up to this much of it: a cap
   * that is a budget on a faster line (a broadcaster's) sends a chunk asked for right after a
   * push at the line's speed, so askers measure the line, not the budget. 0 for a cap that
   * is the line itself. @default 0
   */
  uploadBurstMs: number;
  /**
   * Retry hint of a Busy sent for a chunk the asker was sent already or says it holds (a Busy
   * for a full upload queue says when the queue has room instead), and the shortest a viewer
   * waits before asking a busy source again. The asker leaves the neighbour alone for one to
   * two times the hint. @default 300
   */
  busyBackoffMs: number;
  /**
   * A viewer that answered Busy is not asked again sooner than this, whatever its hint. Most
   * hints were under 50 ms (a queue just over its bound): room opens only as the chunk ahead
   * leaves, so asking again at once was answered Busy again, a round trip later. Busy was 44%
   * of the messages of a swarm. With 100 ms, at 2,000 peers x 30 s (seeds 4, 5): 9-10% fewer
   * messages (events), overhead 1.52 -> 1.47%, startup p95 2.01 -> 1.90 s, continuity p5 0.974
   * -> 0.976, lag p50 2.60 -> 2.65 s; at 1,000 peers (seeds 1-3) lag p50 2.50 -> 2.39 s. @default 100
   */
  busyFloorMs: number;
  /** With an upload cap, a viewer forwards each fresh chunk pushed to it at once to this many relaying neighbours that lack it. @default 2 */
  freshPushFanout: number;
  /**
   * A fresh chunk is pushed only while at most this share of the relaying neighbours is known to
   * hold it: later, pushes mostly cross requests and arrive twice. @default 0.1
   */
  pushMaxHolderShare: number;
}

export const DEFAULT_PEER_CORE_CONFIG: Omit<PeerCoreConfig, 'role'> = {
  maxNeighbours: 32,
  windowChunks: 60_000 / CHUNK_MS,
  maxPendingPerPeer: 8,
  requestTimeoutMs: 1500,
  sourceGraceMs: 400,
  urgentMs: 800,
  sourcePushFanout: 1,
  tickMs: 100,
  helloTimeoutMs: 5000,
  playoutSlackMs: 1500,
  maxPlayoutLagMs: 8000,
  minStartLagMs: 1500,
  shortSupplyMs: 10_000,
  nominalChunkMs: CHUNK_MS,
  maxAheadChunks: 10_000 / CHUNK_MS,
  requestRatePerS: 12_500 / CHUNK_MS,
  requestBurst: 25_000 / CHUNK_MS,
  maxStrikes: 6,
  uploadEnabled: true,
  uploadLimitBps: undefined,
  originFallback: false,
  originUrgentMs: 700,
  idleEvictMs: 10_000,
  messageBudgets: DEFAULT_MESSAGE_BUDGETS,
  maxStartAgeMs: 60_000,
  restartSilenceMs: 1500,
  maxUploadBacklogMs: 150,
  urgentRequestMs: 500,
  urgentJoinMs: 10_000,
  urgentBacklogMs: 300,
  uploadLeadMs: 20,
  uploadBurstMs: 0,
  busyBackoffMs: 300,
  busyFloorMs: 100,
  freshPushFanout: 2,
  pushMaxHolderShare: 0.1,
};

export interface PeerCoreComponents {
  /** Raw Ed25519 public key of the channel: chunks signed by anything else are refused. */
  channelKey: Uint8Array;
  localPeerId: Uint8Array;
  verify: VerifyFn;
  random: RandomFn;
  /**
   * What a message body of this many bytes costs on the link: the transport's framing (TCP's
   * length prefix) added. @default the body alone (WebRTC data channels frame messages themselves)
   */
  wireBytes?: (bodyBytes: number) => number;
}

export type CoreEvent =
  | { type: 'hello'; peer: PeerId; peerId: Uint8Array; role: PeerRole }
  /** The peer broke a rule (./neighbour-rules.ts); the runtime's policy decides what follows (drop, ban). */
  | ({ type: 'misbehaved'; peer: PeerId } & Misbehaviour)
  | { type: 'chunk'; chunk: Chunk; from: PeerId | undefined }
  /** A chunk about to miss its deadline that no neighbour offers: fetch it from the origin. */
  | { type: 'origin-fetch'; seq: number }
  /** The channel restarted (a broadcaster restart): playback begins again at its new chunks. */
  | { type: 'restarted' }
  /**
   * The newest keyframe offered was captured `ageMs` ago, past maxStartAgeMs: the channel is
   * not live (or a peer replays old chunks). Playback waits for fresh chunks. Once per offer.
   */
  | { type: 'not-live'; seq: number; ageMs: number }
  | PlayoutAction;

export interface NeighbourStats {
  peer: PeerId;
  role: PeerRole | 'unknown';
  bytesIn: number;
  bytesOut: number;
  pending: number;
}

export interface CoreStats {
  neighbours: number;
  mediaBytesIn: number;
  mediaBytesInFromSource: number;
  mediaBytesOut: number;
  duplicateBytes: number;
  /** Requests taken back by their askers (Cancel) before their chunk left our upload queue. */
  uploadsCancelled: number;
  chunksPlayed: number;
  chunksLate: number;
  chunksSkipped: number;
  mediaMsPlayed: number;
  mediaMsMissed: number;
  lastLagMs: number | undefined;
  /** When the newest verified chunk arrived (viewers): a long silence means the source is gone. */
  lastChunkAtMs: number | undefined;
  newestSeq: number | undefined;
  started: boolean;
  /** When media was last skipped or late (viewers). */
  lastMissAtMs: number | undefined;
}

/** The counts of a core that has done nothing yet. */
export function emptyCoreStats(): CoreStats {
  return {
    neighbours: 0,
    mediaBytesIn: 0,
    mediaBytesInFromSource: 0,
    mediaBytesOut: 0,
    duplicateBytes: 0,
    uploadsCancelled: 0,
    chunksPlayed: 0,
    chunksLate: 0,
    chunksSkipped: 0,
    mediaMsPlayed: 0,
    mediaMsMissed: 0,
    lastLagMs: undefined,
    lastChunkAtMs: undefined,
    newestSeq: undefined,
    started: false,
    lastMissAtMs: undefined,
  };
}
