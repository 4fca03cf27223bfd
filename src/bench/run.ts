// `meshtv bench`: a real swarm on this machine, measured side by side with a plain HTTP fan-out
// of the same stream to the same number of viewers. Tracker, broadcaster, fan-out feed and
// viewer hosts are separate processes with their own sockets; viewers share a few host
// processes to fit two cores, each with its own upload cap drawn from rho and the free-rider
// share (as in the simulator). With --netns (root) the caps are `tc tbf` links of network
// namespaces instead (see netns.ts). Measures follow docs/measures.md; the last line with --json is one
// JSON object { mode, meshtv, httpFanout }.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../common/errors.js';
import { cdfOf, quantile } from '../sim/metrics.js';
import { linePlot } from '../sim/svg-plot.js';
import type { ViewerMeasures } from './fanout.js';
import type { HostReport } from './host.js';
import { type BenchNet, createBenchNet, netnsUnavailable } from './netns.js';

export interface BenchOptions {
  peers: number;
  durationS: number;
  rho: number;
  freeRiders: number;
  /** Viewers killed (SIGKILL of a host process) per minute, as a share of N; replaced at once. */
  churnPerMin: number;
  hosts: number;
  /** The broadcaster's upload cap (e.g. 1.5M); none by default. */
  sourceUploadLimit?: string;
  /** The test pattern's video bitrate (e.g. 2000k), as `broadcast --video-bitrate`; its default otherwise. */
  videoBitrate?: string;
  /** Seconds into the run at which the tracker is SIGKILLed and started again on its port. */
  restartTrackerAtS?: number;
  /** Seconds into the run at which the broadcaster is SIGKILLed and started again with its key. */
  restartSourceAtS?: number;
  /**
   * Put each host process in a network namespace of its own behind a hub namespace, its upload
   * capped by `tc tbf` on its link instead of the app-level token bucket. Needs root. @default false
   */
  netns?: boolean;
  outDir?: string;
  json: boolean;
}

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

const round = (x: number | undefined, d = 3) => (x === undefined ? Number.NaN : Math.round(x * 10 ** d) / 10 ** d);

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package root not found');
    dir = up;
  }
  return dir;
}

