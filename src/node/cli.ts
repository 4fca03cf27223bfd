// The `meshtv` command line: parses flags strictly and starts the composition roots.
// User errors print one line and exit 1; anything else is a bug and prints its stack.

import os from 'node:os';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { startTracker } from '../tracker/server.js';
import { startBroadcast } from './broadcaster.js';
import { checkTrackerUrl } from './channel-uri.js';
import { UserError } from './errors.js';
import { createLogger, type Logger, type LogLevel } from './log.js';
import { StatusLine } from './status-line.js';
import { listChannels } from './tracker-client.js';
import { startViewer } from './viewer.js';

const DEFAULT_TRACKER = 'http://127.0.0.1:8000';

const USAGE = `meshtv — peer-to-peer live TV

Usage:
  meshtv tracker   [--host 127.0.0.1] [--port 8000]
  meshtv broadcast [--tracker URL] [--name NAME] [--key FILE] [--host ADDR] [--peer-port N]
                   [--announce-address ADDR] [--max-peers N] [--http-port N]
  meshtv watch <uri|id|name> [--tracker URL] [--http-port 8902] [--http-host 127.0.0.1]
                   [--host ADDR] [--peer-port N] [--announce-address ADDR] [--max-peers N]
  meshtv channels  [--tracker URL] [--json]
  meshtv demo      [--port 8000] [--http-port 8902]

Common flags: --log-level debug|info|warn|error, --log-format text|json, --help.
The tracker URL may also come from MESHTV_TRACKER; --tracker may be repeated.
`;

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
} as const;
const PEER = {
  tracker: { type: 'string', multiple: true },
  host: { type: 'string' },
  'peer-port': { type: 'string' },
  'announce-address': { type: 'string' },
  'max-peers': { type: 'string' },
  'http-port': { type: 'string' },
} as const;

type Stoppable = { stop(): Promise<void> };

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  switch (command) {
    case 'tracker':
      return runTracker(rest);
    case 'broadcast':
      return runBroadcast(rest);
    case 'watch':
      return runWatch(rest);
    case 'channels':
      return runChannels(rest);
    case 'demo':
      return runDemo(rest);
    default:
      throw new UserError(`unknown command "${command}"; run meshtv --help`);
  }
}

type Values = { readonly [flag: string]: string | boolean | (string | boolean)[] | undefined };

