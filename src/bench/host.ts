// One benchmark host process: several swarm viewers, each with its own sockets and its own
// upload cap (the core's token bucket), and several HTTP fan-out clients. On SIGTERM it reports
// every viewer's measures and the process's CPU and memory (to the bench, or as one JSON line), then exits.

import { hexToBytes } from '../common/hex.js';
import type { Logger } from '../common/log.js';
import { SwarmNode } from '../native/swarm-node.js';
import { quantile } from '../sim/metrics.js';
import { fanoutClient, type ViewerMeasures } from './fanout.js';

export interface HostOptions {
  channelId: string;
  trackers: string[];
  /** One entry per swarm viewer: its upload cap in bit/s, 0 for a viewer that uploads nothing. */
  capsBps: (number | undefined)[];
  /**
   * The caps are enforced outside this process (a tc tbf on the namespace's link, `bench --netns`):
   * viewers then get no app-level limit, only a cap of 0 still turns upload off. @default false
   */
  capsInKernel?: boolean;
  /** Address the viewers' peer listeners bind. @default '127.0.0.1' */
  host?: string;
  fanoutUrl?: string;
  fanoutClients: number;
  log: Logger;
}

export interface HostReport {
  viewers: (ViewerMeasures & {
    uploadBytes: number;
    capBps: number | undefined;
    firstPlayAtMs: number | undefined;
    /** Wall-clock time of the first play after each restart of the channel. */
    resumedAtMs: number[];
    /** Wall-clock time of each restart of the channel the viewer noticed (its playout started over). */
    restartedAtMs: number[];
  })[];
  fanout: ViewerMeasures[];
  cpuMs: number;
  rssMB: number;
  wallMs: number;
}

/** Misses this soon after a viewer's first play count as start-up misses. */
const MISS_EARLY_MS = 10_000;

type HostViewer = HostReport['viewers'][number];

/** A swarm viewer of this host, measuring as it plays. */
interface MeasuredViewer {
  node: SwarmNode;
  start(): Promise<void>;
  measures(): HostViewer;
}

function measuredViewer(o: HostOptions, cap: number | undefined): MeasuredViewer {
  const node = new SwarmNode({
    role: 'viewer',
    channelKey: hexToBytes(o.channelId),
    host: o.host ?? '127.0.0.1',
    port: 0,
    trackers: o.trackers,
    core: cap === 0 ? { uploadEnabled: false } : o.capsInKernel === true ? {} : { uploadLimitBps: cap },
    log: o.log,
  });
  const lags: number[] = [];
  // Wall-clock time of the first play after each restart of the channel (a new broadcaster run).
  const resumedAt: number[] = [];
  const restartedAt: number[] = [];
  let restarted = false;
  let firstPlayAt: number | undefined;
  let startupMs: number | undefined;
  let joinedAt = 0;
  // Where misses fall tells a slow start (first seconds) from a thin swarm (all along).
  const misses = { first10s: 0, later: 0 };
  const miss = (now: number) => {
    if (firstPlayAt !== undefined && now - firstPlayAt < MISS_EARLY_MS) misses.first10s++;
    else misses.later++;
  };
  node.onEvent((e) => {
    if (e.type === 'restarted') {
      restarted = true;
      restartedAt.push(Date.now());
    }
    if (e.type === 'skip') miss(Date.now());
    if (e.type !== 'play') return;
    const now = Date.now();
    if (e.late) miss(now);
    startupMs ??= now - joinedAt;
    firstPlayAt ??= now;
    if (restarted) resumedAt.push(now);
    restarted = false;
    lags.push(e.lagMs);
  });
  return {
    node,
    start: async () => {
      joinedAt = Date.now();
      await node.start();
      await node.announceNow().catch((err: Error) => o.log.warn(err.message));
    },
    measures: () => {
      const s = node.core.getStats();
      const due = s.mediaMsPlayed + s.mediaMsMissed;
      return {
        startupMs,
        lagMs: quantile(lags, 0.5),
        continuity: due === 0 ? 0 : s.mediaMsPlayed / due,
        mediaBytesIn: s.mediaBytesIn,
        controlBytes: node.controlBytes,
        duplicateBytes: s.duplicateBytes,
        uploadBytes: s.mediaBytesOut,
        capBps: cap,
        firstPlayAtMs: firstPlayAt,
        resumedAtMs: resumedAt,
        restartedAtMs: restartedAt,
        misses: { ...misses },
      };
    },
  };
}

export async function runHost(o: HostOptions): Promise<HostReport> {
  const startedAt = Date.now();
  const cpuStart = process.cpuUsage();
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 1000);
  const viewers = o.capsBps.map((cap) => measuredViewer(o, cap));
  // Stagger joins a little, as real audiences do.
  for (const v of viewers) {
    await v.start();
    await new Promise((r) => setTimeout(r, 50));
  }
  const clients = o.fanoutUrl === undefined ? [] : Array.from({ length: o.fanoutClients }, () => fanoutClient(o.fanoutUrl as string));
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  clearInterval(rssTimer);
  const report: HostReport = {
    viewers: viewers.map((v) => v.measures()),
    fanout: clients.map((c) => c.measures()),
    cpuMs: cpuMsSince(cpuStart),
    rssMB: Math.round(Math.max(peakRss, process.memoryUsage().rss) / 2 ** 20),
    wallMs: Date.now() - startedAt,
  };
  for (const c of clients) c.stop();
  await Promise.allSettled(viewers.map((v) => v.node.stop()));
  return report;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}
