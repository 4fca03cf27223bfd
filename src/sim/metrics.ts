// Distributions for the simulator's report: a fixed-bin histogram for the millions of lag
// samples, and exact quantiles of small per-peer lists. Quantiles follow the nearest-rank rule,
// so "p5 of continuity" is a value some peer actually had.

/** Histogram with 1 ms bins up to `maxMs`; larger values land in the last bin. */
export class MsHistogram {
  private readonly bins: Uint32Array;
  private total = 0;

  constructor(private readonly maxMs: number) {
    this.bins = new Uint32Array(maxMs + 1);
  }

  get count(): number {
    return this.total;
  }

  add(ms: number): void {
    const i = ms <= 0 ? 0 : ms >= this.maxMs ? this.maxMs : Math.round(ms);
    this.bins[i] = (this.bins[i] as number) + 1;
    this.total++;
  }

  /** Nearest-rank quantile, q in [0, 1]; undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      seen += this.bins[i] as number;
      if (seen >= rank) return i;
    }
    return this.maxMs;
  }

  /** Points of the empirical CDF, one per non-empty bin, thinned to at most `maxPoints`. */
  cdf(maxPoints = 400): [number, number][] {
    const points: [number, number][] = [];
    if (this.total === 0) return points;
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      const n = this.bins[i] as number;
      if (n === 0) continue;
      seen += n;
      points.push([i, seen / this.total]);
    }
    return thin(points, maxPoints);
  }
}

/** Nearest-rank quantile of a list (sorted copy); undefined when empty. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

/** Empirical CDF of a list, thinned to at most `maxPoints` points. */
export function cdfOf(values: readonly number[], maxPoints = 400): [number, number][] {
  const sorted = [...values].sort((a, b) => a - b);
  const points: [number, number][] = sorted.map((v, i) => [v, (i + 1) / sorted.length]);
  return thin(points, maxPoints);
}

function thin(points: [number, number][], maxPoints: number): [number, number][] {
  if (points.length <= maxPoints) return points;
  const out: [number, number][] = [];
  const step = points.length / maxPoints;
  for (let i = 0; i < maxPoints; i++) out.push(points[Math.floor(i * step)] as [number, number]);
  out.push(points[points.length - 1] as [number, number]);
  return out;
}
