// Browser benchmark (issue: S and lag together): a tracker, a broadcaster and four Chromium
// tabs watching over WebRTC for 60 s. Prints the broadcaster's load S over the measured window
// (its P2P bytes and HTTP-origin bytes over the bytes it produced), each tab's lag from capture
// to screen and its stalls. Run: npm run bench:browsers [-- --tabs 4 --duration-s 60 --netns]
//
// With --netns (root), the broadcaster runs in a network namespace of its own (src/bench/netns.ts)
// and the bytes leaving its interface are counted too: S on the wire, with every header (IP,
// UDP, DTLS, SCTP, ICE, the tracker's signalling), measured by the kernel and not by meshtv.
// The source numbers its frames (frame-clock.ts) and each tab's painted frames are read back,
// for lag and skipped frames seen from outside too.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { type BenchNet, createBenchNet, netnsUnavailable } from '../src/bench/netns.js';
import { quantile } from '../src/sim/metrics.js';
import { CHROMIUM_ARGS } from '../test/helpers/browser.js';
import { meshtv, type Proc } from '../test/helpers/processes.js';
import { frameFigures, readFrames, startFrameSource, watchFrames } from './frame-clock.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const tabs = arg('tabs', 4);
const durationS = arg('duration-s', 60);
const useNetns = process.argv.includes('--netns');
const netnsProblem = useNetns ? netnsUnavailable() : undefined;
if (netnsProblem !== undefined) throw new Error(netnsProblem);
const net: BenchNet | undefined = useNetns ? createBenchNet(['broadcaster']) : undefined;
const place = net?.hosts[0];

