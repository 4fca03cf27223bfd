// Turns a simulation result into the report docs/measures.md describes: S, continuity per peer,
// lag, startup, overhead and duplicates, with N, r, rho, churn and seed. Pure: the caller adds
// wall time and memory, the only fields that differ between two runs with the same seed.

import { cdfOf, quantile } from './metrics.js';
import type { SimResult } from './sim-config.js';

export interface SimReport {
  /** Audience size N (viewers present at any time). */
  peers: number;
  N: number;
  /** Stream bitrate in bits per second. */
  r: number;
  rho: number;
  /** Share of the audience leaving per minute. */
  churn: number;
  seed: number;
  durationS: number;
  freeRiders: number;
  joinWindowS: number;
  /** Bytes the source sent / (r x duration). */
  S: number;
  /** Per viewer: media time played on time / media time due after its startup. */
  continuity: { p50: number | null; p5: number | null; mean: number | null };
  /** Over every chunk played by every viewer. */
  lagMs: { p50: number | null; p95: number | null };
  /** Join -> first chunk played; a viewer still waiting at the end counts as never (null quantile). */
  startupMs: { p50: number | null; p95: number | null };
  /** Non-media bytes (framing, chunk headers and signatures, control, tracker) / media bytes delivered. */
  overhead: number;
  /** Media bytes received again / media bytes delivered. */
  duplicates: number;
  wallMs: number;
  peakRssMB: number;
  /** Viewers that took part, newcomers under churn included. */
  viewersSimulated: number;
  /** Viewers still waiting for their first chunk when the run ended. */
  neverStarted: number;
  freeRiderMediaBytesOut: number;
  events: number;
  misbehaved: number;
  misbehavedReasons: Record<string, number>;
  /** Loss and jitter on peer links (path-model.ts). Absent: none. */
  path?: { loss: number; jitterMs: number };
  /** Hostile peers besides the N viewers (a share of N), what they did, and how often honest peers dropped one. Absent: none. */
  hostile?: { share: number; attack: string; peers: number; dropped: number };
  /** Ladder runs: how each kind of line fared (S above counts copies of the whole ladder). */
  abr?: AbrReport;
}

export interface AbrClassReport {
  viewers: number;
  continuity: { p50: number | null; p5: number | null };
  /** Mean share of media time played from each rendition, lowest first. */
  playedShare: number[];
  /** Viewers on each rendition at the end, lowest first. */
  finalOn: number[];
  /** Mean switches per viewer. */
  switchesUp: number;
  switchesDown: number;
}

export interface AbrReport {
  ladder: { name: string; bitrateBps: number }[];
  relayLowest: boolean;
  weak: AbrClassReport;
  strong: AbrClassReport;
}

export interface ReportDistributions {
  continuity: [number, number][];
  lagMs: [number, number][];
  startupMs: [number, number][];
}

export function buildReport(result: SimResult, wallMs: number, peakRssMB: number): { report: SimReport; cdfs: ReportDistributions } {
  const c = result.config;
  const t = result.totals;
  const continuity: number[] = [];
  const startup: number[] = [];
  let neverStarted = 0;
  for (const p of result.peers) {
    if (p.continuity !== undefined) continuity.push(p.continuity);
    if (p.startupMs !== undefined) startup.push(p.startupMs);
    else if (p.leftAtMs === undefined) {
      // Left before starting: censored. Still waiting at the end: counts as never.
      neverStarted++;
      startup.push(Number.POSITIVE_INFINITY);
    }
  }
  // With a ladder the source sends every rendition: S counts copies of the whole ladder.
  const rBytesPerS = (c.renditions?.reduce((a, r) => a + r.bitrateBps, 0) ?? c.bitrateBps) / 8;
  const delivered = Math.max(1, t.mediaBytesDelivered);
  const report: SimReport = {
    peers: c.peers,
    N: c.peers,
    r: c.bitrateBps,
    rho: c.rho,
    churn: c.churnPerMin,
    seed: c.seed,
    durationS: c.durationS,
    freeRiders: c.freeRiders,
    joinWindowS: c.joinWindowS,
    S: round(t.sourceWireBytesOut / (rBytesPerS * c.durationS), 4),
    continuity: {
      p50: finite(quantile(continuity, 0.5), 5),
      p5: finite(quantile(continuity, 0.05), 5),
      mean: continuity.length === 0 ? null : round(continuity.reduce((a, b) => a + b, 0) / continuity.length, 5),
    },
    lagMs: { p50: finite(result.lag.quantile(0.5), 0), p95: finite(result.lag.quantile(0.95), 0) },
    startupMs: { p50: finite(quantile(startup, 0.5), 0), p95: finite(quantile(startup, 0.95), 0) },
    overhead: round((t.controlBytes + t.trackerBytes) / delivered, 5),
    duplicates: round(t.duplicateBytes / delivered, 5),
    wallMs: Math.round(wallMs),
    peakRssMB: Math.round(peakRssMB),
    viewersSimulated: result.peers.length,
    neverStarted,
    freeRiderMediaBytesOut: t.freeRiderMediaBytesOut,
    events: t.events,
    misbehaved: t.misbehaved,
    misbehavedReasons: t.misbehavedReasons,
    ...(c.loss > 0 || c.jitterMs > 0 ? { path: { loss: c.loss, jitterMs: c.jitterMs } } : {}),
    ...(c.attackers > 0
      ? { hostile: { share: c.attackers, attack: c.attack, peers: Math.round(c.attackers * c.peers), dropped: t.hostileDropped } }
      : {}),
    ...(c.renditions !== undefined
      ? {
          abr: {
            ladder: c.renditions.map((r) => ({ name: r.name, bitrateBps: r.bitrateBps })),
            relayLowest: c.relayLowest,
            weak: abrClass(result, true, c.renditions.length),
            strong: abrClass(result, false, c.renditions.length),
          },
        }
      : {}),
  };
  const cdfs: ReportDistributions = {
    continuity: cdfOf(continuity),
    lagMs: result.lag.cdf(),
    startupMs: cdfOf(startup.filter(Number.isFinite)),
  };
  return { report, cdfs };
}

