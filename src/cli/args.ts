// Command-line flags: strict parsing, and the settings every flag may also take from the
// environment (MESHTV_<FLAG>) or the config file, in that order of precedence. Shared by every
// command, the tools' included.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UserError } from '../common/errors.js';
import { parseBitrateKbps } from '../media/encoding.js';
import { commandUsage } from './usage.js';

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
} as const;

export type Values = { readonly [flag: string]: string | boolean | (string | boolean)[] | undefined };

export function parse(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  positionals = 0,
): { values: Values; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: positionals > 0, strict: true });
  } catch (err) {
    throw new UserError(`${(err as Error).message}; run meshtv --help`);
  }
  if (parsed.positionals.length > positionals) throw new UserError(`unexpected argument "${parsed.positionals[positionals]}"`);
  helpFlags = Object.keys({ ...options, ...COMMON });
  return { values: withSettings(parsed.values as Values, { ...COMMON, ...options }), positionals: parsed.positionals };
}

/**
 * Settings come from, in this order of precedence: the flag; the environment variable
 * MESHTV_<FLAG> (e.g. MESHTV_UPLOAD_LIMIT=2mbit); the config file (MESHTV_CONFIG, by default
 * ~/.meshtv/config.json), where a key under the command's name ({"watch": {"http-port": 8910}})
 * wins over a top-level one ({"tracker": "http://tracker.example:8000"}).
 */
function withSettings(values: Values, options: NonNullable<ParseArgsConfig['options']>): Values {
  const file = configFile();
  const out: Record<string, Values[string]> = { ...values };
  for (const [name, spec] of Object.entries(options)) {
    if (out[name] !== undefined || name === 'help') continue;
    const section = file[currentCommand];
    const fromFile =
      typeof section === 'object' && section !== null && !Array.isArray(section) ? (section as Record<string, unknown>)[name] : undefined;
    const raw: unknown = process.env[`MESHTV_${name.toUpperCase().replace(/-/g, '_')}`] ?? fromFile ?? file[name];
    if (raw === undefined || raw === '' || raw === null) continue;
    if (spec.type === 'boolean') out[name] = raw === true || raw === 'true' || raw === '1';
    else if (spec.multiple) out[name] = (Array.isArray(raw) ? raw : String(raw).split(',')).map(String);
    else if (typeof raw === 'string' || typeof raw === 'number') out[name] = String(raw);
    else throw new UserError(`setting "${name}" must be a string or a number`);
  }
  return out;
}

let currentCommand = '';
/** The flags of the command parsed last, for its --help. */
let helpFlags: string[] = [];

/** Prints the current command's --help (its own flags, one line each). */
export function commandHelp(): number {
  process.stdout.write(commandUsage(currentCommand, helpFlags));
  return 0;
}

/** The command being run: its section of the config file applies. */
export function setCommand(command: string): void {
  currentCommand = command;
}

let loadedConfig: Record<string, unknown> | undefined;

function configFile(): Record<string, unknown> {
  if (loadedConfig !== undefined) return loadedConfig;
  const explicit = process.env.MESHTV_CONFIG;
  const file = explicit || path.join(process.env.MESHTV_HOME || path.join(os.homedir(), '.meshtv'), 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (explicit && (err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UserError(`config file ${file} (MESHTV_CONFIG) does not exist`);
    loadedConfig = {};
    return loadedConfig;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    loadedConfig = parsed as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`config file ${file} is not a JSON object: ${(err as Error).message}`);
  }
  return loadedConfig;
}

/** A string flag's value (undefined when absent). */
export function str(values: Values, flag: string): string | undefined {
  const v = values[flag];
  return typeof v === 'string' ? v : undefined;
}

/** An upload cap as users write it ("2mbit", "1.5M", "800k"), in bits per second. */
export function parseUploadLimitBps(value: string, flag: string): number {
  try {
    return parseBitrateKbps(value.replace(/bit$/i, ''), flag) * 1000;
  } catch {
    throw new UserError(`${flag} must be a rate from 16k to 100M (800k, 2.5M, 2mbit, 1500kbit) or unlimited, got "${value}"`);
  }
}

/** The HTTP origin's budget: a rate, or "off" for no origin. */
export function parseOriginLimit(value: string, flag: string): number | 'off' {
  if (value === 'off') return value;
  try {
    return parseBitrateKbps(value.replace(/bit$/i, ''), flag) * 1000;
  } catch {
    throw new UserError(`${flag} must be a rate from 16k to 100M (800k, 2.5M, 2mbit, 1500kbit) or off, got "${value}"`);
  }
}

/** A broadcaster's upload cap: a rate, or "unlimited" to answer every viewer that asks. */
export function parseSourceUploadLimit(value: string, flag: string): number | 'unlimited' {
  return value === 'unlimited' ? value : parseUploadLimitBps(value, flag);
}
