// What a simulation is asked (SimConfig, with the defaults every scenario starts from) and
// what it gives back (SimResult: per-viewer results and swarm totals). Plain data, shared by
// the simulator, its command line and its report.

import { CHUNK_MS } from '../protocol/chunk.js';
import type { PeerCoreConfig } from '../protocol/core-types.js';
import type { AttackKind } from './hostile.js';
import type { MsHistogram } from './metrics.js';

export interface SimConfig {
  /** Viewers in the audience (N), kept stable under churn. */
  peers: number;
  /** Length of the stream in seconds of virtual time. */
  durationS: number;
  /** Resource index: (source upload + sum of viewers' uploads) / (N x r). */
  rho: number;
  /** Share of viewers that upload nothing, 0..1. */
  freeRiders: number;
  /** Share of the audience leaving per minute without goodbye (0.2 = 20%/min); each is replaced at once. */
  churnPerMin: number;
  /** The audience joins uniformly within this many seconds from the start. @default 10 */
  joinWindowS: number;
  seed: number;
  /** Stream bitrate r. @default 1_000_000 */
  bitrateBps: number;
  /** Media time per chunk; one chunk is cut every chunkMs. @default CHUNK_MS */
  chunkMs: number;
  /** A keyframe (a chunk playback can start from) every this much media time. @default 1000 */
  keyframeIntervalMs: number;
  /**
   * Source upload capacity in multiples of r, counted in rho: what the broadcaster grants the
   * swarm (its core's upload cap). @default 1.5 (S <= 1.5 is the target; a bigger source mostly
   * serves requests a better-fed swarm would not make)
   */
  sourceUploadFactor: number;
  /** Neighbours a viewer dials up to (it accepts up to the core's maxNeighbours). @default 8 */
  dialTarget: number;
  /** Peers in one tracker answer (the source first). @default 30 */
  trackerAnswerPeers: number;
  /** @default 5000 */
  announceIntervalMs: number;
  /** A departed peer stays listed at the tracker this long after its last announce. @default 15000 */
  trackerPeerTtlMs: number;
  /** A dial to a peer that is gone fails after this. @default 4000 */
  dialTimeoutMs: number;
  /** A neighbour notices a silent departure after a delay drawn uniformly in this range. @default [2000, 6000] */
  leaveDetectMs: [number, number];
  /** Overrides of the core's configuration (tuning experiments). */
  core: Partial<PeerCoreConfig>;
  /**
   * A quality ladder, lowest first: one swarm per rendition, viewers on AbrSession (auto) with a
   * mixed-capacity audience (see drawAbrProfiles) instead of rho. Undefined: one stream of bitrateBps.
   */
  renditions: SimRendition[] | undefined;
  /** With renditions: share of the audience on weak lines. @default 0.5 */
  weakShare: number;
  /**
   * With renditions: a viewer that moved up keeps relaying the lowest rendition (its lane stays
   * open, unplayed), so strong uplinks feed the weak viewers' swarm, as native viewers do.
   * False: viewers are only in the swarm of what they play. @default true
   */
  relayLowest: boolean;
  /** Hostile peers joining besides the N viewers, as a share of N (0.1: 100 more for N = 1,000). @default 0 */
  attackers: number;
  /** What the hostile peers do (src/sim/hostile.ts). @default 'slots' */
  attack: AttackKind;
  /** Share of packets lost on peer links, each costing a retransmission (src/sim/path-model.ts). @default 0 */
  loss: number;
  /** Mean of the exponential queueing delay added to every message on a peer link. @default 0 */
  jitterMs: number;
}

export interface SimRendition {
  name: string;
  bitrateBps: number;
}

export const DEFAULT_SIM_CONFIG: SimConfig = {
  peers: 200,
  durationS: 60,
  rho: 1.25,
  freeRiders: 0.2,
  churnPerMin: 0,
  joinWindowS: 10,
  seed: 1,
  bitrateBps: 1_000_000,
  chunkMs: CHUNK_MS,
  keyframeIntervalMs: 1000,
  sourceUploadFactor: 1.5,
  dialTarget: 8,
  trackerAnswerPeers: 30,
  announceIntervalMs: 5000,
  trackerPeerTtlMs: 15_000,
  dialTimeoutMs: 4000,
  leaveDetectMs: [2000, 6000],
  core: {},
  renditions: undefined,
  weakShare: 0.5,
  relayLowest: true,
  attackers: 0,
  attack: 'slots',
  loss: 0,
  jitterMs: 0,
};

export interface PeerResult {
  freeRider: boolean;
  uploadBps: number;
  joinedAtMs: number;
  leftAtMs: number | undefined;
  startupMs: number | undefined;
  continuity: number | undefined;
  mediaBytesOut: number;
  /** With renditions: the viewer's line, what it played and how often it switched. */
  abr?: AbrPeerResult;
}

export interface AbrPeerResult {
  weak: boolean;
  /** Rendition feeding the player at the end. */
  final: number;
  /** Media time played per rendition / all media time played. */
  playedShare: number[];
  switches: { up: number; down: number };
}

export interface SimTotals {
  sourceWireBytesOut: number;
  sourceMediaBytesOut: number;
  /** Payload bytes received by viewers for the first time. */
  mediaBytesDelivered: number;
  duplicateBytes: number;
  /** Peer-wire bytes that are not chunk payload (headers, signatures, framing, control). */
  controlBytes: number;
  /** Estimated HTTP bytes of tracker announces and answers. */
  trackerBytes: number;
  freeRiderMediaBytesOut: number;
  /** Payload bytes the source produced, all renditions (what S is measured against). */
  bytesProduced: number;
  events: number;
  misbehaved: number;
  /** Why neighbours were reported, by reason (peer-specific numbers removed). */
  misbehavedReasons: Record<string, number>;
  /** Of those, links to hostile peers dropped. */
  hostileDropped: number;
  chunksPublished: number;
}

export interface SimResult {
  config: SimConfig;
  peers: PeerResult[];
  lag: MsHistogram;
  totals: SimTotals;
}
