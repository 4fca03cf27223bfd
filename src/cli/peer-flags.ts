// Flags the peer commands share (tracker, broadcast, watch, demo): trackers, ports, NAT
// traversal, upload policy, logging and the channel key's place, each checked strictly and
// turned into a UserError naming the flag when it is wrong.

import os from 'node:os';
import path from 'node:path';
import { checkTrackerUrl } from '../api/channel-uri.js';
import { UserError } from '../common/errors.js';
import { createLogger, type Logger, type LogLevel } from '../common/log.js';
import { parseDhtBootstrap } from '../native/dht-discovery.js';
import type { NetworkOptions } from '../native/swarm-node.js';
import { type IceServer, parseIceServer } from '../transport/ice.js';
import { parseUploadLimitBps, str, type Values } from './args.js';
import type { StatusLine } from './status-line.js';

export const DEFAULT_TRACKER = 'http://127.0.0.1:8000';

export const PEER = {
  tracker: { type: 'string', multiple: true },
  host: { type: 'string' },
  'peer-port': { type: 'string' },
  'announce-address': { type: 'string' },
  'max-peers': { type: 'string' },
  'http-port': { type: 'string' },
  stun: { type: 'string', multiple: true },
  turn: { type: 'string', multiple: true },
  'no-dht': { type: 'boolean' },
  'dht-bootstrap': { type: 'string', multiple: true },
} as const;

/** --stun and --turn; undefined when neither is given (then the trackers' defaults apply). */
export function iceServers(values: Values): IceServer[] | undefined {
  const stun = (values.stun as string[] | undefined) ?? [];
  const turn = (values.turn as string[] | undefined) ?? [];
  if (stun.length + turn.length === 0) return undefined;
  try {
    return [...stun.map((t) => parseIceServer('stun', t)), ...turn.map((t) => parseIceServer('turn', t))];
  } catch (err) {
    throw new UserError(`--${(err as Error).message.startsWith('STUN') ? 'stun' : 'turn'}: ${(err as Error).message}`);
  }
}

export function networkOptions(values: Values): NetworkOptions {
  const ice = iceServers(values);
  const bootstrap = values['dht-bootstrap'] as string[] | undefined;
  if (values['no-dht'] === true && bootstrap !== undefined) throw new UserError('--no-dht and --dht-bootstrap exclude each other');
  if (bootstrap !== undefined) parseDhtBootstrap(bootstrap);
  return {
    ...(ice !== undefined ? { iceServers: ice } : {}),
    ...(values['no-dht'] === true ? {} : { dht: bootstrap === undefined ? {} : { bootstrap } }),
  };
}

/** --upload-limit RATE|unlimited (e.g. 2mbit, 500k) and --no-upload: what the viewer gives to others. */
export function uploadPolicy(values: Values): { uploadEnabled: boolean; uploadLimitBps?: number } {
  const limit = str(values, 'upload-limit');
  if (values['no-upload'] === true && limit !== undefined) throw new UserError('--no-upload and --upload-limit exclude each other');
  if (values['no-upload'] === true) return { uploadEnabled: false };
  if (limit === undefined || limit === 'unlimited') return { uploadEnabled: true };
  return { uploadEnabled: true, uploadLimitBps: parseUploadLimitBps(limit, '--upload-limit') };
}

export function logger(values: Values, status?: StatusLine): Logger {
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

export function port(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UserError(`${flag} must be a port number 0-65535, got "${String(value)}"`);
  return n;
}

export function positiveInt(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new UserError(`${flag} must be a whole number 1-10000, got "${String(value)}"`);
  return n;
}

export function trackers(values: Values): string[] {
  const given = (values.tracker as string[] | undefined) ?? [];
  const list = given.length > 0 ? given : [process.env.MESHTV_TRACKER || DEFAULT_TRACKER];
  return list.map(checkTrackerUrl);
}

export function defaultKeyFile(): string {
  const base = process.env.MESHTV_HOME || path.join(os.homedir(), '.meshtv');
  return path.join(base, 'channel.key');
}
