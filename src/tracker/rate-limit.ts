// Per-client token buckets for the tracker's write endpoints, so one client cannot flood
// the directory. The table of clients is bounded: when full, the longest-idle entry goes.

export interface RateLimitConfig {
  /** Requests per second a client may sustain. @default 20 */
  ratePerS: number;
  /** Requests a client may make in one burst. @default 60 */
  burst: number;
  /** Clients tracked at once. @default 10000 */
  maxClients: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { ratePerS: 20, burst: 60, maxClients: 10_000 };

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(private readonly config: RateLimitConfig = DEFAULT_RATE_LIMIT) {}

  /** Takes one token for `client`; false when the client is over its rate. */
  take(client: string, nowMs: number): boolean {
    let b = this.buckets.get(client);
    if (b === undefined) {
      if (this.buckets.size >= this.config.maxClients) this.evictOldest();
      b = { tokens: this.config.burst, atMs: nowMs };
    } else {
      this.buckets.delete(client);
      b.tokens = Math.min(this.config.burst, b.tokens + ((nowMs - b.atMs) * this.config.ratePerS) / 1000);
      b.atMs = nowMs;
    }
    // Re-inserting keeps the Map in least-recently-used order.
    this.buckets.set(client, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private evictOldest(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}
