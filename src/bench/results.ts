// The figures a bench run reports per side (swarm and HTTP fan-out), computed from the viewers'
// measures and the byte counts of the broadcaster and the fan-out. Measures as docs/measures.md defines them.

import { quantile } from '../sim/metrics.js';
import type { ViewerMeasures } from './fanout.js';
import type { HostReport } from './host.js';

/** How the upload caps were applied: the core's token bucket per viewer, or tbf per host namespace. */
export type BenchMode = 'netns' | 'app';

export interface BenchResult {
  mode: BenchMode;
  /** The stream's rate r over the measured run, bits per second. */
  streamBps: number;
  meshtv: SideSummary;
  httpFanout: SideSummary;
}

export interface SideSummary {
  viewers: number;
  /** Viewers that played at least one chunk. */
  played: number;
  S: number;
  continuity: { p50: number; p5: number };
  lagMs: { p50: number; p95: number };
  startupMs: { p50: number; p95: number };
  overhead: number;
  cpuPctPerViewer: number;
  rssMBPerViewer: number;
  /** What the restarts asked for did (meshtv side only). */
  restarts?: RestartSummary;
  /** Chunks skipped or played late over all viewers: in each one's first 10 s of play, later; viewers with any (meshtv side). */
  misses?: { first10s: number; later: number; viewers: number };
}

export interface RestartSummary {
  /** Tracker killed -> listening again. */
  trackerDowntimeMs?: number;
  /** Broadcaster killed -> its first new chunk. */
  sourceDowntimeMs?: number;
  /** Broadcaster's first new chunk -> each surviving viewer's first chunk played after it. */
  resumeMs?: { p50: number; p95: number; max: number };
  /** Viewers that were playing before the broadcaster restart and played again after it. */
  resumed?: string;
  /** Broadcaster's first new chunk -> each such viewer noticing the new run (its playout starting over). */
  noticedMs?: { p50: number; p95: number };
}

/** What one side cost over the measured span, besides its viewers' measures. */
export interface SideCost {
  /** Bytes its server sent: the broadcaster for the swarm, the HTTP server for the fan-out. */
  sentBytes: number;
  producedBytes: number;
  cpuMs: number;
  wallMs: number;
  rssMB: number;
}

const round = (x: number | undefined, d = 3) => (x === undefined ? Number.NaN : Math.round(x * 10 ** d) / 10 ** d);

function missesOf(measures: ViewerMeasures[]): Pick<SideSummary, 'misses'> {
  if (!measures.some((m) => m.misses !== undefined)) return {};
  return {
    misses: {
      first10s: measures.reduce((a, m) => a + (m.misses?.first10s ?? 0), 0),
      later: measures.reduce((a, m) => a + (m.misses?.later ?? 0), 0),
      viewers: measures.filter((m) => (m.misses?.first10s ?? 0) + (m.misses?.later ?? 0) > 0).length,
    },
  };
}

export function summarize(measures: ViewerMeasures[], c: SideCost): SideSummary {
  const cont = measures.map((m) => m.continuity);
  const lag = measures.flatMap((m) => (m.lagMs === undefined ? [] : [m.lagMs]));
  const startup = measures.flatMap((m) => (m.startupMs === undefined ? [] : [m.startupMs]));
  const media = measures.reduce((a, m) => a + m.mediaBytesIn, 0);
  const control = measures.reduce((a, m) => a + m.controlBytes, 0);
  return {
    viewers: measures.length,
    played: startup.length,
    S: round(c.sentBytes / Math.max(1, c.producedBytes)),
    continuity: { p50: round(quantile(cont, 0.5), 4), p5: round(quantile(cont, 0.05), 4) },
    lagMs: { p50: round(quantile(lag, 0.5), 0), p95: round(quantile(lag, 0.95), 0) },
    startupMs: { p50: round(quantile(startup, 0.5), 0), p95: round(quantile(startup, 0.95), 0) },
    overhead: round(control / Math.max(1, media), 4),
    cpuPctPerViewer: round((c.cpuMs / Math.max(1, c.wallMs) / Math.max(1, measures.length)) * 100, 2),
    rssMBPerViewer: round(c.rssMB / Math.max(1, measures.length), 1),
    ...missesOf(measures),
  };
}

type ViewerRestartTimes = Pick<RestartSummary, 'resumed' | 'noticedMs' | 'resumeMs'>;

/**
 * After the broadcaster was killed at `killedAt` and produced again at `backAt`: how many of the
 * viewers playing before the kill played the new run, how soon after `backAt` they noticed the
 * restart and resumed.
 */
export function sourceRestartTimes(viewers: HostReport['viewers'], killedAt: number, backAt: number): ViewerRestartTimes {
  const out: ViewerRestartTimes = {};
  // Viewers playing before the kill, and when each first played the new run.
  const playing = viewers.filter((v) => v.firstPlayAtMs !== undefined && v.firstPlayAtMs < killedAt);
  const across = playing.flatMap((v) => {
    const t = v.resumedAtMs.find((r) => r >= killedAt);
    return t === undefined ? [] : [Math.max(0, t - backAt)];
  });
  out.resumed = `${across.length}/${playing.length}`;
  const noticed = playing.flatMap((v) => {
    const t = v.restartedAtMs.find((r) => r >= killedAt);
    return t === undefined ? [] : [Math.max(0, t - backAt)];
  });
  if (noticed.length > 0) out.noticedMs = { p50: round(quantile(noticed, 0.5), 0), p95: round(quantile(noticed, 0.95), 0) };
  if (across.length > 0)
    out.resumeMs = { p50: round(quantile(across, 0.5), 0), p95: round(quantile(across, 0.95), 0), max: Math.max(...across) };
  return out;
}