interface Proc {
  child: ChildProcess;
  out: string;
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts `meshtv args`, inside namespace `ns` when given (`ip netns exec` execs: the child's pid is node's). */
function start(args: string[], ns?: string): Proc {
  const argv = [process.execPath, path.join(packageRoot(), 'bin/meshtv.js'), ...args];
  const [cmd, ...rest] = ns === undefined ? argv : ['ip', 'netns', 'exec', ns, ...argv];
  const child = spawn(cmd as string, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = {
    child,
    out: '',
    line: (pattern, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = setInterval(() => {
          const m = p.out.match(pattern);
          if (m) {
            clearInterval(poll);
            resolve(m);
          } else if (Date.now() > deadline || child.exitCode !== null) {
            clearInterval(poll);
            reject(new Error(`bench: meshtv ${args[0]} did not print ${pattern}: ${p.out.slice(-500)}`));
          }
        }, 50);
      }),
  };
  child.stdout?.on('data', (d: Buffer) => {
    p.out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    p.out += d.toString();
  });
  return p;
}

function summarize(
  measures: ViewerMeasures[],
  sentBytes: number,
  producedBytes: number,
  cpuMs: number,
  wallMs: number,
  rssMB: number,
): SideSummary {
  const cont = measures.map((m) => m.continuity);
  const lag = measures.flatMap((m) => (m.lagMs === undefined ? [] : [m.lagMs]));
  const startup = measures.flatMap((m) => (m.startupMs === undefined ? [] : [m.startupMs]));
  const media = measures.reduce((a, m) => a + m.mediaBytesIn, 0);
  const control = measures.reduce((a, m) => a + m.controlBytes, 0);
  return {
    viewers: measures.length,
    played: startup.length,
    S: round(sentBytes / Math.max(1, producedBytes)),
    continuity: { p50: round(quantile(cont, 0.5), 4), p5: round(quantile(cont, 0.05), 4) },
    lagMs: { p50: round(quantile(lag, 0.5), 0), p95: round(quantile(lag, 0.95), 0) },
    startupMs: { p50: round(quantile(startup, 0.5), 0), p95: round(quantile(startup, 0.95), 0) },
    overhead: round(control / Math.max(1, media), 4),
    cpuPctPerViewer: round((cpuMs / Math.max(1, wallMs) / Math.max(1, measures.length)) * 100, 2),
    rssMBPerViewer: round(rssMB / Math.max(1, measures.length), 1),
    ...(measures.some((m) => m.misses !== undefined)
      ? {
          misses: {
            first10s: measures.reduce((a, m) => a + (m.misses?.first10s ?? 0), 0),
            later: measures.reduce((a, m) => a + (m.misses?.later ?? 0), 0),
            viewers: measures.filter((m) => (m.misses?.first10s ?? 0) + (m.misses?.later ?? 0) > 0).length,
          },
        }
      : {}),
  };
}

/**
 * Which viewers (indices into the caps, free riders first) each host process runs. In app mode
 * they are dealt round-robin over `hosts`. With netns a host's tbf is shared by its viewers, so
 * each host holds viewers of one cap only: uploaders dealt over `hosts`, free riders (cap 0, which
 * tbf cannot express; they keep the app-level `uploadEnabled: false`) in one host of their own.
 */
export function hostLayout(peers: number, freeRiders: number, hosts: number, netns: boolean): number[][] {
  // Viewers from..to-1 dealt round-robin over n hosts.
  const deal = (from: number, to: number, n: number) =>
    Array.from({ length: n }, (_, h) => Array.from({ length: Math.ceil((to - from - h) / n) }, (_, k) => from + h + k * n));
  if (!netns) return deal(0, peers, Math.max(1, Math.min(hosts, peers)));
  const uploaders = peers - freeRiders;
  return [...(freeRiders > 0 ? deal(0, freeRiders, 1) : []), ...deal(freeRiders, peers, Math.max(0, Math.min(hosts, uploaders)))];
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  checkBenchOptions(o);
  const mode: BenchMode = o.netns === true ? 'netns' : 'app';
  const log = (msg: string) => {
    if (!o.json) process.stderr.write(`bench: ${msg}\n`);
  };
  const uploaders = Math.round(o.peers * (1 - o.freeRiders));
  const layout = hostLayout(o.peers, o.peers - uploaders, o.hosts, mode === 'netns');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-bench-'));
  const procs: Proc[] = [];
  // Timers that start or restart processes (intervals too): cleared before the processes are stopped.
  const timers: NodeJS.Timeout[] = [];
  let net: BenchNet | undefined;
  const spawnTracked = (args: string[], ns?: string) => {
    const p = start(args, ns);
    procs.push(p);
    net?.adopt(p.child.pid);
    return p;
  };
  try {
    // In netns mode the tracker and the fan-out feed run in the hub ("the internet"), bound to its
    // address. The broadcaster stays in the root namespace, its peer listener on the root end of
    // the hub link (so viewers reach it through the hub like any server), and its --http-port
    // server (stats.json, read here) on 127.0.0.1, where this process reaches it directly.
    if (mode === 'netns')
      net = createBenchNet([
        ...(o.peers > uploaders ? ['free'] : []),
        ...layout.slice(o.peers > uploaders ? 1 : 0).map((_, h) => `h${h}`),
        'fanout',
      ]);
    const hub = net?.hub;
    // The bench's viewers share a few addresses (one, in app mode): no per-address rate limit.
    const trackerArgs = (port: string) => [
      'tracker',
      '--port',
      port,
      '--rate-limit',
      '0',
      ...(hub !== undefined ? ['--host', hub.address] : []),
    ];
    let tracker = spawnTracked(trackerArgs('0'), hub?.ns);
    const trackerUrl = (await tracker.line(/tracker listening on (\S+)/))[1] as string;
    const startSource = async () => {
      const proc = spawnTracked([
        'broadcast',
        '--tracker',
        trackerUrl,
        '--name',
        'bench',
        '--key',
        path.join(dir, 'bench.key'),
        '--http-port',
        '0',
        '--no-dht',
        // In netns mode the fan-out's feed pulls from the origin out of the hub namespace.
        ...(net !== undefined ? ['--host', net.rootAddress, '--http-host', net.rootAddress] : []),
        ...(o.sourceUploadLimit !== undefined ? ['--upload-limit', o.sourceUploadLimit] : []),
        ...(o.videoBitrate !== undefined ? ['--video-bitrate', o.videoBitrate] : []),
      ]);
      const uri = (await proc.line(/^(meshtv:\/\/\S+)$/m))[1] as string;
      return { proc, uri, stats: `${(await proc.line(/stats: (\S+)\/stats\.json/))[1]}/stats.json` };
    };
    let source = await startSource();
    const channelId = (source.uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
    const sourceStats = source.stats;
    const fanout = spawnTracked(
      ['bench-fanout', channelId, '--tracker', trackerUrl, ...(hub !== undefined ? ['--host', hub.address] : [])],
      hub?.ns,
    );
    const fanoutUrl = (await fanout.line(/^fanout (http\S+)$/m))[1] as string;
    // The stream's rate r, measured, sets the upload caps: rho = (source upload + sum of caps) /
    // (N r), the source's upload being its cap (r when it has none).
    await new Promise((r) => setTimeout(r, 4000));
    const early = (await (await fetch(sourceStats)).json()) as { produceBps: number; uploadLimitBps: number | null };
    const r = early.produceBps;
    const sourceUp = early.uploadLimitBps ?? r;
    const capBps = uploaders === 0 ? 0 : Math.max(0, Math.round((o.rho * o.peers * r - sourceUp) / uploaders));
    const caps = Array.from({ length: o.peers }, (_, i) => (i < o.peers - uploaders ? 0 : capBps));
    log(
      `r = ${Math.round(r / 1000)} kbit/s, N = ${o.peers}, rho = ${o.rho}, free riders ${o.freeRiders}: upload cap ${Math.round(capBps / 1000)} kbit/s`,
    );
    const hosts = layout.length;
    const hostCaps = layout.map((ids) => ids.map((i) => caps[i] as number));
    // With netns, a host's viewers share one tbf of the sum of their caps (so the cap is pooled,
    // where the app-level caps are per viewer); downloads are not capped in either mode.
    for (const [h, c] of net === undefined ? [] : hostCaps.entries()) {
      const sum = c.reduce((a, x) => a + x, 0);
      if (sum > 0) net?.limitUpload(h, sum);
      const place = net?.hosts[h];
      log(`${place?.ns} (${place?.address}): ${c.length} viewers, upload ${sum > 0 ? `tbf ${Math.round(sum / 1000)} kbit/s` : 'off'}`);
    }
    const startHost = (h: number) => {
      const place = net?.hosts[h];
      return spawnTracked(
        [
          'bench-host',
          channelId,
          '--tracker',
          trackerUrl,
          '--caps',
          (hostCaps[h] as number[]).join(','),
          ...(place !== undefined ? ['--host', place.address, '--caps-in-kernel'] : []),
        ],
        place?.ns,
      );
    };
    let hostProcs = Array.from({ length: hosts }, (_, h) => ({ h, proc: startHost(h) }));
    // The fan-out's clients live in a process of their own, so CPU and memory are told apart; with
    // netns in a namespace of their own, not capped (the fan-out models a CDN with upload to spare).
    const clientsPlace = net?.hosts[hosts];
    const fanoutClients = spawnTracked(
      [
        'bench-host',
        channelId,
        '--tracker',
        trackerUrl,
        '--caps',
        '',
        '--fanout',
        fanoutUrl,
        '--fanout-clients',
        String(o.peers),
        ...(clientsPlace !== undefined ? ['--host', clientsPlace.address] : []),
      ],
      clientsPlace?.ns,
    );
    type FanoutStats = { bytesSent: number; mediaBytesInFromSource: number };
    // Bytes the broadcaster sent both ways, the swarm and its HTTP origin (S counts both).
    type SourceStats = { bytesProduced: number; mediaBytesSent: number; chunksProduced: number };
    const readSource = async (url: string): Promise<SourceStats> => {
      const s = (await (await fetch(url)).json()) as SourceStats & { originBytesSent: number };
      return { bytesProduced: s.bytesProduced, mediaBytesSent: s.mediaBytesSent + s.originBytesSent, chunksProduced: s.chunksProduced };
    };
    const before = await readSource(sourceStats);
    // Counts of broadcasters killed by a restart, so S spans both lives; `base` is where the
    // current broadcaster's counts start (a restarted one counts from zero).
    const carried = { bytesProduced: 0, mediaBytesSent: 0 };
    let base: Pick<SourceStats, 'bytesProduced' | 'mediaBytesSent'> = before;
    const restarts: RestartSummary = {};
    let sourceBackAtMs: number | undefined;
    let sourceKilledAtMs: number | undefined;
    const fanoutBefore = (await (await fetch(`${fanoutUrl}stats`)).json()) as FanoutStats;
    const startedAt = Date.now();
    // Churn: SIGKILL whole host processes at the asked rate and start fresh ones in their place.
    const killEveryMs = o.churnPerMin > 0 ? 60_000 / ((o.churnPerMin * o.peers) / Math.ceil(o.peers / hosts)) : 0;
    let churnTimer: NodeJS.Timeout | undefined;
    if (killEveryMs > 0) {
      churnTimer = setInterval(() => {
        const victim = hostProcs[Math.floor(Math.random() * hostProcs.length)];
        if (victim === undefined) return;
        victim.proc.child.kill('SIGKILL');
        hostProcs = hostProcs.map((x) => (x === victim ? { h: victim.h, proc: startHost(victim.h) } : x));
      }, killEveryMs);
      timers.push(churnTimer);
    }
    const restartTracker = async () => {
      const port = new URL(trackerUrl).port;
      const killedAt = Date.now();
      tracker.child.kill('SIGKILL');
      await new Promise((r) => tracker.child.once('exit', r));
      tracker = spawnTracked(trackerArgs(port), hub?.ns);
      await tracker.line(/tracker listening on/);
      restarts.trackerDowntimeMs = Date.now() - killedAt;
      log(`tracker killed and listening again after ${restarts.trackerDowntimeMs} ms`);
    };
    const restartSource = async () => {
      const last = await readSource(source.stats);
      carried.bytesProduced += last.bytesProduced - base.bytesProduced;
      carried.mediaBytesSent += last.mediaBytesSent - base.mediaBytesSent;
      base = { bytesProduced: 0, mediaBytesSent: 0 };
      sourceKilledAtMs = Date.now();
      source.proc.child.kill('SIGKILL');
      await new Promise((r) => source.proc.child.once('exit', r));
      source = await startSource();
      for (;;) {
        if ((await readSource(source.stats)).chunksProduced > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      sourceBackAtMs = Date.now();
      restarts.sourceDowntimeMs = sourceBackAtMs - sourceKilledAtMs;
      log(`broadcaster killed and producing again (same key) after ${restarts.sourceDowntimeMs} ms`);
    };
    const scheduled: Promise<void>[] = [];
    // A restart that fails ends the run at once: left to reject on its own it would kill this
    // process before the cleanup below, leaving every viewer process running.
    let abort: (err: unknown) => void = () => {};
    const aborted = new Promise<never>((_, reject) => {
      abort = reject;
    });
    const at = (seconds: number | undefined, what: () => Promise<void>) => {
      if (seconds === undefined) return;
      scheduled.push(new Promise<void>((r) => timers.push(setTimeout(r, seconds * 1000))).then(what).catch((err: unknown) => abort(err)));
    };
    at(o.restartTrackerAtS, restartTracker);
    at(o.restartSourceAtS, restartSource);
    log(
      `running ${o.durationS} s with ${hosts} host processes, upload caps ${mode === 'netns' ? 'tc tbf per host namespace' : 'app-level per viewer'}`,
    );
    await Promise.race([new Promise((r) => timers.push(setTimeout(r, o.durationS * 1000))), aborted]);
    await Promise.race([Promise.all(scheduled), aborted]);
    clearInterval(churnTimer);
    // Over the measured span, across broadcaster lives.
    const now = await readSource(source.stats);
    const produced = carried.bytesProduced + now.bytesProduced - base.bytesProduced;
    const sourceSent = carried.mediaBytesSent + now.mediaBytesSent - base.mediaBytesSent;
    const wallMs = Date.now() - startedAt;
    // Hosts killed by churn took their viewers' measures with them: the survivors report.
    const reports: HostReport[] = [];
    for (const { proc } of hostProcs) proc.child.kill('SIGTERM');
    for (const { proc } of hostProcs) {
      const m = await proc.line(/^HOST-REPORT (.*)$/m, 30_000);
      reports.push(JSON.parse(m[1] as string) as HostReport);
    }
    const fanoutAfter = (await (await fetch(`${fanoutUrl}stats`)).json()) as FanoutStats;
    fanoutClients.child.kill('SIGTERM');
    const fanoutReport = JSON.parse((await fanoutClients.line(/^HOST-REPORT (.*)$/m, 30_000))[1] as string) as HostReport;
    log(
      `source: produced ${produced} B, sent ${sourceSent} B; fan-out feed took ${fanoutAfter.mediaBytesInFromSource - fanoutBefore.mediaBytesInFromSource} B from it, served ${fanoutAfter.bytesSent - fanoutBefore.bytesSent} B`,
    );
    // The fan-out's feed pulls from the broadcaster's origin: its bytes are the fan-out's, not the swarm's.
    const swarmSent = sourceSent - (fanoutAfter.mediaBytesInFromSource - fanoutBefore.mediaBytesInFromSource);
    const viewers = reports.flatMap((h) => h.viewers);
    const clients = fanoutReport.fanout;
    const cpuMs = reports.reduce((a, h) => a + h.cpuMs, 0);
    const rss = reports.reduce((a, h) => a + h.rssMB, 0);
    if (sourceBackAtMs !== undefined && sourceKilledAtMs !== undefined)
      Object.assign(restarts, sourceRestartTimes(viewers, sourceKilledAtMs, sourceBackAtMs));
    const result: BenchResult = {
      mode,
      streamBps: Math.round((produced * 8000) / wallMs),
      meshtv: {
        ...summarize(viewers, swarmSent, produced, cpuMs, wallMs, rss),
        ...(Object.keys(restarts).length > 0 ? { restarts } : {}),
      },
      httpFanout: summarize(
        clients,
        fanoutAfter.bytesSent - fanoutBefore.bytesSent,
        produced,
        fanoutReport.cpuMs,
        wallMs,
        fanoutReport.rssMB,
      ),
    };
    if (o.outDir !== undefined) writeReport(o, result, viewers, clients);
    return result;
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    net?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Refuses options outside what a bench run can do, naming the flag. */
function checkBenchOptions(o: BenchOptions): void {
  if (!Number.isInteger(o.peers) || o.peers < 1 || o.peers > 1000) throw new UserError('--peers must be 1-1000');
  if (!(o.durationS >= 5 && o.durationS <= 3600)) throw new UserError('--duration-s must be 5-3600');
  if (!(o.rho > 0 && o.rho <= 100)) throw new UserError('--rho must be above 0');
  if (!(o.freeRiders >= 0 && o.freeRiders < 1)) throw new UserError('--free-riders must be in [0, 1)');
  if (!(o.churnPerMin >= 0 && o.churnPerMin <= 1)) throw new UserError('--churn must be a share per minute in [0, 1]');
  for (const [flag, t] of [
    ['--restart-tracker-at-s', o.restartTrackerAtS],
    ['--restart-source-at-s', o.restartSourceAtS],
  ] as const)
    if (t !== undefined && !(t > 0 && t < o.durationS - 5))
      throw new UserError(`${flag} must be within the run and leave 5 s after it (0 < T < ${o.durationS - 5})`);
  if (!(Number.isInteger(o.hosts) && o.hosts >= 1)) throw new UserError('--hosts must be a whole number, 1 or more');
  if (o.netns === true) {
    const reason = netnsUnavailable();
    if (reason !== undefined) throw new UserError(reason);
  }
}

type ViewerRestartTimes = Pick<RestartSummary, 'resumed' | 'noticedMs' | 'resumeMs'>;

/**
 * After the broadcaster was killed at `killedAt` and produced again at `backAt`: how many of the
 * viewers playing before the kill played the new run, how soon after `backAt` they noticed the
 * restart and resumed.
 */
function sourceRestartTimes(viewers: HostReport['viewers'], killedAt: number, backAt: number): ViewerRestartTimes {
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

function writeReport(o: BenchOptions, result: BenchResult, viewers: ViewerMeasures[], clients: ViewerMeasures[]): void {
  const out = o.outDir as string;
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'report.json'), `${JSON.stringify({ options: o, ...result }, null, 2)}\n`);
  const cdf = (title: string, x: string, pick: (m: ViewerMeasures) => number | undefined) =>
    linePlot(
      [
        { name: 'meshtv', points: cdfOf(viewers.flatMap((m) => (pick(m) === undefined ? [] : [pick(m) as number]))) },
        { name: 'HTTP fan-out', points: cdfOf(clients.flatMap((m) => (pick(m) === undefined ? [] : [pick(m) as number]))) },
      ],
      { title, xLabel: x, yLabel: 'share of viewers', steps: true, yMin: 0, yMax: 1 },
    );
  fs.writeFileSync(
    path.join(out, 'continuity.svg'),
    cdf('Continuity', 'continuity', (m) => m.continuity),
  );
  fs.writeFileSync(
    path.join(out, 'lag.svg'),
    cdf('Lag behind capture', 'ms', (m) => m.lagMs),
  );
  fs.writeFileSync(
    path.join(out, 'startup.svg'),
    cdf('Startup', 'ms', (m) => m.startupMs),
  );
  const row = (name: string, s: SideSummary) =>
    `| ${name} | ${s.S} | ${s.continuity.p50} / ${s.continuity.p5} | ${s.lagMs.p50} / ${s.lagMs.p95} | ${s.startupMs.p50} / ${s.startupMs.p95} | ${s.overhead} |`;
  fs.writeFileSync(
    path.join(out, 'report.md'),
    [
      `# meshtv bench: N = ${o.peers}, rho = ${o.rho}, free riders ${o.freeRiders}, churn ${o.churnPerMin}/min, ${o.durationS} s, caps ${result.mode === 'netns' ? 'tc tbf per host namespace' : 'app-level'}`,
      '',
      '| | S | continuity p50 / p5 | lag ms p50 / p95 | startup ms p50 / p95 | overhead |',
      '|---|---|---|---|---|---|',
      row('meshtv', result.meshtv),
      row('HTTP fan-out', result.httpFanout),
      '',
      '![continuity](continuity.svg) ![lag](lag.svg) ![startup](startup.svg)',
      '',
    ].join('\n'),
  );
}
