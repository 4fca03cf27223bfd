// What relaying costs a native viewer in CPU: a broadcaster that takes one neighbour only, a
// relay viewer linked to it, and two viewers that upload nothing, so the relay uploads two
// copies of the stream while it downloads one. The relay's CPU time (user + system, read from
// /proc) over the measured window, as a share of one core, with its media rates from its own
// /stats.json. Real processes on loopback, links encrypted (Noise). Prints figures, asserts
// nothing.
//   node scripts/build.mjs && node --import tsx bench/relay-cpu.ts [SECONDS] [VIDEO_BITRATE]

import fs from 'node:fs';
import path from 'node:path';
import { getJson, meshtv, stopAll, tempDir } from '../test/helpers/processes.js';

const seconds = Number(process.argv[2] ?? 60);
const bitrate = process.argv[3] ?? '3000k';

interface RelayStats {
  mediaBytesIn: number;
  mediaBytesOut: number;
  peers: number;
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based), in clock ticks (100/s here).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

try {
  const dir = tempDir('relay-cpu');
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const common = ['--tracker', trackerUrl, '--no-dht'];
  const source = meshtv([
    'broadcast',
    ...common,
    '--name',
    'relay cpu',
    '--key',
    path.join(dir, 'k.key'),
    '--video-bitrate',
    bitrate,
    '--max-peers',
    '1',
  ]);
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const relay = meshtv(['watch', uri, ...common, '--http-port', '0']);
  const relayUrl = (await relay.waitFor(/^(http:\S+)\/stream\.ts$/m, 'stdout', 30_000))[1] as string;
  await sleep(3000);
  for (let i = 0; i < 2; i++) meshtv(['watch', uri, ...common, '--no-upload', '--http-port', '0']);
  // Let the leaves find the relay and settle.
  await sleep(8000);
  const pid = relay.child.pid as number;
  const s0 = await getJson<RelayStats>(`${relayUrl}/stats.json`);
  const c0 = cpuSeconds(pid);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const s1 = await getJson<RelayStats>(`${relayUrl}/stats.json`);
  const c1 = cpuSeconds(pid);
  const wallS = (Date.now() - t0) / 1000;
  const inBps = ((s1.mediaBytesIn - s0.mediaBytesIn) * 8) / wallS;
  const outBps = ((s1.mediaBytesOut - s0.mediaBytesOut) * 8) / wallS;
  console.log(
    JSON.stringify({
      seconds: Math.round(wallS),
      mediaInMbps: +(inBps / 1e6).toFixed(2),
      mediaOutMbps: +(outBps / 1e6).toFixed(2),
      copiesOut: +(outBps / Math.max(1, inBps)).toFixed(2),
      relayCpuPctOfOneCore: +(((c1 - c0) / wallS) * 100).toFixed(2),
      relayNeighbours: s1.peers,
    }),
  );
} finally {
  await stopAll();
}
