// Command-line entry points of the measuring tools: `meshtv bench` (real processes against an
// HTTP fan-out), its helper processes (`bench-host`, `bench-fanout`, not for people), and
// `meshtv sim` (the simulator).

import { checkTrackerUrl } from '../api/channel-uri.js';
import { startFanout } from '../bench/fanout.js';
import { runHost } from '../bench/host.js';
import { tellBench } from '../bench/messages.js';
import type { BenchResult } from '../bench/results.js';
import { runBench } from '../bench/run.js';
import { UserError } from '../common/errors.js';
import { createLogger } from '../common/log.js';
import { parseBitrateKbps } from '../media/encoding.js';
import { commandHelp, parse, parseSourceUploadLimit } from './args.js';
import { runSimCommand } from './sim.js';

export const TOOL_COMMANDS = new Set(['bench', 'bench-host', 'bench-fanout', 'sim']);

function num(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UserError(`${flag} must be a number, got "${String(value)}"`);
  return n;
}

/** The channel id a helper process was given (they are started by `meshtv bench`, not by people). */
function channelArg(positionals: string[]): string {
  const id = positionals[0];
  if (id === undefined || !/^[0-9a-f]{64}$/.test(id)) throw new UserError('expected a channel id (64 hex digits)');
  return id;
}

export async function runToolCommand(command: string, args: string[]): Promise<number> {
  switch (command) {
    case 'sim':
      return runSimCommand(args);
    case 'bench':
      return runBenchCommand(args);
    case 'bench-host':
      return runBenchHost(args);
    case 'bench-fanout':
      return runBenchFanout(args);
    default:
      throw new UserError(`unknown command "${command}"`);
  }
}

/** The helper processes log only errors: their measures go to the bench. */
const quiet = () => createLogger({ level: 'error', format: 'text' });

async function runBenchCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    peers: { type: 'string' },
    'duration-s': { type: 'string' },
    rho: { type: 'string' },
    'free-riders': { type: 'string' },
    churn: { type: 'string' },
    hosts: { type: 'string' },
    'source-upload-limit': { type: 'string' },
    'video-bitrate': { type: 'string' },
    'restart-tracker-at-s': { type: 'string' },
    'restart-source-at-s': { type: 'string' },
    netns: { type: 'boolean' },
    'told-caps': { type: 'boolean' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return commandHelp();
  // Checked here as the broadcaster checks them, so a typo is one clear error rather than a
  // broadcaster that never starts.
  if (typeof values['source-upload-limit'] === 'string') parseSourceUploadLimit(values['source-upload-limit'], '--source-upload-limit');
  if (typeof values['video-bitrate'] === 'string') parseBitrateKbps(values['video-bitrate'], '--video-bitrate');
  const result = await runBench({
    peers: num(values.peers, '--peers', 20),
    durationS: num(values['duration-s'], '--duration-s', 30),
    rho: num(values.rho, '--rho', 1.25),
    freeRiders: num(values['free-riders'], '--free-riders', 0.2),
    churnPerMin: num(values.churn, '--churn', 0),
    hosts: num(values.hosts, '--hosts', 4),
    ...(typeof values['source-upload-limit'] === 'string' ? { sourceUploadLimit: values['source-upload-limit'] } : {}),
    ...(typeof values['video-bitrate'] === 'string' ? { videoBitrate: values['video-bitrate'] } : {}),
    ...(values['restart-tracker-at-s'] !== undefined
      ? { restartTrackerAtS: num(values['restart-tracker-at-s'], '--restart-tracker-at-s', 0) }
      : {}),
    ...(values['restart-source-at-s'] !== undefined
      ? { restartSourceAtS: num(values['restart-source-at-s'], '--restart-source-at-s', 0) }
      : {}),
    netns: values.netns === true,
    toldCaps: values['told-caps'] === true,
    ...(typeof values.out === 'string' ? { outDir: values.out } : {}),
    json: values.json === true,
  });
  if (values.json !== true) printBenchResult(result);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}

/** The bench's figures for people, one line per side. */
function printBenchResult(result: BenchResult): void {
  process.stdout.write(
    `stream ${Math.round(result.streamBps / 1000)} kbit/s; upload caps ${result.mode === 'netns' ? 'tc tbf per host namespace (--netns)' : 'app-level, per viewer'}\n`,
  );
  for (const [name, s] of [
    ['meshtv', result.meshtv],
    ['httpFanout', result.httpFanout],
  ] as const) {
    process.stdout.write(
      `${name.padEnd(10)} S ${s.S}  continuity p50 ${s.continuity.p50} p5 ${s.continuity.p5}  lag p50 ${s.lagMs.p50} ms p95 ${s.lagMs.p95} ms  startup p50 ${s.startupMs.p50} ms p95 ${s.startupMs.p95} ms  overhead ${s.overhead}  cpu/viewer ${s.cpuPctPerViewer}%  rss/viewer ${s.rssMBPerViewer} MB${
        s.misses === undefined
          ? ''
          : `  misses ${s.misses.first10s} in the first 10 s, ${s.misses.later} later (${s.misses.viewers} viewers)`
      }\n`,
    );
    if ('restarts' in s && s.restarts !== undefined) process.stdout.write(`${''.padEnd(10)} restarts ${JSON.stringify(s.restarts)}\n`);
  }
}

async function runBenchHost(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      tracker: { type: 'string' },
      caps: { type: 'string' },
      'caps-in-kernel': { type: 'boolean' },
      host: { type: 'string' },
      fanout: { type: 'string' },
      'fanout-clients': { type: 'string' },
    },
    1,
  );
  const caps = String(values.caps ?? '')
    .split(',')
    .filter((c) => c !== '')
    .map((c) => num(c, '--caps', 0));
  const report = await runHost({
    channelId: channelArg(positionals),
    trackers: [checkTrackerUrl(String(values.tracker))],
    capsBps: caps,
    capsInKernel: values['caps-in-kernel'] === true,
    ...(typeof values.host === 'string' ? { host: values.host } : {}),
    ...(typeof values.fanout === 'string' ? { fanoutUrl: values.fanout } : {}),
    fanoutClients: num(values['fanout-clients'], '--fanout-clients', 0),
    log: quiet(),
  });
  // Run by hand (no bench to tell), it prints its report.
  if (!(await tellBench({ type: 'host-report', report }))) process.stdout.write(`HOST-REPORT ${JSON.stringify(report)}\n`);
  return 0;
}

async function runBenchFanout(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { tracker: { type: 'string' }, host: { type: 'string' } }, 1);
  const server = await startFanout({
    channelId: channelArg(positionals),
    trackers: [checkTrackerUrl(String(values.tracker))],
    ...(typeof values.host === 'string' ? { host: values.host } : {}),
    port: 0,
    log: quiet(),
  });
  process.stdout.write(`fanout ${server.url}\n`);
  await tellBench({ type: 'fanout-listening', url: server.url });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await server.stop();
  return 0;
}
