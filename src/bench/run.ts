// `meshtv bench`: a real swarm on this machine, measured side by side with a plain HTTP fan-out
// of the same stream to the same number of viewers. Tracker, broadcaster, fan-out feed and
// viewer hosts are separate processes with their own sockets; viewers share a few host
// processes to fit two cores, each with its own upload cap drawn from rho and the free-rider
// share (as in the simulator). With --netns (root) the caps are `tc tbf` links of network
// namespaces instead (see netns.ts). Measures follow docs/measures.md; the last line with --json
// is one JSON object { mode, meshtv, httpFanout }. The child processes tell the bench what it
// needs in structured messages (messages.ts).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchChild } from './child.js';
import { type FanoutStats, readFanout, readSource, type SourceBytes, SourceLedger } from './counts.js';
import type { HostReport } from './host.js';
import { type BenchNet, createBenchNet } from './netns.js';
import { type BenchOptions, checkBenchOptions, hostLayout } from './options.js';
import { writeReport } from './report.js';
import { type BenchMode, type BenchResult, type RestartSummary, sourceRestartTimes, summarize } from './results.js';

/** How long the stream runs before its rate is read to set the upload caps. */
const RATE_WARMUP_MS = 4000;
/** How long a host process may take to report once told to stop. */
const REPORT_TIMEOUT_MS = 30_000;

/** What a run started: stopped by stop() in reverse order (timers, processes, network, files). */
class RunResources {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-bench-'));
  net: BenchNet | undefined;
  private readonly procs: BenchChild[] = [];
  // Timers that start or restart processes (intervals too): cleared before the processes are stopped.
  private readonly timers: NodeJS.Timeout[] = [];

