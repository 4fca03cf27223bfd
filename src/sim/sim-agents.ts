// A viewer on a ladder (AbrAgent): its ABR session's hooks open and close its lanes (each a
// peer in one rendition's swarm, all on the viewer's one access link), measure what reaches
// its player, and split its uplink between the lanes, as a native viewer's session does.

import type { AbrSessionHooks } from '../protocol/abr-session.js';
import type { MsHistogram } from './metrics.js';
import type { AbrAgent, SimPeer } from './sim-peer.js';

export interface LaneWiring {
  /** The virtual time now. */
  now: () => number;
  /** A new peer of `agent` in rendition `index`'s swarm, joining now. */
  openLane: (agent: AbrAgent, index: number) => SimPeer;
  /** A lane its viewer closed leaves. */
  closeLane: (lane: SimPeer) => void;
  lag: MsHistogram;
}

export function laneHooks(agent: AbrAgent, w: LaneWiring): AbrSessionHooks {
  return {
    open: (index) => {
      const lane = w.openLane(agent, index);
      lane.agent = agent;
      agent.lanes.set(index, lane);
      return lane.core;
    },
    close: (index) => {
      const lane = agent.lanes.get(index);
      if (lane === undefined) return;
      agent.lanes.delete(index);
      agent.closedBytesOut += lane.mediaBytesOut;
      w.closeLane(lane);
    },
    output: (e) => {
      if (e.type !== 'play') return;
      if (agent.firstPlayMs < 0) agent.firstPlayMs = w.now();
      w.lag.add(w.now() - e.chunk.captureTimeMs);
    },
    // The lanes share the viewer's uplink, as a native viewer's share its --upload-limit.
    lanesChanged: () => {
      if (agent.session === undefined) return;
      const cap = agent.host.profile.uploadBytesPerMs * 8000;
      for (const [index, share] of agent.session.uploadShares()) {
        agent.lanes.get(index)?.core.setUploadPolicy(!agent.host.profile.freeRider, cap * share);
      }
    },
  };
}
