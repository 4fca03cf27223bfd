// What the simulator does with the events of an honest peer's core: a play is measured (lag,
// on time), a lane's play or skip goes to its viewer's ABR session, and a misbehaving
// neighbour is counted by its code's group and punished as CoreDriver.punish does.

import { Admission } from '../protocol/admission.js';
import type { CoreEvent } from '../protocol/core-types.js';
import { MISBEHAVIOUR_GROUPS } from '../protocol/misbehaviour.js';
import type { MsHistogram } from './metrics.js';
import type { SimTotals } from './sim-config.js';
import type { SimLinks } from './sim-links.js';
import type { SimPeer } from './sim-peer.js';

export interface SimCoreEventsInit {
  totals: SimTotals;
  lag: MsHistogram;
  links: SimLinks;
  /** The core's playout slack (a play's deadline is its capture time plus offset and slack). */
  slackMs: number;
  /** Chunks the broadcaster cuts in the whole run. */
  chunkCount: number;
}

export class SimCoreEvents {
  constructor(private readonly init: SimCoreEventsInit) {}

  record(p: SimPeer, e: CoreEvent, now: number): void {
    const agent = p.agent;
    if (agent !== undefined && (e.type === 'play' || e.type === 'skip')) {
      // A lane of a viewer on a ladder: its session decides what reaches the player.
      if (e.type === 'play') agent.session.played(p.rendition, e.chunk, now);
      else agent.session.skipped(p.rendition, e.seq);
      return;
    }
    if (e.type === 'play') {
      if (p.firstPlayMs < 0) {
        p.firstPlayMs = now;
        p.startSeq = e.chunk.seq;
        // The core's playout: deadline = capture time + (first play - first capture + slack).
        p.offsetMs = now - e.chunk.captureTimeMs + this.init.slackMs;
        p.onTime = new Uint8Array(Math.max(0, this.init.chunkCount - p.startSeq));
      }
      this.init.lag.add(e.lagMs);
      if (!e.late && p.onTime !== undefined) p.onTime[e.chunk.seq - p.startSeq] = 1;
    } else if (e.type === 'misbehaved') this.misbehaved(p, e, now);
  }

  private misbehaved(p: SimPeer, e: Extract<CoreEvent, { type: 'misbehaved' }>, now: number): void {
    const totals = this.init.totals;
    // Honest simulated peers never misbehave: without hostile peers, a report is a core bug.
    totals.misbehaved++;
    if (p.links.get(e.peer)?.other.hostile !== undefined) totals.hostileDropped++;
    const group = MISBEHAVIOUR_GROUPS[e.code];
    totals.misbehavedReasons[group] = (totals.misbehavedReasons[group] ?? 0) + 1;
    const link = p.links.get(e.peer);
    if (link !== undefined) {
      // As CoreDriver.punish: drop it, and refuse its key and its address (one per peer here).
      p.admission ??= new Admission();
      p.admission.ban(now, link.other.id, link.other.id);
      this.init.links.disconnect(p, link.other, now);
      this.init.links.disconnect(link.other, p, now);
    }
  }
}
