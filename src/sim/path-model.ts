// Packet loss and delay jitter on the simulated links (--loss, --jitter-ms). The kernel here has
// `tbf` but no `netem`, so lossy and jittery paths are measured in the simulator only.
//
// Peer links are reliable and ordered (TCP for native nodes, an ordered SCTP data channel for
// browsers), so a lost packet is never a lost message: it is a message that arrives late, and
// everything sent after it on that link waits behind it (head-of-line blocking). So:
// - a message of k packets (the wire bytes over PACKET_PAYLOAD_BYTES, rounded up) loses each
//   one with probability `loss`, and each loss delays it by one retransmission timeout:
//   max(200 ms, 2 x the round trip) (Linux TCP's floor is 200 ms; fast retransmit is sooner when
//   more data follows, so this is the pessimistic side);
// - every message is also delayed by an exponential queueing delay of mean `jitterMs`;
// - a message never arrives before one that left earlier on the same link direction.
// Off (both 0), it draws nothing and changes nothing: a run gives the same report as before
// the model existed.

import type { RandomFn } from '../protocol/random.js';

/** Payload of one packet: a 1280-byte path MTU less IP, UDP/TCP and DTLS/SCTP headers, rounded. */
export const PACKET_PAYLOAD_BYTES = 1200;

/** The floor of a retransmission timeout (Linux TCP's RTO minimum). */
export const MIN_RTO_MS = 200;

/** What a link direction remembers to keep its messages in order. */
export interface OrderedPath {
  /** Departure time of the latest message that left on it. */
  departedAtMs: number;
  /** When that message arrives. */
  arrivesAtMs: number;
}

export class PathModel {
  constructor(
    private readonly loss: number,
    private readonly jitterMs: number,
    private readonly random: RandomFn,
  ) {
    if (!(loss >= 0 && loss < 1)) throw new RangeError(`loss must be in [0, 1), got ${loss}`);
    if (!(jitterMs >= 0)) throw new RangeError(`jitter must be >= 0 ms, got ${jitterMs}`);
  }

  get active(): boolean {
    return this.loss > 0 || this.jitterMs > 0;
  }

  /**
   * When a message of `bytes` that leaves at `departMs` on `path` (one-way delay `latencyMs`)
   * arrives; updates the path.
   */
  arrival(path: OrderedPath, departMs: number, latencyMs: number, bytes: number): number {
    let at = departMs + latencyMs;
    if (!this.active) return at;
    if (this.jitterMs > 0) at += -this.jitterMs * Math.log(1 - this.random());
    if (this.loss > 0) {
      const rtoMs = Math.max(MIN_RTO_MS, 4 * latencyMs);
      const packets = Math.max(1, Math.ceil(bytes / PACKET_PAYLOAD_BYTES));
      for (let i = 0; i < packets; i++) if (this.random() < this.loss) at += rtoMs;
    }
    // A message that left after the path's latest one waits behind it. One that left before
    // (control written ahead of a chunk still being serialized) was ahead of it on the wire.
    if (departMs >= path.departedAtMs) {
      at = Math.max(at, path.arrivesAtMs);
      path.departedAtMs = departMs;
      path.arrivesAtMs = at;
    }
    return at;
  }
}
