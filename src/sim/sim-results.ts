// What a simulated viewer's run comes to: startup, continuity as docs/measures.md defines it, and the
// media it uploaded. Read once, when the run ends.

import type { MsHistogram } from './metrics.js';
import type { PeerResult, SimConfig, SimResult, SimTotals } from './sim-config.js';
import type { AbrAgent, SimPeer } from './sim-peer.js';

/** The totals of a run that has not started. */
export function emptySimTotals(): SimTotals {
  return {
    sourceWireBytesOut: 0,
    sourceMediaBytesOut: 0,
    mediaBytesDelivered: 0,
    duplicateBytes: 0,
    controlBytes: 0,
    trackerBytes: 0,
    freeRiderMediaBytesOut: 0,
    bytesProduced: 0,
    events: 0,
    misbehaved: 0,
    misbehavedReasons: {},
    hostileDropped: 0,
    chunksPublished: 0,
  };
}

export interface FinishedRun {
  config: SimConfig;
  /** The broadcaster's peers, one per rendition, on one host. */
  sources: readonly SimPeer[];
  /** Every peer the run made. */
  all: readonly SimPeer[];
  agents: readonly AbrAgent[];
  lag: MsHistogram;
  totals: SimTotals;
  chunkCount: number;
}

/** What the whole run comes to at `endMs`: the totals completed from the peers' counts, and each viewer's result. */
export function runResult(run: FinishedRun, endMs: number): SimResult {
  const { totals } = run;
  const peers: PeerResult[] = [];
  // The sources share one host: its wire and media bytes are counted on each lane.
  for (const source of run.sources) {
    totals.sourceWireBytesOut += source.wireBytesOut;
    totals.sourceMediaBytesOut += source.mediaBytesOut;
  }
  for (const p of run.all) {
    if (p.isSource || p.hostile !== undefined) continue;
    const stats = p.core.getStats();
    totals.mediaBytesDelivered += stats.mediaBytesIn;
    totals.duplicateBytes += stats.duplicateBytes;
    if (p.agent !== undefined) continue;
    peers.push(peerResult(p, endMs, run.chunkCount, run.config.chunkMs));
  }
  for (const agent of run.agents) if (agent.session !== undefined) peers.push(agentResult(agent, endMs));
  return {
    config: run.config,
    peers,
    lag: run.lag,
    totals: { ...totals, misbehavedReasons: { ...totals.misbehavedReasons } },
  };
}

/** A native viewer (one swarm), from its join until the run's end or its leaving. */
export function peerResult(p: SimPeer, endMs: number, chunkCount: number, chunkMs: number): PeerResult {
  return {
    freeRider: p.profile.freeRider,
    uploadBps: p.profile.uploadBytesPerMs * 8000,
    joinedAtMs: p.joinedAtMs,
    leftAtMs: p.alive ? undefined : p.leftAtMs,
    startupMs: p.firstPlayMs < 0 ? undefined : p.firstPlayMs - p.joinedAtMs,
    continuity: continuity(p, p.alive ? endMs : p.leftAtMs, chunkCount, chunkMs),
    mediaBytesOut: p.mediaBytesOut,
  };
}

/** A viewer on a ladder, over its lanes. */
export function agentResult(agent: AbrAgent, endMs: number): PeerResult {
  const t = agent.session.totals();
  const due = t.mediaMsPlayed + t.mediaMsMissed;
  const played = agent.session.playedMsByRendition();
  const playedTotal = played.reduce((a, b) => a + b, 0);
  let out = agent.closedBytesOut;
  for (const lane of agent.lanes.values()) out += lane.mediaBytesOut;
  return {
    freeRider: agent.host.profile.freeRider,
    uploadBps: agent.host.profile.uploadBytesPerMs * 8000,
    joinedAtMs: agent.joinedAtMs,
    leftAtMs: undefined,
    startupMs: agent.firstPlayMs < 0 ? undefined : agent.firstPlayMs - agent.joinedAtMs,
    // Like a native viewer's: media time played on time / media time due, while a lane fed the player.
    continuity: agent.firstPlayMs < 0 || due === 0 || endMs <= agent.firstPlayMs ? undefined : t.mediaMsPlayed / due,
    mediaBytesOut: out,
    abr: {
      weak: agent.host.profile.weak === true,
      final: agent.session.current,
      playedShare: played.map((ms) => (playedTotal === 0 ? 0 : ms / playedTotal)),
      switches: agent.session.switches,
    },
  };
}

/**
 * docs/measures.md: media time played on time / media time due after startup. A chunk is due once its
 * playout deadline (capture + the offset fixed at the first play) has passed before `untilMs`;
 * undefined when nothing was due yet.
 */
function continuity(p: SimPeer, untilMs: number, chunkCount: number, chunkMs: number): number | undefined {
  if (p.firstPlayMs < 0 || p.onTime === undefined) return undefined;
  // deadline(seq) = seq * chunkMs + offset <= untilMs
  const lastDue = Math.min(chunkCount - 1, Math.floor((untilMs - p.offsetMs) / chunkMs));
  const due = lastDue - p.startSeq + 1;
  if (due <= 0) return undefined;
  let onTime = 0;
  for (let i = 0; i < due; i++) onTime += p.onTime[i] as number;
  return onTime / due;
}
