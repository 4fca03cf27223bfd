// Cold start of `meshtv watch` (issue 23): a tracker and one small live channel; each round
// starts a new `meshtv watch` and times its process start to the first video frame ffmpeg
// decodes from the /stream.ts it prints (ffmpeg started as soon as the URL is printed), with
// ffmpeg's default probing, with -analyzeduration 1000000, and with -scan_all_pmts 0. It also reads the viewer's own
// startup and its lag behind the broadcaster's live edge just after that frame.
// Prints p50 and the range of each.
// Run: npx tsx bench/watch-start.ts [--rounds 5]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ffmpegFirstFrameMs, liveChannels, meshtv, p50range, stopAll } from './zap-clients.js';

const i = process.argv.indexOf('--rounds');
const rounds = i > 0 ? Number(process.argv[i + 1]) : 5;

const PROBES = [
  { what: 'ffmpeg defaults', inputOptions: [] },
  { what: 'ffmpeg -analyzeduration 1000000', inputOptions: ['-analyzeduration', '1000000'] },
  // The ffmpeg and ffplay programs set scan_all_pmts=1, which keeps their MPEG-TS probe from
  // ending when all streams are known ("All info found"): it reads 5 s of stream instead.
  { what: 'ffmpeg -scan_all_pmts 0 (default probing otherwise)', inputOptions: ['-scan_all_pmts', '0'] },
];

interface Round {
  firstFrameMs: number;
  urlMs: number;
  startupMs: number;
  lagMs: number;
}

async function round(trackerUrl: string, home: string, inputOptions: string[]): Promise<Round> {
  const startedAt = performance.now();
  const watch = meshtv(['watch', 'Zap 1', '--tracker', trackerUrl, '--http-port', '0', '--no-dht'], { MESHTV_HOME: home });
  try {
    const url = await watch.line(/^(http:\S+\/stream\.ts)$/m);
    const urlMs = performance.now() - startedAt;
    await ffmpegFirstFrameMs(url, inputOptions);
    const firstFrameMs = performance.now() - startedAt;
    const stats = (await (await fetch(url.replace('stream.ts', 'stats.json'))).json()) as {
      startupMs: number | null;
      lagMs: number | null;
    };
    return { firstFrameMs, urlMs, startupMs: stats.startupMs ?? Number.NaN, lagMs: stats.lagMs ?? Number.NaN };
  } finally {
    await watch.stop();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-watch-start-'));
  try {
    const trackerUrl = await liveChannels(dir, 1);
    for (const [p, { what, inputOptions }] of PROBES.entries()) {
      const results: Round[] = [];
      for (let r = 0; r < rounds; r++) {
        const res = await round(trackerUrl, path.join(dir, `home-${p}-${r}`), inputOptions);
        results.push(res);
        process.stdout.write(
          `  ${what}, round ${r + 1}: first frame ${res.firstFrameMs.toFixed(0)} ms after the process start ` +
            `(URL printed at ${res.urlMs.toFixed(0)} ms; viewer startup ${res.startupMs} ms, lag ${res.lagMs} ms)\n`,
        );
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      process.stdout.write(`watch cold start to the first frame, ${what}: ${p50range(results.map((x) => x.firstFrameMs))}\n`);
      process.stdout.write(
        `  URL printed: ${p50range(results.map((x) => x.urlMs))}; viewer startup: ${p50range(results.map((x) => x.startupMs))}\n`,
      );
      process.stdout.write(`  viewer lag behind live just after: ${p50range(results.map((x) => x.lagMs))}\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main()
  .catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  })
  .finally(stopAll);
