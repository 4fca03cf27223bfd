// What a simulated viewer's run comes to: startup, continuity as docs/measures.md defines it, and the
// media it uploaded. Read once, when the run ends.

import type { PeerResult } from './sim-config.js';
import type { AbrAgent, SimPeer } from './sim-peer.js';

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