  spawn(args: string[], ns?: string): BenchChild {
    const p = BenchChild.start(args, ns);
    this.procs.push(p);
    this.net?.adopt(p.child.pid);
    return p;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.timers.push(setTimeout(r, ms)));
  }

  every(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setInterval(fn, ms);
    this.timers.push(t);
    return t;
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    for (const p of this.procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    this.net?.destroy();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Where the run's servers listen, once they are up. */
interface Endpoints {
  trackerUrl: string;
  channelId: string;
  fanoutUrl: string;
}

interface Source {
  proc: BenchChild;
  uri: string;
  channelId: string;
  stats: string;
}

/** How the run ended for one side: its viewers' reports and its server's counts. */
interface Collected {
  reports: HostReport[];
  fanoutReport: HostReport;
  fanoutSent: number;
  fanoutTookFromSource: number;
  source: SourceBytes;
  wallMs: number;
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  checkBenchOptions(o);
  const run = new BenchRun(o);
  try {
    return await run.measure();
  } finally {
    run.stop();
  }
}

class BenchRun {
  private readonly mode: BenchMode;
  private readonly res = new RunResources();
  private readonly uploaders: number;
  private readonly layout: number[][];
  private readonly ledger = new SourceLedger();
  private readonly restarts: RestartSummary = {};
  private tracker: BenchChild | undefined;
  private source: Source | undefined;
  private hosts: { h: number; proc: BenchChild }[] = [];
  private hostCaps: number[][] = [];
  private sourceKilledAtMs: number | undefined;
  private sourceBackAtMs: number | undefined;

  constructor(private readonly o: BenchOptions) {
    this.mode = o.netns === true ? 'netns' : 'app';
    this.uploaders = Math.round(o.peers * (1 - o.freeRiders));
    this.layout = hostLayout(o.peers, o.peers - this.uploaders, o.hosts, this.mode === 'netns');
  }

  stop(): void {
    this.res.stop();
  }

  private log(msg: string): void {
    if (!this.o.json) process.stderr.write(`bench: ${msg}\n`);
  }

  async measure(): Promise<BenchResult> {
    const at = await this.startServers();
    const source = this.source as Source;
    await this.setUploadCaps(source.stats);
    this.hosts = this.layout.map((_, h) => ({ h, proc: this.startHost(h, at) }));
    const clients = this.startFanoutClients(at);
    this.ledger.begin(await readSource(source.stats));
    const fanoutBefore = await readFanout(at.fanoutUrl);
    const startedAt = Date.now();
    const churn = this.startChurn(at);
    this.log(
      `running ${this.o.durationS} s with ${this.layout.length} host processes, upload caps ${this.mode === 'netns' ? 'tc tbf per host namespace' : 'app-level per viewer'}`,
    );
    await this.runScheduled(at);
    clearInterval(churn);
    const collected = await this.collect(clients, fanoutBefore, at, startedAt);
    return this.result(collected);
  }

  /** The tracker, the broadcaster and the fan-out's feed, in the hub namespace with netns. */
  private async startServers(): Promise<Endpoints> {
    // In netns mode the tracker and the fan-out feed run in the hub ("the internet"), bound to its
    // address. The broadcaster stays in the root namespace, its peer listener on the root end of
    // the hub link (so viewers reach it through the hub like any server), and its --http-port
    // server (stats.json, read here) on 127.0.0.1, where this process reaches it directly.
    if (this.mode === 'netns') {
      const freeRiders = this.o.peers > this.uploaders;
      this.res.net = createBenchNet([
        ...(freeRiders ? ['free'] : []),
        ...this.layout.slice(freeRiders ? 1 : 0).map((_, h) => `h${h}`),
        'fanout',
      ]);
    }
    const trackerUrl = await this.startTracker('0');
    this.source = await this.startSource(trackerUrl);
    const channelId = this.source.channelId;
    const hub = this.res.net?.hub;
    const fanout = this.res.spawn(
      ['bench-fanout', channelId, '--tracker', trackerUrl, ...(hub !== undefined ? ['--host', hub.address] : [])],
      hub?.ns,
    );
    return { trackerUrl, channelId, fanoutUrl: (await fanout.message('fanout-listening')).url };
  }

  /** Starts the tracker on `port` (0: any) and resolves with its URL once it listens. */
  private async startTracker(port: string): Promise<string> {
    const hub = this.res.net?.hub;
    // The bench's viewers share a few addresses (one, in app mode): no per-address rate limit.
    this.tracker = this.res.spawn(
      ['tracker', '--port', port, '--rate-limit', '0', ...(hub !== undefined ? ['--host', hub.address] : [])],
      hub?.ns,
    );
    return (await this.tracker.message('tracker-listening')).url;
  }

  private async startSource(trackerUrl: string): Promise<Source> {
    const { net, dir } = this.res;
    const proc = this.res.spawn([
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
      ...(this.o.sourceUploadLimit !== undefined ? ['--upload-limit', this.o.sourceUploadLimit] : []),
      ...(this.o.videoBitrate !== undefined ? ['--video-bitrate', this.o.videoBitrate] : []),
    ]);
    const m = await proc.message('broadcasting');
    if (m.statsUrl === undefined) throw new Error('bench: the broadcaster serves no stats.json');
    return { proc, uri: m.uri, channelId: m.channelId, stats: m.statsUrl };
  }

  /**
   * The stream's rate r, measured, sets the upload caps: rho = (source upload + sum of caps) /
   * (N r), the source's upload being its cap (r when it has none).
   */
  private async setUploadCaps(sourceStats: string): Promise<void> {
    const o = this.o;
    await new Promise((r) => setTimeout(r, RATE_WARMUP_MS));
    const early = (await (await fetch(sourceStats)).json()) as { produceBps: number; uploadLimitBps: number | null };
    const r = early.produceBps;
    const sourceUp = early.uploadLimitBps ?? r;
    const capBps = this.uploaders === 0 ? 0 : Math.max(0, Math.round((o.rho * o.peers * r - sourceUp) / this.uploaders));
    const caps = Array.from({ length: o.peers }, (_, i) => (i < o.peers - this.uploaders ? 0 : capBps));
    this.log(
      `r = ${Math.round(r / 1000)} kbit/s, N = ${o.peers}, rho = ${o.rho}, free riders ${o.freeRiders}: upload cap ${Math.round(capBps / 1000)} kbit/s`,
    );
    this.hostCaps = this.layout.map((ids) => ids.map((i) => caps[i] as number));
    const net = this.res.net;
    // With netns, a host's viewers share one tbf of the sum of their caps (so the cap is pooled,
    // where the app-level caps are per viewer); downloads are not capped in either mode.
    for (const [h, c] of net === undefined ? [] : this.hostCaps.entries()) {
      const sum = c.reduce((a, x) => a + x, 0);
      if (sum > 0) net?.limitUpload(h, sum);
      const place = net?.hosts[h];
      this.log(`${place?.ns} (${place?.address}): ${c.length} viewers, upload ${sum > 0 ? `tbf ${Math.round(sum / 1000)} kbit/s` : 'off'}`);
    }
  }

  private startHost(h: number, at: Endpoints): BenchChild {
    const place = this.res.net?.hosts[h];
    return this.res.spawn(
      [
        'bench-host',
        at.channelId,
        '--tracker',
        at.trackerUrl,
        '--caps',
        (this.hostCaps[h] as number[]).join(','),
        ...(place !== undefined ? ['--host', place.address, ...(this.o.toldCaps === true ? [] : ['--caps-in-kernel'])] : []),
      ],
      place?.ns,
    );
  }

  /**
   * The fan-out's clients live in a process of their own, so CPU and memory are told apart; with
   * netns in a namespace of their own, not capped (the fan-out models a CDN with upload to spare).
   */
  private startFanoutClients(at: Endpoints): BenchChild {
    const place = this.res.net?.hosts[this.layout.length];
    return this.res.spawn(
      [
        'bench-host',
        at.channelId,
        '--tracker',
        at.trackerUrl,
        '--caps',
        '',
        '--fanout',
        at.fanoutUrl,
        '--fanout-clients',
        String(this.o.peers),
        ...(place !== undefined ? ['--host', place.address] : []),
      ],
      place?.ns,
    );
  }

  /** Churn: SIGKILL whole host processes at the asked rate and start fresh ones in their place. */
  private startChurn(at: Endpoints): NodeJS.Timeout | undefined {
    const o = this.o;
    const killEveryMs = o.churnPerMin > 0 ? 60_000 / ((o.churnPerMin * o.peers) / Math.ceil(o.peers / this.layout.length)) : 0;
    if (killEveryMs <= 0) return undefined;
    return this.res.every(killEveryMs, () => {
      const victim = this.hosts[Math.floor(Math.random() * this.hosts.length)];
      if (victim === undefined) return;
      victim.proc.child.kill('SIGKILL');
      this.hosts = this.hosts.map((x) => (x === victim ? { h: victim.h, proc: this.startHost(victim.h, at) } : x));
    });
  }

  /** Runs for the asked duration, with the restarts asked for; a failed restart ends it at once. */
  private async runScheduled(at: Endpoints): Promise<void> {
    const scheduled: Promise<void>[] = [];
    // A restart that fails ends the run at once: left to reject on its own it would kill this
    // process before the cleanup, leaving every viewer process running.
    let abort: (err: unknown) => void = () => {};
    const aborted = new Promise<never>((_, reject) => {
      abort = reject;
    });
    const schedule = (seconds: number | undefined, what: () => Promise<void>) => {
      if (seconds === undefined) return;
      scheduled.push(
        this.res
          .sleep(seconds * 1000)
          .then(what)
          .catch((err: unknown) => abort(err)),
      );
    };
    schedule(this.o.restartTrackerAtS, () => this.restartTracker(at));
    schedule(this.o.restartSourceAtS, () => this.restartSource(at));
    await Promise.race([this.res.sleep(this.o.durationS * 1000), aborted]);
    await Promise.race([Promise.all(scheduled), aborted]);
  }

  private async restartTracker(at: Endpoints): Promise<void> {
    const tracker = this.tracker as BenchChild;
    const killedAt = Date.now();
    await tracker.kill();
    await this.startTracker(new URL(at.trackerUrl).port);
    this.restarts.trackerDowntimeMs = Date.now() - killedAt;
    this.log(`tracker killed and listening again after ${this.restarts.trackerDowntimeMs} ms`);
  }

  private async restartSource(at: Endpoints): Promise<void> {
    const old = this.source as Source;
    this.ledger.restarting(await readSource(old.stats));
    const killedAt = Date.now();
    this.sourceKilledAtMs = killedAt;
    await old.proc.kill();
    const source = await this.startSource(at.trackerUrl);
    this.source = source;
    while ((await readSource(source.stats)).chunksProduced === 0) await new Promise((r) => setTimeout(r, 50));
    this.sourceBackAtMs = Date.now();
    this.restarts.sourceDowntimeMs = this.sourceBackAtMs - killedAt;
    this.log(`broadcaster killed and producing again (same key) after ${this.restarts.sourceDowntimeMs} ms`);
  }

  /** Stops the viewers and takes their reports, and the counts of the broadcaster and the fan-out. */
  private async collect(clients: BenchChild, fanoutBefore: FanoutStats, at: Endpoints, startedAt: number): Promise<Collected> {
    // Over the measured span, across broadcaster lives.
    const source = this.ledger.total(await readSource((this.source as Source).stats));
    const wallMs = Date.now() - startedAt;
    // Hosts killed by churn took their viewers' measures with them: the survivors report.
    for (const { proc } of this.hosts) proc.child.kill('SIGTERM');
    const reports: HostReport[] = [];
    for (const { proc } of this.hosts) reports.push((await proc.message('host-report', REPORT_TIMEOUT_MS)).report);
    const fanoutAfter = await readFanout(at.fanoutUrl);
    clients.child.kill('SIGTERM');
    const fanoutReport = (await clients.message('host-report', REPORT_TIMEOUT_MS)).report;
    const fanoutSent = fanoutAfter.bytesSent - fanoutBefore.bytesSent;
    const fanoutTookFromSource = fanoutAfter.mediaBytesInFromSource - fanoutBefore.mediaBytesInFromSource;
    this.log(
      `source: produced ${source.bytesProduced} B, sent ${source.mediaBytesSent} B; fan-out feed took ${fanoutTookFromSource} B from it, served ${fanoutSent} B`,
    );
    return { reports, fanoutReport, fanoutSent, fanoutTookFromSource, source, wallMs };
  }

  private result(c: Collected): BenchResult {
    const produced = c.source.bytesProduced;
    // The fan-out's feed pulls from the broadcaster's origin: its bytes are the fan-out's, not the swarm's.
    const swarmSent = c.source.mediaBytesSent - c.fanoutTookFromSource;
    const viewers = c.reports.flatMap((h) => h.viewers);
    const clients = c.fanoutReport.fanout;
    const cpuMs = c.reports.reduce((a, h) => a + h.cpuMs, 0);
    const rssMB = c.reports.reduce((a, h) => a + h.rssMB, 0);
    if (this.sourceBackAtMs !== undefined && this.sourceKilledAtMs !== undefined)
      Object.assign(this.restarts, sourceRestartTimes(viewers, this.sourceKilledAtMs, this.sourceBackAtMs));
    const result: BenchResult = {
      mode: this.mode,
      streamBps: Math.round((produced * 8000) / c.wallMs),
      meshtv: {
        ...summarize(viewers, { sentBytes: swarmSent, producedBytes: produced, cpuMs, wallMs: c.wallMs, rssMB }),
        ...(Object.keys(this.restarts).length > 0 ? { restarts: this.restarts } : {}),
      },
      httpFanout: summarize(clients, {
        sentBytes: c.fanoutSent,
        producedBytes: produced,
        cpuMs: c.fanoutReport.cpuMs,
        wallMs: c.wallMs,
        rssMB: c.fanoutReport.rssMB,
      }),
    };
    if (this.o.outDir !== undefined) writeReport(this.o, result, viewers, clients);
    return result;
  }
}