function parse(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  positionals = 0,
): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: positionals > 0, strict: true });
    if (parsed.positionals.length > positionals) throw new UserError(`unexpected argument "${parsed.positionals[positionals]}"`);
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${(err as Error).message}; run meshtv --help`);
  }
}

/** A string flag's value (undefined when absent). */
function str(values: Values, flag: string): string | undefined {
  const v = values[flag];
  return typeof v === 'string' ? v : undefined;
}

function logger(values: Values, status?: StatusLine): Logger {
  const level = str(values, 'log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UserError(`--log-level must be debug, info, warn or error`);
  const format = str(values, 'log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UserError(`--log-format must be text or json`);
  return createLogger({
    level: level as LogLevel,
    format,
    sink: { write: (line) => process.stderr.write(line), ...(status ? { beforeWrite: () => status.clear() } : {}) },
  });
}

function port(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UserError(`${flag} must be a port number 0-65535, got "${String(value)}"`);
  return n;
}

function positiveInt(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new UserError(`${flag} must be a whole number 1-10000, got "${String(value)}"`);
  return n;
}

function trackers(values: Values): string[] {
  const given = (values.tracker as string[] | undefined) ?? [];
  const list = given.length > 0 ? given : [process.env.MESHTV_TRACKER || DEFAULT_TRACKER];
  return list.map(checkTrackerUrl);
}

function defaultKeyFile(): string {
  const base = process.env.MESHTV_HOME || path.join(os.homedir(), '.meshtv');
  return path.join(base, 'channel.key');
}

/** Resolves when SIGINT or SIGTERM arrives, after stopping everything given. */
function untilSignal(parts: Stoppable[], onStop?: () => void): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      onStop?.();
      Promise.allSettled(parts.map((p) => p.stop())).then(() => resolve(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function runTracker(args: string[]): Promise<number> {
  const { values } = parse(args, { host: { type: 'string' }, port: { type: 'string' } });
  if (values.help) return help();
  const log = logger(values);
  const host = str(values, 'host') ?? '127.0.0.1';
  const p = port(str(values, 'port'), '--port', 8000);
  const tracker = await startTracker({ host, port: p }).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(
      err.code === 'EADDRINUSE'
        ? `port ${p} on ${host} is in use; choose another with --port`
        : `cannot listen on ${host}:${p}: ${err.message}`,
    );
  });
  process.stdout.write(`tracker listening on ${tracker.url}\n`);
  log.info(`channel directory: ${tracker.url}/api/channels`);
  return untilSignal([tracker]);
}

async function runBroadcast(args: string[]): Promise<number> {
  const { values } = parse(args, { ...PEER, name: { type: 'string' }, key: { type: 'string' } });
  if (values.help) return help();
  const log = logger(values);
  const name = str(values, 'name') ?? 'test pattern';
  const b = await startBroadcast({
    trackers: trackers(values),
    name,
    keyFile: str(values, 'key') ?? defaultKeyFile(),
    host: str(values, 'host') ?? '0.0.0.0',
    port: port(str(values, 'peer-port'), '--peer-port', 0),
    ...(str(values, 'announce-address') ? { announceAddress: str(values, 'announce-address') } : {}),
    ...(str(values, 'http-port') !== undefined ? { httpPort: port(str(values, 'http-port'), '--http-port', 0) } : {}),
    ...(str(values, 'max-peers') !== undefined ? { maxPeers: positiveInt(str(values, 'max-peers'), '--max-peers') as number } : {}),
    log,
  });
  if (b.keyCreated) log.info(`created a new channel key`);
  log.info(`broadcasting "${name}"`);
  if (b.httpUrl) log.info(`stats: ${b.httpUrl}/stats.json`);
  process.stdout.write(`${b.uri}\n`);
  return untilSignal([b]);
}

async function runWatch(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...PEER, 'http-host': { type: 'string' } }, 1);
  if (values.help) return help();
  const channel = positionals[0];
  if (channel === undefined) throw new UserError('which channel? usage: meshtv watch <uri|id|name>');
  const status = new StatusLine(process.stderr);
  const log = logger(values, status);
  const v = await startViewer({
    channel,
    trackers: trackers(values),
    host: str(values, 'host') ?? '0.0.0.0',
    port: port(str(values, 'peer-port'), '--peer-port', 0),
    ...(str(values, 'announce-address') ? { announceAddress: str(values, 'announce-address') } : {}),
    httpHost: str(values, 'http-host') ?? '127.0.0.1',
    httpPort: port(str(values, 'http-port'), '--http-port', 8902),
    ...(str(values, 'max-peers') !== undefined ? { maxPeers: positiveInt(str(values, 'max-peers'), '--max-peers') as number } : {}),
    log,
  });
  process.stdout.write(`${v.streamUrl}\n`);
  log.info(`play it with: vlc ${v.streamUrl}   (or mpv, ffplay); stats: ${v.statsUrl}`);
  status.start(() => v.statusLine());
  return untilSignal([v], () => status.stop());
}

async function runChannels(args: string[]): Promise<number> {
  const { values } = parse(args, { tracker: { type: 'string', multiple: true }, json: { type: 'boolean' } });
  if (values.help) return help();
  const lists = await Promise.all(trackers(values).map((t) => listChannels(t)));
  const seen = new Map<string, (typeof lists)[number][number]>();
  for (const c of lists.flat()) if (!seen.has(c.id)) seen.set(c.id, c);
  const channels = [...seen.values()];
  if (values.json) {
    process.stdout.write(`${JSON.stringify(channels)}\n`);
    return 0;
  }
  if (channels.length === 0) {
    process.stdout.write('no live channels\n');
    return 0;
  }
  for (const c of channels) {
    const clash = c.sameNameAs.length > 0 ? `  (name also used by ${c.sameNameAs.map((id) => id.slice(0, 8)).join(', ')})` : '';
    process.stdout.write(
      `${c.id}  ${String(c.viewers).padStart(5)} viewers  ${((c.bitrateBps ?? 0) / 1000).toFixed(0).padStart(5)} kbit/s  ${c.name}${clash}\n`,
    );
  }
  return 0;
}

async function runDemo(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' }, 'http-port': { type: 'string' }, key: { type: 'string' } });
  if (values.help) return help();
  const status = new StatusLine(process.stderr);
  const log = logger(values, status);
  const trackerPort = port(str(values, 'port'), '--port', 8000);
  const httpPort = port(str(values, 'http-port'), '--http-port', 8902);
  const parts: Stoppable[] = [];
  try {
    const tracker = await startTracker({ host: '127.0.0.1', port: trackerPort }).catch((err: NodeJS.ErrnoException) => {
      throw new UserError(
        err.code === 'EADDRINUSE' ? `port ${trackerPort} is in use (another meshtv demo?); choose another with --port` : err.message,
      );
    });
    parts.push(tracker);
    const b = await startBroadcast({
      trackers: [tracker.url],
      name: 'meshtv demo',
      keyFile: str(values, 'key') ?? path.join(process.env.MESHTV_HOME || path.join(os.homedir(), '.meshtv'), 'demo.key'),
      host: '127.0.0.1',
      port: 0,
      log: log.child('broadcast'),
    });
    parts.push(b);
    const viewers = [];
    for (let i = 0; i < 2; i++) {
      const v = await startViewer({
        channel: b.uri,
        trackers: [],
        host: '127.0.0.1',
        port: 0,
        httpHost: '127.0.0.1',
        httpPort: httpPort === 0 ? 0 : httpPort + i,
        log: log.child(`viewer${i + 1}`),
      });
      parts.push(v);
      viewers.push(v);
    }
    const [first, second] = viewers as [Awaited<ReturnType<typeof startViewer>>, Awaited<ReturnType<typeof startViewer>>];
    process.stdout.write(
      [
        'meshtv demo is running: a tracker, a test-pattern channel and two viewers relaying to each other.',
        `  channel:     ${b.uri}`,
        `  directory:   ${tracker.url}/api/channels`,
        `  VLC/mpv URL: ${first.streamUrl}`,
        `  viewer 2:    ${second.streamUrl}`,
        `  stats:       ${first.statsUrl}`,
        'Open the VLC/mpv URL in a player (vlc, mpv, ffplay). Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    status.start(() => `viewer 1: ${first.statusLine()}`);
  } catch (err) {
    await Promise.allSettled(parts.reverse().map((p) => p.stop()));
    throw err;
  }
  return untilSignal(parts.reverse(), () => status.stop());
}

function help(): number {
  process.stdout.write(USAGE);
  return 0;
}
