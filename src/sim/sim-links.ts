// The link model of the simulator: opening a link (the dialled side decides as
// CoreDriver.refuseIncoming does), closing one, and carrying a message over it. Control
// messages cost only latency; chunks wait in the sender's upload queue, serialized at its
// capacity, then (on ARRIVE) in the receiver's download queue.

import { MsgType, type WireMessage } from '../protocol/codec.js';
import type { PeerId } from '../protocol/core-types.js';
import type { EventQueue } from './event-queue.js';
import { onLinkOpen } from './hostile.js';
import type { PathModel } from './path-model.js';
import type { SimTotals } from './sim-config.js';
import { ARRIVE, DELIVER, SimEvent, type SimLink, type SimPeer } from './sim-peer.js';
import { messageWireBytes } from './wire-size.js';

export interface SimLinksInit {
  queue: EventQueue<SimEvent>;
  totals: SimTotals;
  /** After every input to a peer's core: send what it queued, record its events, re-arm its timer. */
  drain: (p: SimPeer, now: number) => void;
  /** The newest chunk the broadcaster has cut (hostile peers aim at the live edge). */
  newestSeq: () => number;
  /** Loss and jitter on the way (off by default). */
  path: PathModel;
}

export class SimLinks {
  constructor(private readonly init: SimLinksInit) {}

  /**
   * Control messages go out ahead of queued media (a runtime keeps its own send queue and
   * writes control frames first), so they cost only latency. Chunks wait in the sender's
   * upload queue, serialized at its capacity, then in the receiver's download queue.
   */
  send(p: SimPeer, to: PeerId, msg: WireMessage, now: number): void {
    const { queue, totals, path } = this.init;
    const link = p.links.get(to);
    if (link === undefined) return;
    const bytes = messageWireBytes(msg, link.txSeq);
    if (msg.type === MsgType.ChunkData) {
      const media = msg.chunk.payload.length;
      if (p.profile.uploadBytesPerMs === 0) {
        // The core was told this peer uploads nothing; if it sends anyway, count it and drop it.
        totals.freeRiderMediaBytesOut += media;
        return;
      }
      p.mediaBytesOut += media;
      p.wireBytesOut += bytes;
      if (p.profile.freeRider) totals.freeRiderMediaBytesOut += media;
      totals.controlBytes += bytes - media;
      const finish = Math.max(now, p.host.uploadFreeAtMs) + bytes / p.profile.uploadBytesPerMs;
      p.host.uploadFreeAtMs = finish;
      queue.push(
        path.arrival(link, finish, link.latencyMs, bytes),
        new SimEvent(ARRIVE, link.other, p, msg, finish, bytes, undefined, link.remote),
      );
      return;
    }
    p.wireBytesOut += bytes;
    // What hostile peers send is the attack, not the protocol's overhead.
    if (p.hostile === undefined) totals.controlBytes += bytes;
    queue.push(path.arrival(link, now, link.latencyMs, bytes), new SimEvent(DELIVER, link.other, p, msg, 0, bytes, undefined, link.remote));
  }

  /** p's dial reached q: the link opens unless either side refuses (bans, or q full with nobody idle). */
  connect(p: SimPeer, q: SimPeer, latencyMs: number, now: number): void {
    if (!p.alive || p.links.has(q.id) || !p.core.acceptsNeighbour()) return;
    // The dialled side decides as CoreDriver.refuseIncoming: bans first, then, when full, the
    // neighbour idle for longest makes room.
    if (q.admission?.refusal(now, p.id, p.id) !== undefined || p.admission?.refusal(now, q.id, q.id) !== undefined) return;
    if (!q.core.acceptsNeighbour()) {
      const idle = q.core.idleNeighbour(now);
      const gone = idle === undefined ? undefined : q.links.get(idle)?.other;
      if (gone === undefined) return;
      this.disconnect(q, gone, now);
      this.disconnect(gone, q, now);
      if (!q.core.acceptsNeighbour()) return;
    }
    const pq: SimLink = { other: q, open: true, remote: undefined, latencyMs, txSeq: { seq: 0 }, departedAtMs: 0, arrivesAtMs: 0 };
    const qp: SimLink = { other: p, open: true, remote: pq, latencyMs, txSeq: { seq: 0 }, departedAtMs: 0, arrivesAtMs: 0 };
    pq.remote = qp;
    p.links.set(q.id, pq);
    q.links.set(p.id, qp);
    p.core.handleConnected(now, q.id);
    q.core.handleConnected(now, p.id);
    this.init.drain(p, now);
    this.init.drain(q, now);
    for (const [a, b] of [
      [p, q],
      [q, p],
    ] as const)
      if (a.hostile !== undefined) for (const msg of onLinkOpen(a.hostile, this.init.newestSeq())) this.send(a, b.id, msg, now);
  }

  /** p hears that its link to `gone` closed. */
  disconnect(p: SimPeer, gone: SimPeer, now: number): void {
    const link = p.links.get(gone.id);
    if (!p.alive || link === undefined) return;
    link.open = false;
    p.links.delete(gone.id);
    p.core.handleDisconnected(now, gone.id);
    this.init.drain(p, now);
  }
}
