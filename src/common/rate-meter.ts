// Rates over a sliding window from running byte totals, for status lines and /stats.json.

export class RateMeter {
  private samples: { atMs: number; total: number }[] = [];

  constructor(private readonly windowMs = 3000) {}

  /** Records the running total at a time; returns the rate in bits per second over the window. */
  sample(nowMs: number, total: number): number {
    this.samples.push({ atMs: nowMs, total });
    while (this.samples.length > 2 && nowMs - (this.samples[0] as { atMs: number }).atMs > this.windowMs) this.samples.shift();
    return this.rateBps();
  }

  rateBps(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (first === undefined || last === undefined || last.atMs === first.atMs) return 0;
    return ((last.total - first.total) * 8 * 1000) / (last.atMs - first.atMs);
  }
}

export function formatBps(bps: number): string {
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)} kbit/s`;
  return `${bps.toFixed(0)} bit/s`;
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}
