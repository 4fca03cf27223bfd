// How many announces per second a tracker sustains with a crowd in one channel, and how long
// they wait. A `meshtv tracker` process with its rate limit off; one signed channel record;
// PEERS viewers announced once (from 256 addresses of 127.0.0.0/8, keep-alive connections),
// then IN_FLIGHT loops re-announce random viewers, each from its own address, for SECONDS.
// Extra arguments go to the tracker (e.g. --private-network). Prints the rate, latencies and the
// tracker's CPU time per announce; asserts nothing.
//   node scripts/build.mjs && node --import tsx bench/tracker-load.ts [PEERS] [SECONDS] [IN_FLIGHT] [-- TRACKER FLAGS]

import fs from 'node:fs';
import http from 'node:http';
import { loadOrCreateKey } from '../src/crypto/keys.js';
import { signChannelRecord } from '../src/protocol/channel-record.js';
import { quantile } from '../src/sim/metrics.js';
import { meshtv, stopAll, tempDir } from '../test/helpers/processes.js';

const split = process.argv.indexOf('--');
const args = split < 0 ? process.argv.slice(2) : process.argv.slice(2, split);
const trackerFlags = split < 0 ? [] : process.argv.slice(split + 1);
const peers = Number(args[0] ?? 50_000);
const seconds = Number(args[1] ?? 10);
const inFlight = Number(args[2] ?? 64);
const ADDRESSES = 256;

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** POSTs, once more when the tracker closed an idle keep-alive connection just as it was reused. */
async function post(base: URL, path: string, body: unknown, localAddress: string): Promise<number> {
  try {
    return await postOnce(base, path, body, localAddress);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
    return postOnce(base, path, body, localAddress);
  }
}

function postOnce(base: URL, path: string, body: unknown, localAddress: string): Promise<number> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path,
        method: 'POST',
        agent,
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const addressOf = (i: number) => `127.1.${(i % ADDRESSES) >> 7}.${((i % ADDRESSES) & 127) + 1}`;
const peerIdOf = (i: number) => i.toString(16).padStart(32, '0');

try {
  const tracker = meshtv(['tracker', '--port', '0', '--rate-limit', '0', ...trackerFlags]);
  const base = new URL((await tracker.waitFor(/tracker listening on (\S+)/))[1] as string);
  const { key } = loadOrCreateKey(`${tempDir('tracker-load')}/k.key`);
  const record = signChannelRecord({ channelId: key.channelId, name: 'load', bitrateBps: 1_000_000, issuedAtMs: Date.now() }, key.sign);
  const stored = await post(base, '/api/channels', record, '127.0.0.1');
  if (stored !== 200) throw new Error(`the record was refused (HTTP ${stored})`);
  const announce = (i: number) =>
    post(
      base,
      '/api/announce',
      { channelId: key.channelId, peerId: peerIdOf(i), port: 40_000 + (i % 20_000), role: 'viewer' },
      addressOf(i),
    );
  // The crowd joins, IN_FLIGHT at a time.
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < peers) await announce(next++);
    }),
  );
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const cpu0 = cpuSeconds(tracker.child.pid as number);
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const status = await announce(Math.floor(Math.random() * peers));
        latencies.push(performance.now() - t0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  console.log(
    JSON.stringify({
      peers,
      inFlight,
      seconds,
      announcesPerS: Math.round(latencies.length / seconds),
      // The tracker's own cost, steadier than the rate when the load generator shares the cores.
      trackerCpuUsPerAnnounce: Math.round(((cpuSeconds(tracker.child.pid as number) - cpu0) * 1e6) / latencies.length),
      p50Ms: +(quantile(latencies, 0.5) ?? 0).toFixed(2),
      p99Ms: +(quantile(latencies, 0.99) ?? 0).toFixed(2),
      statuses: Object.fromEntries(statuses),
    }),
  );
} finally {
  agent.destroy();
  await stopAll();
}
