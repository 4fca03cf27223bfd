// Zapping benchmark for `meshtv tv` (issue 23): a tracker, three small live channels and a cold
// gateway; ten switches among the three (the first visit of each joins its swarm, the later
// ones come back within the linger time). Each switch times the request of the channel URL to
// the first video frame ffmpeg decodes with -analyzeduration 1000000, and reads how far behind
// the gateway's live edge that start began. Prints p50/p95 for cold joins and for returns.
// Run: npx tsx bench/tv-zap.ts [--switches 10]

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantile } from '../src/sim/metrics.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--switches');
const switches = i > 0 ? Number(process.argv[i + 1]) : 10;
const children: ChildProcess[] = [];

function meshtv(args: string[], env: Record<string, string> = {}): { child: ChildProcess; line: (re: RegExp) => Promise<string> } {
  const child = spawn(process.execPath, [path.join(root, 'bin/meshtv.js'), ...args], { env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  const waiters: (() => void)[] = [];
  const feed = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  const line = (re: RegExp) =>
    new Promise<string>((resolve) => {
      const check = () => {
        const m = re.exec(out);
        if (m) resolve(m[1] as string);
      };
      waiters.push(check);
      check();
    });
  return { child, line };
}

/** Request to the first decoded video frame (framecrc prints a line per frame), in ms. */
function firstFrameMs(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const ff = spawn('ffmpeg', [
      '-hide_banner',
      '-v',
      'error',
      '-analyzeduration',
      '1000000',
      '-i',
      url,
      '-map',
      '0:v',
      '-frames:v',
      '1',
      '-f',
      'framecrc',
      '-',
    ]);
    let out = '';
    ff.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').some((l) => /^0,/.test(l))) {
        resolve(performance.now() - startedAt);
        ff.kill('SIGKILL');
      }
    });
    ff.on('exit', () => reject(new Error(`ffmpeg decoded no frame from ${url}`)));
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-zap-'));
  const tracker = meshtv(['tracker', '--port', '0']);
  const trackerUrl = await tracker.line(/tracker listening on (\S+)/);
  for (const n of [1, 2, 3])
    meshtv([
      'broadcast',
      '--tracker',
      trackerUrl,
      '--name',
      `Zap ${n}`,
      '--key',
      path.join(dir, `${n}.key`),
      '--no-dht',
      '--resolution',
      '320x180',
      '--video-bitrate',
      '300k',
    ]);
  await new Promise((r) => setTimeout(r, 6000));
  const gateway = meshtv(['tv', '--tracker', trackerUrl, '--http-port', '0', '--no-dht', '--linger', '60s'], { MESHTV_HOME: dir });
  const playlist = await gateway.line(/^(http:\S+\/playlist\.m3u)$/m);
  const urls = (await (await fetch(playlist)).text()).split('\n').filter((l) => l.startsWith('http'));
  if (urls.length !== 3) throw new Error(`the playlist lists ${urls.length} channels, not 3`);
  const cold: number[] = [];
  const back: number[] = [];
  const behind: number[] = [];
  for (let s = 0; s < switches; s++) {
    const url = urls[s % 3] as string;
    const ms = await firstFrameMs(url);
    (s < 3 ? cold : back).push(ms);
    const stats = (await (await fetch(playlist.replace('playlist.m3u', 'stats.json'))).json()) as {
      channels: { id: string; startBehindMs: number }[];
    };
    const id = /channel\/([0-9a-f]{64})/.exec(url)?.[1];
    behind.push(stats.channels.find((c) => c.id === id)?.startBehindMs ?? Number.NaN);
    process.stdout.write(`switch ${s + 1}: ${s < 3 ? 'cold join' : 'back within linger'} ${ms.toFixed(0)} ms to the first frame\n`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const f = (xs: number[]) =>
    `p50 ${(quantile(xs, 0.5) ?? Number.NaN).toFixed(0)} ms, p95 ${(quantile(xs, 0.95) ?? Number.NaN).toFixed(0)} ms (n=${xs.length})`;
  process.stdout.write(`cold join (request to first frame): ${f(cold)}\n`);
  process.stdout.write(`back within the linger time: ${f(back)}\n`);
  process.stdout.write(`all switches: ${f([...cold, ...back])}\n`);
  process.stdout.write(`start behind the gateway's live edge: ${f(behind)}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main()
  .catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill('SIGTERM');
  });
