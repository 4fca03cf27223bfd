// A peer that announces an address other than the one the tracker sees it at (a multi-homed
// host, a broadcaster whose outgoing traffic leaves by another route) is listed there only once
// the tracker has connected back to it and the Noise handshake proved that the key behind the
// peer id listens at that address and port. Until then, and if the proof fails, it is listed at
// the address the tracker sees. Probes are few, so that the tracker cannot be made to knock on a
// victim's doors: one at a time per address and port, a handful per minute per address, and a
// bounded number at once; results are remembered.

import { hostGroup } from '../protocol/admission.js';

/** Connects to address:port and returns the hex peer id its handshake proved (rejects otherwise). */
export type ProveFn = (address: string, port: number) => Promise<string>;

export interface AddressProofConfig {
  /** Probes in flight at once, at most. @default 32 */
  maxInFlight: number;
  /** Probes of one IPv4 address or IPv6 /64 per minute, at most (all ports together). @default 4 */
  maxPerAddressPerMinute: number;
  /** A proof holds this long. @default 10 minutes */
  provenTtlMs: number;
  /** A failed probe is not tried again for this long. @default 60 s */
  failedTtlMs: number;
  /** Results and per-address counts remembered, at most each (the oldest go first). @default 10,000 */
  maxEntries: number;
}

export const DEFAULT_ADDRESS_PROOF_CONFIG: AddressProofConfig = {
  maxInFlight: 32,
  maxPerAddressPerMinute: 4,
  provenTtlMs: 10 * 60_000,
  failedTtlMs: 60_000,
  maxEntries: 10_000,
};

export type ProofState = 'proven' | 'pending' | 'failed';

export class AddressProver {
  private readonly config: AddressProofConfig;
  private readonly results = new Map<string, { state: ProofState; untilMs: number }>();
  private readonly probesOf = new Map<string, { windowStartMs: number; count: number }>();
  private inFlight = 0;
  /** Probes made, and why others were not, for /metrics. */
  readonly counts = { probes: 0, proven: 0, failed: 0, throttled: 0 };

  constructor(
    private readonly prove: ProveFn,
    config: Partial<AddressProofConfig> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.config = { ...DEFAULT_ADDRESS_PROOF_CONFIG, ...config };
  }

  /** Whether `peerId` is proven to listen at address:port; starts a probe when none is known and one may be made. */
  state(peerId: string, address: string, port: number): ProofState {
    const key = `${peerId} ${address} ${port}`;
    const nowMs = this.now();
    const known = this.results.get(key);
    if (known !== undefined && (known.state === 'pending' || nowMs < known.untilMs)) return known.state;
    if (!this.mayProbe(hostGroup(address), nowMs)) {
      this.counts.throttled++;
      return known?.state ?? 'failed';
    }
    this.remember(key, { state: 'pending', untilMs: Number.POSITIVE_INFINITY });
    this.inFlight++;
    this.counts.probes++;
    this.prove(address, port)
      .then(
        (proven) => proven === peerId,
        () => false,
      )
      .then((ok) => {
        this.inFlight--;
        this.counts[ok ? 'proven' : 'failed']++;
        this.remember(key, {
          state: ok ? 'proven' : 'failed',
          untilMs: this.now() + (ok ? this.config.provenTtlMs : this.config.failedTtlMs),
        });
      });
    return 'pending';
  }

  /** Whether one more probe of `group` (an IPv4 address, an IPv6 /64) may be made now. */
  private mayProbe(group: string, nowMs: number): boolean {
    if (this.inFlight >= this.config.maxInFlight) return false;
    let window = this.probesOf.get(group);
    if (window === undefined || nowMs - window.windowStartMs >= 60_000) {
      window = { windowStartMs: nowMs, count: 0 };
      this.probesOf.delete(group);
      if (this.probesOf.size >= this.config.maxEntries) this.probesOf.delete(this.probesOf.keys().next().value as string);
      this.probesOf.set(group, window);
    }
    if (window.count >= this.config.maxPerAddressPerMinute) return false;
    window.count++;
    return true;
  }

  private remember(key: string, result: { state: ProofState; untilMs: number }): void {
    this.results.delete(key);
    if (this.results.size >= this.config.maxEntries) this.results.delete(this.results.keys().next().value as string);
    this.results.set(key, result);
  }
}
