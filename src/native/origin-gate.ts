// Who the broadcaster's HTTP origin serves, within its own upload budget (no I/O; time is
// passed in). Two kinds of request reach the origin:
//   - a browser with no reachable peer streams the channel from it: it asks for the live edge
//     and gets a lease, a slot sized to one copy of the stream, while slots remain;
//   - a browser with peers fetches a chunk now and then that the swarm did not bring in time.
// Leased streams come first; the rest of the budget answers the occasional fetches, which are
// refused once it is spent. So the origin's upload stays within its budget however many
// browsers ask, and a page that finds no slot can tell its user why.

import { hostGroup } from '../protocol/admission.js';

export interface OriginGateConfig {
  /** The origin's upload budget, bit/s (it may follow the stream's measured rate). */
  budgetBps: () => number;
  /** The stream's rate, bit/s, as measured now (a lease is one copy of it). */
  streamBps: () => number;
  /** A new lease's id: unguessable, so one client cannot spend another's slot. */
  newLeaseId: () => string;
}

/** A lease's own allowance over the stream's rate: keyframes and catching up after a stall. */
const LEASE_HEADROOM = 1.25;
/** Bursts each bucket absorbs, in seconds of its rate (a lease's first fetch is a whole keyframe chunk). */
const BURST_S = 4;
/** A lease no chunk fetch renewed for this long is free again (the page found peers or left). */
export const LEASE_IDLE_MS = 6000;
/** Leases per address group (an IPv4 address, an IPv6 /64): one household may watch on two screens. */
export const LEASES_PER_ADDRESS = 2;

interface Lease {
  readonly group: string;
  tokens: number;
  lastUseMs: number;
  /** Bytes drawn since windowStartMs: a lease is kept by streaming, not by a fetch now and then. */
  windowStartMs: number;
  windowBytes: number;
}

export type Admission = { lease: string } | { refused: 'full' | 'address' };

export class OriginGate {
  private readonly leases = new Map<string, Lease>();
  /** Bytes the whole origin may still send now (negative: leased streams overdrew it). */
  private tokens: number;
  private lastRefillMs: number | undefined;

  constructor(private readonly config: OriginGateConfig) {
    this.tokens = (config.budgetBps() / 8) * BURST_S;
  }

  /** How many streams the budget holds at the stream's current rate (at least one). */
  slots(): number {
    const stream = Math.max(1, this.config.streamBps());
    return Math.max(1, Math.floor(this.config.budgetBps() / (stream * LEASE_HEADROOM)));
  }

  /** A peerless browser asks to stream from the origin. */
  admit(client: string, nowMs: number): Admission {
    this.expire(nowMs);
    const group = hostGroup(client);
    let fromGroup = 0;
    for (const l of this.leases.values()) if (l.group === group) fromGroup++;
    // Never every slot to one address, however few there are.
    const slots = this.slots();
    if (this.leases.size >= slots) return { refused: 'full' };
    if (fromGroup >= Math.max(1, Math.min(LEASES_PER_ADDRESS, slots - 1))) return { refused: 'address' };
    const id = this.config.newLeaseId();
    this.leases.set(id, { group, tokens: this.leaseBurst(), lastUseMs: nowMs, windowStartMs: nowMs, windowBytes: 0 });
    return { lease: id };
  }

  /** Whether `leaseId` is a live lease of `client`'s address. */
  holds(client: string, leaseId: string | undefined, nowMs: number): boolean {
    const lease = leaseId === undefined ? undefined : this.leases.get(leaseId);
    return lease !== undefined && lease.group === hostGroup(client) && nowMs - lease.lastUseMs <= LEASE_IDLE_MS;
  }

  /**
   * Whether `bytes` may be sent to `client` now, and if so they are counted. A valid lease is
   * served up to its own rate; anything else only from what the budget has left.
   */
  charge(client: string, leaseId: string | undefined, bytes: number, nowMs: number): boolean {
    this.refill(nowMs);
    const lease = leaseId === undefined ? undefined : this.leases.get(leaseId);
    if (lease !== undefined && this.holds(client, leaseId, nowMs)) {
      const rate = (this.config.streamBps() / 8) * LEASE_HEADROOM;
      lease.tokens = Math.min(this.leaseBurst(), lease.tokens + (rate * (nowMs - lease.lastUseMs)) / 1000);
      lease.lastUseMs = nowMs;
      if (lease.tokens < bytes) return false;
      lease.tokens -= bytes;
      lease.windowBytes += bytes;
      // Leased streams draw on the budget too, and may overdraw it: they were admitted within it.
      this.tokens -= bytes;
      return true;
    }
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }

  private leaseBurst(): number {
    return (this.config.streamBps() / 8) * LEASE_HEADROOM * BURST_S;
  }

  private refill(nowMs: number): void {
    const last = this.lastRefillMs ?? nowMs;
    this.lastRefillMs = nowMs;
    const bytesPerS = this.config.budgetBps() / 8;
    this.tokens = Math.min(bytesPerS * BURST_S, this.tokens + (bytesPerS * Math.max(0, nowMs - last)) / 1000);
  }

  /**
   * Frees leases idle for LEASE_IDLE_MS, and those that drew less than half a stream over such
   * a window: one small fetch every few seconds would otherwise hold a slot for almost nothing.
   */
  private expire(nowMs: number): void {
    const halfStream = (this.config.streamBps() / 8) * (LEASE_IDLE_MS / 1000) * 0.5;
    for (const [id, l] of this.leases) {
      if (nowMs - l.lastUseMs > LEASE_IDLE_MS) this.leases.delete(id);
      else if (nowMs - l.windowStartMs >= LEASE_IDLE_MS) {
        if (l.windowBytes < halfStream) this.leases.delete(id);
        else {
          l.windowStartMs = nowMs;
          l.windowBytes = 0;
        }
      }
    }
  }
}
