// --timeshift and --timeshift-max-size, shared by the commands that keep a timeshift window:
// a duration as people say it (90s, 30m, 2h; 0 or off for none) and a size on disk (500M, 2G).

import { UserError } from '../common/errors.js';
import { str, type Values } from './args.js';

const MIN_WINDOW_MS = 10_000;
const MAX_WINDOW_MS = 24 * 3600_000;
const MIN_SIZE_BYTES = 1024 * 1024;
const MAX_SIZE_BYTES = 1024 ** 4;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000 };
const UNIT_BYTES: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A timeshift window in ms; 0 for none ("0", "off"). */
export function parseTimeshiftWindowMs(value: string, flag = '--timeshift'): number {
  const v = value.trim().toLowerCase();
  if (v === '0' || v === 'off') return 0;
  const m = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(v);
  const ms = m === null ? Number.NaN : Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] as number));
  if (!(ms >= MIN_WINDOW_MS && ms <= MAX_WINDOW_MS))
    throw new UserError(`${flag} must be a duration from 10s to 24h (90s, 30m, 2h) or off, got "${value}"`);
  return ms;
}

/** A size on disk in bytes: 500M, 2G, 1.5GiB (K, M, G, T count in 1024s). */
export function parseSizeBytes(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt])(?:i?b)?$/i.exec(value.trim());
  const bytes = m === null ? Number.NaN : Math.round(Number(m[1]) * (UNIT_BYTES[(m[2] as string).toLowerCase()] as number));
  if (!(bytes >= MIN_SIZE_BYTES && bytes <= MAX_SIZE_BYTES))
    throw new UserError(`${flag} must be a size from 1M to 1T (500M, 2G, 1.5GiB), got "${value}"`);
  return bytes;
}

/** The timeshift a command was asked for; undefined when off (the default given is used without the flag). */
export function timeshiftOption(values: Values, defaultWindow = 'off'): { windowMs: number; maxBytes?: number } | undefined {
  const windowMs = parseTimeshiftWindowMs(str(values, 'timeshift') ?? defaultWindow);
  const size = str(values, 'timeshift-max-size');
  if (windowMs === 0) {
    if (size !== undefined) throw new UserError('--timeshift-max-size needs a timeshift window: add --timeshift 30m');
    return undefined;
  }
  return { windowMs, ...(size !== undefined ? { maxBytes: parseSizeBytes(size, '--timeshift-max-size') } : {}) };
}

export const TIMESHIFT_FLAGS = {
  timeshift: { type: 'string' },
  'timeshift-max-size': { type: 'string' },
} as const;