/** Runs meshtv (the tests' helper), in namespace `ns` when given, killed with the namespaces. */
function run(args: string[], ns?: string): Proc {
  const proc = meshtv(args, {}, ns === undefined ? undefined : { netns: ns });
  net?.adopt(proc.child.pid);
  return proc;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-bench-browsers-'));
/** The broadcaster's stats.json, which answers its own machine only: with --netns, asked from inside its namespace. */
async function sourceStats<T>(url: string): Promise<T> {
  if (place === undefined) return (await (await fetch(url)).json()) as T;
  const local = new URL(url);
  local.hostname = '127.0.0.1';
  const script = `fetch(${JSON.stringify(local.href)}).then((r) => r.text()).then((t) => process.stdout.write(t))`;
  const r = spawnSync('ip', ['netns', 'exec', place.ns, process.execPath, '-e', script], { encoding: 'utf8' });
  return JSON.parse(r.stdout) as T;
}

/** Bytes sent on the broadcaster's interface so far (its namespace's uplink), by the kernel's count. */
function wireOut(): { bytes: number; packets: number } | undefined {
  if (net === undefined || place === undefined) return undefined;
  const out: unknown = JSON.parse(
    spawnSync('ip', ['-n', place.ns, '-j', '-s', 'link', 'show', 'dev', 'uplink'], { encoding: 'utf8' }).stdout,
  );
  return (out as { stats64: { tx: { bytes: number; packets: number } } }[])[0]?.stats64.tx;
}

// In the root namespace on the address the broadcaster's namespace reaches it by (with --netns).
const tracker = run(['tracker', '--port', '0', ...(net !== undefined ? ['--host', net.rootAddress] : [])]);
let source: Proc | undefined;
const FPS = 25;
// The broadcaster listens for it in its namespace (with --netns) or on loopback.
const sourcePort = 20_000 + (process.pid % 10_000);
const sourceUrl = `udp://${place?.address ?? '127.0.0.1'}:${sourcePort}`;
let frameSource: ReturnType<typeof startFrameSource> | undefined;
try {
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/, 'stdout', 30_000))[1] as string;
  const src = run(
    [
      'broadcast',
      '--tracker',
      trackerUrl,
      '--name',
      'browser bench',
      '--key',
      path.join(dir, 'k.key'),
      '--input',
      sourceUrl,
      '--copy',
      '--http-port',
      '0',
      // All addresses of its namespace: its own for peers and the origin, loopback for stats.json.
      ...(place !== undefined ? ['--host', place.address, '--http-host', '0.0.0.0'] : []),
    ],
    place?.ns,
  );
  frameSource = startFrameSource(FPS, `${sourceUrl}?pkt_size=1316`);
  source = src;
  const uri = (await src.waitFor(/^(meshtv:\/\/\S+)$/m, 'stdout', 30_000))[1] as string;
  const statsUrl = `${(await src.waitFor(/stats: (\S+)\/stats\.json/, 'stderr', 30_000))[1]}/stats.json`;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  const browser = await chromium.launch({
    executablePath: process.env.MESHTV_CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  const pages: Page[] = [];
  for (let i = 0; i < tabs; i++) {
    const page = await browser.newPage();
    await page.goto(`${trackerUrl}/watch/${channelId}`);
    await watchFrames(page);
    pages.push(page);
  }
  type Figures = {
    shareFromPeers: number;
    mediaBytesFromOrigin: number;
    player: { currentTime: number; lagMs?: number; stalls: number; longestStallMs: number };
  };
  const figures = () =>
    Promise.all(pages.map((p) => p.evaluate(() => (window as unknown as { meshtv: { stats(): Figures } }).meshtv.stats())));
  await new Promise((r) => setTimeout(r, 10_000));
  type SourceStats = { bytesProduced: number; mediaBytesSent: number; originBytesSent?: number };
  const before = await sourceStats<SourceStats>(statsUrl);
  const wireBefore = wireOut();
  const windowFrom = Date.now();
  const lags: number[][] = pages.map(() => []);
  const t0 = await figures();
  for (let s = 0; s < durationS; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    (await figures()).forEach((f, i) => {
      if (f.player.lagMs !== undefined) lags[i]?.push(f.player.lagMs);
    });
  }
  const t1 = await figures();
  const after = await sourceStats<SourceStats>(statsUrl);
  const wireAfter = wireOut();
  const windowTo = Date.now();
  const frameT0 = await (frameSource as NonNullable<typeof frameSource>).t0;
  const painted = await Promise.all(pages.map(async (p) => frameFigures(await readFrames(p), frameT0, FPS, windowFrom, windowTo)));
  const wire = wireBefore !== undefined && wireAfter !== undefined ? wireAfter.bytes - wireBefore.bytes : undefined;
  const packets = wireBefore !== undefined && wireAfter !== undefined ? wireAfter.packets - wireBefore.packets : 0;
  const produced = after.bytesProduced - before.bytesProduced;
  const sent = after.mediaBytesSent - before.mediaBytesSent + ((after.originBytesSent ?? 0) - (before.originBytesSent ?? 0));
  const median = (xs: number[]) => quantile(xs, 0.5) ?? Number.NaN;
  const max = (xs: number[]) => Math.max(...xs);
  process.stdout.write(`tabs ${tabs}, ${durationS} s, r = ${Math.round((produced * 8) / durationS / 1000)} kbit/s\n`);
  t1.forEach((f, i) => {
    const t = t0[i] as Figures;
    process.stdout.write(
      `tab ${i + 1}: played ${(f.player.currentTime - t.player.currentTime).toFixed(1)} s, stalls ${f.player.stalls - t.player.stalls} (longest ${f.player.longestStallMs} ms), ` +
        `lag p50 ${Math.round(median(lags[i] ?? []))} ms max ${Math.round(max(lags[i] ?? []))} ms (its own count); ` +
        `painted frames: ${painted[i]?.lags.length}, lag p50 ${Math.round(median(painted[i]?.lags ?? []))} ms p95 ${Math.round(quantile(painted[i]?.lags ?? [], 0.95) ?? Number.NaN)} ms, skipped ${painted[i]?.skipped} (and ${painted[i]?.unread} shown but not read in time); from peers ${(f.shareFromPeers * 100).toFixed(0)}%, origin ${f.mediaBytesFromOrigin} B\n`,
    );
  });
  process.stdout.write(
    `S = ${(sent / produced).toFixed(3)} (broadcaster sent ${sent} B, P2P and HTTP origin, for ${produced} B produced)\n`,
  );
  if (wire !== undefined)
    process.stdout.write(
      `S on the wire = ${(wire / produced).toFixed(3)} (${wire} B in ${packets} packets, ${Math.round(wire / Math.max(1, packets))} B each, left the broadcaster's interface)\n`,
    );
  process.stdout.write(
    `${JSON.stringify({ tabs, durationS, S: sent / produced, ...(wire !== undefined ? { wireS: wire / produced } : {}), lagP50Ms: lags.map((l) => Math.round(median(l))), paintedLagP50Ms: painted.map((f) => Math.round(median(f.lags))), paintedLagP95Ms: painted.map((f) => Math.round(quantile(f.lags, 0.95) ?? Number.NaN)), skippedFrames: painted.map((f) => f.skipped), unreadFrames: painted.map((f) => f.unread), stalls: t1.map((f, i) => f.player.stalls - (t0[i] as Figures).player.stalls) })}\n`,
  );
  await browser.close();
} finally {
  await tracker.stop();
  await source?.stop();
  frameSource?.ffmpeg.kill();
  fs.rmSync(dir, { recursive: true, force: true });
  net?.destroy();
}