function abrClass(result: SimResult, weak: boolean, renditions: number): AbrClassReport {
  const peers = result.peers.filter((p) => p.abr !== undefined && p.abr.weak === weak);
  const continuity = peers.map((p) => p.continuity).filter((x): x is number => x !== undefined);
  const mean = (f: (p: (typeof peers)[number]) => number) =>
    peers.length === 0 ? 0 : round(peers.reduce((a, p) => a + f(p), 0) / peers.length, 3);
  const ladder = Array.from({ length: renditions }, (_, i) => i);
  return {
    viewers: peers.length,
    continuity: { p50: finite(quantile(continuity, 0.5), 5), p5: finite(quantile(continuity, 0.05), 5) },
    playedShare: ladder.map((i) => mean((p) => p.abr?.playedShare[i] ?? 0)),
    finalOn: ladder.map((i) => peers.filter((p) => p.abr?.final === i).length),
    switchesUp: mean((p) => p.abr?.switches.up ?? 0),
    switchesDown: mean((p) => p.abr?.switches.down ?? 0),
  };
}

/** Figures a spread over seeds covers, by name (the report's field path). */
const SPREAD_FIGURES: readonly [string, (r: SimReport) => number | null][] = [
  ['S', (r) => r.S],
  ['continuity.p50', (r) => r.continuity.p50],
  ['continuity.p5', (r) => r.continuity.p5],
  ['continuity.mean', (r) => r.continuity.mean],
  ['lagMs.p50', (r) => r.lagMs.p50],
  ['lagMs.p95', (r) => r.lagMs.p95],
  ['startupMs.p50', (r) => r.startupMs.p50],
  ['startupMs.p95', (r) => r.startupMs.p95],
  ['overhead', (r) => r.overhead],
  ['duplicates', (r) => r.duplicates],
  ['neverStarted', (r) => r.neverStarted],
];

/**
 * Runs of one scenario under several seeds: how far each figure moves with the seed alone. A
 * target met under one seed may be missed under the next (churn especially), so a target is
 * checked against the spread, not one run.
 */
export interface SeedSpread {
  peers: number;
  seeds: number[];
  /** Per figure: lowest, median (the lower of the middle two for an even count) and highest; null when no run had it. */
  spread: Record<string, { min: number; median: number; max: number } | null>;
  /** All runs together. */
  wallMs: number;
}

export function seedSpread(reports: readonly SimReport[]): SeedSpread {
  const spread: SeedSpread['spread'] = {};
  for (const [name, pick] of SPREAD_FIGURES) {
    const values = reports.map(pick).filter((x): x is number => x !== null);
    const median = quantile(values, 0.5);
    spread[name] = median === undefined ? null : { min: Math.min(...values), median, max: Math.max(...values) };
  }
  return {
    peers: reports[0]?.N ?? 0,
    seeds: reports.map((r) => r.seed),
    spread,
    wallMs: reports.reduce((a, r) => a + r.wallMs, 0),
  };
}

/** The report as Markdown, for --out. */
export function reportMarkdown(reports: readonly SimReport[], spreads: readonly SeedSpread[] = []): string {
  const lines = [
    '# meshtv simulation',
    '',
    'Measures as defined in docs/measures.md; the simulator drives the unchanged PeerCore with fake (cheap) signatures.',
    '',
    '| N | r (kbit/s) | rho | free riders | churn /min | seed | duration (s) | S | continuity p50 / p5 | lag p50 / p95 (ms) | startup p50 / p95 (ms) | overhead | duplicates | never started | wall (s) | peak RSS (MB) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of reports) {
    lines.push(
      `| ${r.N} | ${r.r / 1000} | ${r.rho} | ${r.freeRiders} | ${r.churn} | ${r.seed} | ${r.durationS} | ${r.S} | ${r.continuity.p50} / ${r.continuity.p5} | ${r.lagMs.p50} / ${r.lagMs.p95} | ${r.startupMs.p50} / ${r.startupMs.p95} | ${pct(r.overhead)} | ${pct(r.duplicates)} | ${r.neverStarted} | ${(r.wallMs / 1000).toFixed(1)} | ${r.peakRssMB} |`,
    );
  }
  for (const sp of spreads) {
    lines.push('', `## N = ${sp.peers}, seeds ${sp.seeds.join(', ')}`, '', '| figure | min | median | max |', '|---|---|---|---|');
    for (const [name, v] of Object.entries(sp.spread))
      lines.push(`| ${name} | ${v?.min ?? 'n/a'} | ${v?.median ?? 'n/a'} | ${v?.max ?? 'n/a'} |`);
  }
  const ns = new Set(reports.map((r) => r.N)).size;
  lines.push('', `Plots: continuity.svg, lag.svg, startup.svg (CDFs)${ns > 1 ? ', s-vs-n.svg.' : '.'}`, '');
  return lines.join('\n');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function finite(x: number | undefined, digits: number): number | null {
  return x === undefined || !Number.isFinite(x) ? null : round(x, digits);
}
