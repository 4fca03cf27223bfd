// Browser benchmark (issue: S and lag together): a tracker, a broadcaster and four Chromium
// tabs watching over WebRTC for 60 s. Prints the broadcaster's load S over the measured window
// (its P2P bytes and HTTP-origin bytes over the bytes it produced), each tab's lag from capture
// to screen and its stalls. Run: npm run bench:browsers [-- --tabs 4 --duration-s 60]

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { quantile } from '../src/sim/metrics.js';
import { CHROMIUM_ARGS } from '../test/helpers/browser.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const tabs = arg('tabs', 4);
const durationS = arg('duration-s', 60);

function meshtv(args: string[]) {
  const child = spawn(process.execPath, [path.join(root, 'bin/meshtv.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const line = async (re: RegExp) => {
    for (let i = 0; i < 300; i++) {
      const m = out.match(re);
      if (m) return m[1] as string;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no ${re} in: ${out}`);
  };
  return { child, line };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-bench-browsers-'));
const tracker = meshtv(['tracker', '--port', '0']);
let source: ReturnType<typeof meshtv> | undefined;
try {
  const trackerUrl = await tracker.line(/tracker listening on (\S+)/);
  const src = meshtv([
    'broadcast',
    '--tracker',
    trackerUrl,
    '--name',
    'browser bench',
    '--key',
    path.join(dir, 'k.key'),
    '--http-port',
    '0',
  ]);
  source = src;
  const uri = await src.line(/^(meshtv:\/\/\S+)$/m);
  const statsUrl = `${await src.line(/stats: (\S+)\/stats\.json/)}/stats.json`;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];
  const browser = await chromium.launch({
    executablePath: process.env.MESHTV_CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  const pages: Page[] = [];
  for (let i = 0; i < tabs; i++) {
    const page = await browser.newPage();
    await page.goto(`${trackerUrl}/watch/${channelId}`);
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
  const before = (await (await fetch(statsUrl)).json()) as SourceStats;
  const lags: number[][] = pages.map(() => []);
  const t0 = await figures();
  for (let s = 0; s < durationS; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    (await figures()).forEach((f, i) => {
      if (f.player.lagMs !== undefined) lags[i]?.push(f.player.lagMs);
    });
  }
  const t1 = await figures();
  const after = (await (await fetch(statsUrl)).json()) as SourceStats;
  const produced = after.bytesProduced - before.bytesProduced;
  const sent = after.mediaBytesSent - before.mediaBytesSent + ((after.originBytesSent ?? 0) - (before.originBytesSent ?? 0));
  const median = (xs: number[]) => quantile(xs, 0.5) ?? Number.NaN;
  const max = (xs: number[]) => Math.max(...xs);
  process.stdout.write(`tabs ${tabs}, ${durationS} s, r = ${Math.round((produced * 8) / durationS / 1000)} kbit/s\n`);
  t1.forEach((f, i) => {
    const t = t0[i] as Figures;
    process.stdout.write(
      `tab ${i + 1}: played ${(f.player.currentTime - t.player.currentTime).toFixed(1)} s, stalls ${f.player.stalls - t.player.stalls} (longest ${f.player.longestStallMs} ms), ` +
        `lag p50 ${Math.round(median(lags[i] ?? []))} ms max ${Math.round(max(lags[i] ?? []))} ms, from peers ${(f.shareFromPeers * 100).toFixed(0)}%, origin ${f.mediaBytesFromOrigin} B\n`,
    );
  });
  process.stdout.write(
    `S = ${(sent / produced).toFixed(3)} (broadcaster sent ${sent} B, P2P and HTTP origin, for ${produced} B produced)\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ tabs, durationS, S: sent / produced, lagP50Ms: lags.map((l) => Math.round(median(l))), stalls: t1.map((f, i) => f.player.stalls - (t0[i] as Figures).player.stalls) })}\n`,
  );
  await browser.close();
} finally {
  tracker.child.kill();
  source?.child.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
