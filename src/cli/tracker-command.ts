// `meshtv tracker`: the tracker's flags, checked, and the tracker run until a signal.

import { tellBench } from '../bench/messages.js';
import { UserError } from '../common/errors.js';
import { trustedProxies } from '../tracker/addresses.js';
import { startTracker } from '../tracker/server.js';
import { isSignalingUrl, isTurnServer } from '../transport/ice.js';
import { commandHelp, parse, str } from './args.js';
import { iceServers, logger, port } from './peer-flags.js';
import { Shutdown } from './shutdown.js';

export async function runTracker(args: string[]): Promise<number> {
  const { values } = parse(args, {
    host: { type: 'string' },
    port: { type: 'string' },
    stun: { type: 'string', multiple: true },
    turn: { type: 'string', multiple: true },
    'turn-secret': { type: 'string' },
    signaling: { type: 'string', multiple: true },
    'rate-limit': { type: 'string' },
    'trust-proxy': { type: 'string', multiple: true },
    'private-network': { type: 'boolean' },
  });
  if (values.help) return commandHelp();
  const trustProxy = (values['trust-proxy'] as string[] | undefined) ?? [];
  try {
    trustedProxies(trustProxy);
  } catch (err) {
    throw new UserError(`--trust-proxy: ${(err as Error).message}`);
  }
  const rate = str(values, 'rate-limit');
  const ratePerS = rate === undefined ? undefined : Number(rate);
  if (ratePerS !== undefined && !(Number.isFinite(ratePerS) && ratePerS >= 0 && ratePerS <= 1e6))
    throw new UserError(`--rate-limit must be requests per second per address, 0-1000000 (0: no limit), got "${rate}"`);
  const log = logger(values);
  const host = str(values, 'host') ?? '127.0.0.1';
  const p = port(str(values, 'port'), '--port', 8000);
  const servers = iceServers(values) ?? [];
  const turnSecret = str(values, 'turn-secret');
  if (turnSecret !== undefined && !servers.some(isTurnServer))
    throw new UserError('--turn-secret needs a --turn server to hand credentials out for');
  const signalingUrls = ((values.signaling as string[] | undefined) ?? []).map((u) => {
    if (!isSignalingUrl(u)) throw new UserError(`--signaling ${JSON.stringify(u)} must be a ws:// or wss:// URL of a WebTorrent tracker`);
    return u;
  });
  const shutdown = new Shutdown();
  const tracker = await startTracker({
    host,
    port: p,
    ice: { servers, ...(turnSecret !== undefined ? { turnSecret } : {}) },
    signalingUrls,
    trustProxy,
    privateNetwork: values['private-network'] === true,
    log,
    // The bench runs every client on 127.0.0.1.
    ...(ratePerS === undefined
      ? {}
      : {
          rateLimit:
            ratePerS === 0 ? { ratePerS: Number.POSITIVE_INFINITY, burst: Number.POSITIVE_INFINITY } : { ratePerS, burst: 3 * ratePerS },
        }),
  }).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(
      err.code === 'EADDRINUSE'
        ? `port ${p} on ${host} is in use; choose another with --port`
        : `cannot listen on ${host}:${p}: ${err.message}`,
    );
  });
  process.stdout.write(`tracker listening on ${tracker.url}\n`);
  await tellBench({ type: 'tracker-listening', url: tracker.url });
  log.info(`channel directory: ${tracker.url}/api/channels`);
  return shutdown.until([tracker]);
}
