// `meshtv bench`: a real swarm on this machine, measured side by side with a plain HTTP fan-out
// of the same stream to the same number of viewers. Tracker, broadcaster, fan-out feed and
// viewer hosts are separate processes with their own sockets; viewers share a few host
// processes to fit two cores, each with its own upload cap drawn from rho and the free-rider
// share (as in the simulator). Measures follow DESIGN.md; the last line with --json is one
// JSON object { meshtv, httpFanout }.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../node/errors.js';
import { cdfOf, quantile } from '../sim/metrics.js';
import { linePlot } from '../sim/svg-plot.js';
import type { ViewerMeasures } from './fanout.js';
import type { HostReport } from './host.js';

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
  outDir?: string;
  json: boolean;
}

export interface SideSummary {
  viewers: number;
  S: number;
  continuity: { p50: number; p5: number };
  lagMs: { p50: number; p95: number };
  startupMs: { p50: number; p95: number };
  overhead: number;
  cpuPctPerViewer: number;
  rssMBPerViewer: number;
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

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [path.join(packageRoot(), 'bin/meshtv.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    S: round(sentBytes / Math.max(1, producedBytes)),
    continuity: { p50: round(quantile(cont, 0.5), 4), p5: round(quantile(cont, 0.05), 4) },
    lagMs: { p50: round(quantile(lag, 0.5), 0), p95: round(quantile(lag, 0.95), 0) },
    startupMs: { p50: round(quantile(startup, 0.5), 0), p95: round(quantile(startup, 0.95), 0) },
    overhead: round(control / Math.max(1, media), 4),
    cpuPctPerViewer: round((cpuMs / Math.max(1, wallMs) / Math.max(1, measures.length)) * 100, 2),
    rssMBPerViewer: round(rssMB / Math.max(1, measures.length), 1),
  };
}

export async function runBench(o: BenchOptions): Promise<{ meshtv: SideSummary; httpFanout: SideSummary }> {
  if (!Number.isInteger(o.peers) || o.peers < 1 || o.peers > 1000) throw new UserError('--peers must be 1-1000');
  if (!(o.durationS >= 5 && o.durationS <= 3600)) throw new UserError('--duration-s must be 5-3600');
  if (!(o.rho > 0 && o.rho <= 100)) throw new UserError('--rho must be above 0');
  if (!(o.freeRiders >= 0 && o.freeRiders < 1)) throw new UserError('--free-riders must be in [0, 1)');
  if (!(o.churnPerMin >= 0 && o.churnPerMin <= 1)) throw new UserError('--churn must be a share per minute in [0, 1]');
  const log = (msg: string) => {
    if (!o.json) process.stderr.write(`bench: ${msg}\n`);
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-bench-'));
  const procs: Proc[] = [];
  const spawnTracked = (args: string[]) => {
    const p = start(args);
    procs.push(p);
    return p;
  };
  try {
    const tracker = spawnTracked(['tracker', '--port', '0']);
    const trackerUrl = (await tracker.line(/tracker listening on (\S+)/))[1] as string;
    const source = spawnTracked([
      'broadcast',
      '--tracker',
      trackerUrl,
      '--name',
      'bench',
      '--key',
      path.join(dir, 'bench.key'),
      '--http-port',
      '0',
      ...(o.sourceUploadLimit !== undefined ? ['--upload-limit', o.sourceUploadLimit] : []),
    ]);
    const uri = (await source.line(/^(meshtv:\/\/\S+)$/m))[1] as string;
    const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
    const sourceStats = `${(await source.line(/stats: (\S+)\/stats\.json/))[1]}/stats.json`;
    const fanout = spawnTracked(['bench-fanout', channelId, '--tracker', trackerUrl]);
    const fanoutUrl = (await fanout.line(/^fanout (http\S+)$/m))[1] as string;
    // The stream's rate r, measured, sets the upload caps: rho = (r + sum of caps) / (N r).
    await new Promise((r) => setTimeout(r, 4000));
    const early = (await (await fetch(sourceStats)).json()) as { produceBps: number };
    const r = early.produceBps;
    const uploaders = Math.round(o.peers * (1 - o.freeRiders));
    const capBps = uploaders === 0 ? 0 : Math.max(0, Math.round((o.rho * o.peers * r - r) / uploaders));
    const caps = Array.from({ length: o.peers }, (_, i) => (i < o.peers - uploaders ? 0 : capBps));
    log(
      `r = ${Math.round(r / 1000)} kbit/s, N = ${o.peers}, rho = ${o.rho}, free riders ${o.freeRiders}: upload cap ${Math.round(capBps / 1000)} kbit/s`,
    );
    const hosts = Math.max(1, Math.min(o.hosts, o.peers));
    const startHost = (h: number) =>
      spawnTracked(['bench-host', channelId, '--tracker', trackerUrl, '--caps', caps.filter((_, i) => i % hosts === h).join(',')]);
    let hostProcs = Array.from({ length: hosts }, (_, h) => ({ h, proc: startHost(h) }));
    // The fan-out's clients live in a process of their own, so CPU and memory are told apart.
    const fanoutClients = spawnTracked([
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
    ]);
    type FanoutStats = { bytesSent: number; mediaBytesInFromSource: number };
    const before = (await (await fetch(sourceStats)).json()) as { bytesProduced: number; mediaBytesSent: number };
    const fanoutBefore = (await (await fetch(`${fanoutUrl}stats`)).json()) as FanoutStats;
    const startedAt = Date.now();
    const killed: HostReport[] = [];
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
    }
    log(`running ${o.durationS} s with ${hosts} host processes`);
    await new Promise((r) => setTimeout(r, o.durationS * 1000));
    clearInterval(churnTimer);
    const after = (await (await fetch(sourceStats)).json()) as { bytesProduced: number; mediaBytesSent: number };
    const wallMs = Date.now() - startedAt;
    const reports: HostReport[] = [...killed];
    for (const { proc } of hostProcs) proc.child.kill('SIGTERM');
    for (const { proc } of hostProcs) {
      const m = await proc.line(/^HOST-REPORT (.*)$/m, 30_000);
      reports.push(JSON.parse(m[1] as string) as HostReport);
    }
    const fanoutAfter = (await (await fetch(`${fanoutUrl}stats`)).json()) as FanoutStats;
    fanoutClients.child.kill('SIGTERM');
    const fanoutReport = JSON.parse((await fanoutClients.line(/^HOST-REPORT (.*)$/m, 30_000))[1] as string) as HostReport;
    const produced = after.bytesProduced - before.bytesProduced;
    log(
      `source: produced ${produced} B, sent ${after.mediaBytesSent - before.mediaBytesSent} B; fan-out feed took ${fanoutAfter.mediaBytesInFromSource - fanoutBefore.mediaBytesInFromSource} B from it, served ${fanoutAfter.bytesSent - fanoutBefore.bytesSent} B`,
    );
    // The fan-out's feed is one more receiver of the source: its bytes are the fan-out's, not the swarm's.
    const swarmSent =
      after.mediaBytesSent - before.mediaBytesSent - (fanoutAfter.mediaBytesInFromSource - fanoutBefore.mediaBytesInFromSource);
    const viewers = reports.flatMap((h) => h.viewers);
    const clients = fanoutReport.fanout;
    const cpuMs = reports.reduce((a, h) => a + h.cpuMs, 0);
    const rss = reports.reduce((a, h) => a + h.rssMB, 0);
    const result = {
      meshtv: summarize(viewers, swarmSent, produced, cpuMs, wallMs, rss),
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
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function writeReport(
  o: BenchOptions,
  result: { meshtv: SideSummary; httpFanout: SideSummary },
  viewers: ViewerMeasures[],
  clients: ViewerMeasures[],
): void {
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
      `# meshtv bench: N = ${o.peers}, rho = ${o.rho}, free riders ${o.freeRiders}, churn ${o.churnPerMin}/min, ${o.durationS} s`,
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
