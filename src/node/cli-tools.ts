// Command-line entry points of the measuring tools: `meshtv bench` (real processes against an
// HTTP fan-out), its helper processes (`bench-host`, `bench-fanout`, not for people), and
// `meshtv sim` (the simulator).

import { parseArgs } from 'node:util';
import { startFanout } from '../bench/fanout.js';
import { runHost } from '../bench/host.js';
import { runBench } from '../bench/run.js';
import { runSimCommand } from '../sim/cli-sim.js';
import { checkTrackerUrl } from './channel-uri.js';
import { UserError } from './errors.js';
import { createLogger } from './log.js';

export const TOOL_COMMANDS = new Set(['bench', 'bench-host', 'bench-fanout', 'sim']);

type Values = Record<string, string | boolean | undefined>;

function parse(
  args: string[],
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'],
  positionals = 0,
): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args,
      options: { ...options, 'log-level': { type: 'string' }, help: { type: 'boolean' } },
      allowPositionals: positionals > 0,
      strict: true,
    });
    if (parsed.positionals.length !== positionals) throw new UserError(`expected ${positionals} argument(s)`);
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${(err as Error).message}; run meshtv --help`);
  }
}

function num(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UserError(`${flag} must be a number, got "${String(value)}"`);
  return n;
}

export async function runToolCommand(command: string, args: string[]): Promise<number> {
  const quiet = createLogger({ level: 'error', format: 'text' });
  switch (command) {
    case 'sim':
      return runSimCommand(args);
    case 'bench': {
      const { values } = parse(args, {
        peers: { type: 'string' },
        'duration-s': { type: 'string' },
        rho: { type: 'string' },
        'free-riders': { type: 'string' },
        churn: { type: 'string' },
        hosts: { type: 'string' },
        'source-upload-limit': { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
      });
      const result = await runBench({
        peers: num(values.peers, '--peers', 20),
        durationS: num(values['duration-s'], '--duration-s', 30),
        rho: num(values.rho, '--rho', 1.25),
        freeRiders: num(values['free-riders'], '--free-riders', 0.2),
        churnPerMin: num(values.churn, '--churn', 0),
        hosts: num(values.hosts, '--hosts', 4),
        ...(typeof values['source-upload-limit'] === 'string' ? { sourceUploadLimit: values['source-upload-limit'] } : {}),
        ...(typeof values.out === 'string' ? { outDir: values.out } : {}),
        json: values.json === true,
      });
      if (values.json !== true) {
        for (const [name, s] of Object.entries(result)) {
          process.stdout.write(
            `${name.padEnd(10)} S ${s.S}  continuity p50 ${s.continuity.p50} p5 ${s.continuity.p5}  lag p50 ${s.lagMs.p50} ms p95 ${s.lagMs.p95} ms  startup p50 ${s.startupMs.p50} ms p95 ${s.startupMs.p95} ms  overhead ${s.overhead}  cpu/viewer ${s.cpuPctPerViewer}%  rss/viewer ${s.rssMBPerViewer} MB\n`,
          );
        }
      }
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    case 'bench-host': {
      const { values, positionals } = parse(
        args,
        { tracker: { type: 'string' }, caps: { type: 'string' }, fanout: { type: 'string' }, 'fanout-clients': { type: 'string' } },
        1,
      );
      const caps = String(values.caps ?? '')
        .split(',')
        .filter((c) => c !== '')
        .map((c) => num(c, '--caps', 0));
      const report = await runHost({
        channelId: positionals[0] as string,
        trackers: [checkTrackerUrl(String(values.tracker))],
        capsBps: caps,
        ...(typeof values.fanout === 'string' ? { fanoutUrl: values.fanout } : {}),
        fanoutClients: num(values['fanout-clients'], '--fanout-clients', 0),
        log: quiet,
      });
      process.stdout.write(`HOST-REPORT ${JSON.stringify(report)}\n`);
      return 0;
    }
    case 'bench-fanout': {
      const { values, positionals } = parse(args, { tracker: { type: 'string' } }, 1);
      const server = await startFanout({
        channelId: positionals[0] as string,
        trackers: [checkTrackerUrl(String(values.tracker))],
        port: 0,
        log: quiet,
      });
      process.stdout.write(`fanout ${server.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      await server.stop();
      return 0;
    }
    default:
      throw new UserError(`unknown command "${command}"`);
  }
}
