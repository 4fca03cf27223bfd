// `meshtv tv`: the local TV gateway for IPTV apps (VLC, Kodi, TiviMate), until a signal.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../common/errors.js';
import { startTvGateway } from '../native/tv-gateway.js';
import { commandHelp, parse, str } from './args.js';
import { logger, networkOptions, PEER, port, positiveInt, trackers, uploadPolicy } from './peer-flags.js';
import { Shutdown } from './shutdown.js';
import { StatusLine } from './status-line.js';
import { TIMESHIFT_FLAGS, timeshiftOption } from './timeshift-flags.js';

/** watch uses 8902; the gateway's URLs go into TV apps, so it keeps one port of its own. */
export const TV_HTTP_PORT = 8903;

/** --linger: seconds (30, 30s) or minutes (2m) a channel stays joined after its last player left. */
export function lingerMs(value: string | undefined): number {
  if (value === undefined) return 30_000;
  const m = /^(\d{1,4})(s|m)?$/.exec(value.trim());
  const ms = m === null ? Number.NaN : Number(m[1]) * (m[2] === 'm' ? 60_000 : 1000);
  if (!(ms <= 3_600_000)) throw new UserError(`--linger must be a time such as 30s or 2m (at most 60m), got "${value}"`);
  return ms;
}

export async function runTv(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...PEER,
    'http-host': { type: 'string' },
    lan: { type: 'boolean' },
    'max-channels': { type: 'string' },
    linger: { type: 'string' },
    'upload-limit': { type: 'string' },
    'no-upload': { type: 'boolean' },
    ...TIMESHIFT_FLAGS,
  });
  if (values.help) return commandHelp();
  // TV apps pause and rewind live TV: on by default here, unlike `watch`.
  const timeshift = timeshiftOption(values, '30m');
  if (values.lan === true && str(values, 'http-host') !== undefined) throw new UserError('--lan and --http-host exclude each other');
  const homeDir = process.env.MESHTV_HOME || path.join(os.homedir(), '.meshtv');
  try {
    fs.mkdirSync(homeDir, { recursive: true });
  } catch (err) {
    throw new UserError(`cannot make ${homeDir} for the channel numbers: ${(err as Error).message}; set MESHTV_HOME`);
  }
  const status = new StatusLine(process.stderr);
  const log = logger(values, status);
  const gateway = await startTvGateway({
    trackers: trackers(values),
    homeDir,
    host: str(values, 'host') ?? '0.0.0.0',
    port: port(str(values, 'peer-port'), '--peer-port', 0),
    ...(str(values, 'announce-address') ? { announceAddress: str(values, 'announce-address') } : {}),
    httpHost: values.lan === true ? '0.0.0.0' : (str(values, 'http-host') ?? '127.0.0.1'),
    httpPort: port(str(values, 'http-port'), '--http-port', TV_HTTP_PORT),
    maxChannels: positiveInt(str(values, 'max-channels'), '--max-channels') ?? 4,
    lingerMs: lingerMs(str(values, 'linger')),
    ...(str(values, 'max-peers') !== undefined ? { maxPeers: positiveInt(str(values, 'max-peers'), '--max-peers') as number } : {}),
    ...(timeshift !== undefined ? { timeshift } : {}),
    core: uploadPolicy(values),
    network: networkOptions(values),
    log,
  });
  process.stdout.write(`${gateway.baseUrl}/playlist.m3u\n`);
  log.info(
    `add ${gateway.baseUrl}/playlist.m3u to your TV app (guide: ${gateway.baseUrl}/epg.xml)` +
      (values.lan === true ? `; from other devices use this machine's address instead of ${new URL(gateway.baseUrl).hostname}` : ''),
  );
  status.start(() => gateway.statusLine());
  return new Shutdown().until([gateway], undefined, () => status.stop());
}
