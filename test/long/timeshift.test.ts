// Timeshift over minutes (npm run test:long): an HLS client that pauses 30 s and resumes plays
// on with every frame in place, 30 s further behind live; a client seeking 90 s back decodes
// from there; and over the run (MESHTV_LONG_TIMESHIFT_MIN minutes, default 30) the bytes on disk
// never pass the bound, for a 30-minute window at the default bound and for a bound far below
// what the stream needs. Figures go to the test's diagnostics.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { ffmpegPath } from '../../src/media/ffmpeg.js';
import type { ViewerStats } from '../../src/native/viewer-report.js';
import { getJson, meshtv, type Proc, startChannel, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

const RUN_MIN = Number(process.env.MESHTV_LONG_TIMESHIFT_MIN ?? 30);
const FPS = 25;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Entry {
  sequence: number;
  durationS: number;
  programDateTimeMs: number;
  uri: string;
}

async function listed(base: string): Promise<Entry[]> {
  const lines = (await (await fetch(`${base}/timeshift.m3u8`)).text()).trim().split('\n');
  const first = Number(lines.find((l) => l.startsWith('#EXT-X-MEDIA-SEQUENCE:'))?.split(':')[1]);
  const out: Entry[] = [];
  lines.forEach((l, i) => {
    if (!l.startsWith('#EXTINF:')) return;
    out.push({
      sequence: first + out.length,
      durationS: Number(l.slice(8).split(',')[0]),
      programDateTimeMs: Date.parse((lines[i - 1] as string).slice(25)),
      uri: lines[i + 1] as string,
    });
  });
  return out;
}

/** What a player does: segments in order at 1x, starting three from the live end, pausable. */
class PacedClient {
  next = -1;
  readonly data: Uint8Array[] = [];
  /** How far behind the capture time each segment was when it was fetched to play. */
  readonly lagsMs: number[] = [];

  constructor(private readonly base: string) {}

  async play(seconds: number): Promise<void> {
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      const list = await listed(this.base);
      if (this.next < 0) this.next = (list.at(-3) as Entry).sequence;
      const e = list.find((x) => x.sequence === this.next);
      assert.ok(e !== undefined || this.next > (list.at(-1) as Entry).sequence, `segment ${this.next} left the window`);
      if (e === undefined) {
        await sleep(300);
        continue;
      }
      const res = await fetch(`${this.base}/${e.uri}`);
      assert.equal(res.status, 200);
      this.data.push(new Uint8Array(await res.arrayBuffer()));
      this.lagsMs.push(Date.now() - e.programDateTimeMs);
      this.next++;
      await sleep(e.durationS * 1000);
    }
  }
}

async function timeshiftStats(base: string): Promise<NonNullable<ViewerStats['timeshift']>> {
  const s = (await getJson<ViewerStats>(`${base}/stats.json`)).timeshift;
  assert.ok(s !== undefined, 'timeshift is on');
  return s;
}

/** Video frame timestamps ffmpeg decodes (in frames), from a file or an HLS URL with input options. */
function frames(input: string, extra: string[] = [], seconds?: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const args = [
      '-hide_banner',
      '-v',
      'error',
      ...extra,
      '-i',
      input,
      ...(seconds ? ['-t', String(seconds)] : []),
      '-an',
      '-f',
      'framecrc',
      '-',
    ];
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) =>
      code === 0 && err.trim() === ''
        ? resolve(
            out
              .split('\n')
              .filter((l) => /^0,/.test(l))
              .map((l) => Number(l.split(',')[2])),
          )
        : reject(new Error(`ffmpeg exited ${code}: ${err}`)),
    );
  });
}

function assertContinuous(f: number[], what: string): void {
  const steps = new Set(f.slice(1).map((x, i) => x - (f[i] as number)));
  assert.deepEqual([...steps], [1], `${what}: frames skipped or repeated`);
}

async function startViewer(uri: string, home: string, flags: string[]): Promise<{ proc: Proc; base: string; dir: string }> {
  const proc = meshtv(['watch', uri, '--no-dht', '--http-port', '0', ...flags], { MESHTV_HOME: home });
  const base = (await proc.waitFor(/^(http:\S+)\/stream\.ts$/m, 'stdout', 60_000))[1] as string;
  const dir = (await proc.waitFor(/timeshift: keeping .* in (\S+)/, 'stderr'))[1] as string;
  return { proc, base, dir };
}

function bytesIn(dir: string): number {
  let sum = 0;
  for (const f of fs.readdirSync(dir)) {
    try {
      sum += fs.statSync(path.join(dir, f)).size;
    } catch {
      // Deleted between the listing and the stat.
    }
  }
  return sum;
}

test(`timeshift over ${RUN_MIN} min: pause and resume, seek back 90 s, the disk bound`, {
  timeout: RUN_MIN * 60_000 + 600_000,
}, async (t) => {
  const home = tempDir('timeshift-long');
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  const { uri } = await startChannel('timeshift long');
  const startedAt = Date.now();
  const viewers = {
    '2m window': await startViewer(uri, home, ['--timeshift', '2m']),
    '30m window': await startViewer(uri, home, ['--timeshift', '30m']),
    '10m window, 2M bound': await startViewer(uri, home, ['--timeshift', '10m', '--timeshift-max-size', '2M']),
  };
  const peak = new Map<string, number>();
  const sampler = setInterval(() => {
    for (const [name, v] of Object.entries(viewers)) peak.set(name, Math.max(peak.get(name) ?? 0, bytesIn(v.dir)));
  }, 1000);
  try {
    const a = viewers['2m window'];
    await waitUntil('segments are listed', async () => (await listed(a.base)).length >= 4, 30_000);

    // Pause 30 s and resume: what plays is continuous and 30 s further behind live.
    const client = new PacedClient(a.base);
    await client.play(12);
    const lagBeforeMs = client.lagsMs.at(-1) as number;
    await sleep(30_000);
    const pausedAt = client.lagsMs.length;
    await client.play(12);
    const lagAfterMs = client.lagsMs[pausedAt] as number;
    const file = path.join(home, 'paused.ts');
    fs.writeFileSync(file, Buffer.concat(client.data));
    const played = await frames(file);
    assertContinuous(played, 'pause and resume');
    assert.equal(played.length, client.data.length * 2 * FPS, 'every segment decoded whole');
    assert.ok(Math.abs(lagAfterMs - lagBeforeMs - 30_000) < 3000, `behind live: ${lagBeforeMs} ms before, ${lagAfterMs} ms after`);
    t.diagnostic(
      `pause 30 s: ${client.data.length} segments, ${played.length} frames continuous; behind live ${(lagBeforeMs / 1000).toFixed(1)} s before, ${(lagAfterMs / 1000).toFixed(1)} s after`,
    );

    // Seek 90 s back, as a player does by program-date-time, and decode from there.
    await waitUntil(
      'the 2 min window holds 95 s',
      async () => ((await getJson<ViewerStats>(`${a.base}/stats.json`)).timeshift?.heldMs ?? 0) >= 95_000,
      120_000,
    );
    const list = await listed(a.base);
    const target = Date.now() - 90_000;
    const index = list.findIndex((e) => e.programDateTimeMs + e.durationS * 1000 > target);
    const seekLagMs = Date.now() - (list[index] as Entry).programDateTimeMs;
    const sought = await frames(`${a.base}/timeshift.m3u8`, ['-live_start_index', String(index)], 10);
    assertContinuous(sought, 'seek back 90 s');
    assert.ok(sought.length >= 10 * FPS - 2, `${sought.length} frames`);
    assert.ok(Math.abs(seekLagMs - 90_000) < 3000, `sought ${seekLagMs} ms back`);
    t.diagnostic(
      `seek back: segment ${index} of ${list.length}, ${(seekLagMs / 1000).toFixed(1)} s behind live, ${sought.length} frames continuous`,
    );

    // The rest of the run: the bound holds at every sample.
    const endAt = startedAt + RUN_MIN * 60_000;
    while (Date.now() < endAt) {
      await sleep(Math.min(30_000, Math.max(0, endAt - Date.now())));
      for (const v of Object.values(viewers)) assert.equal(v.proc.child.exitCode, null, v.proc.stderr);
    }
    for (const [name, v] of Object.entries(viewers)) {
      const s = await timeshiftStats(v.base);
      const top = peak.get(name) ?? 0;
      t.diagnostic(
        `${name}: held ${(s.heldMs / 1000).toFixed(0)} s in ${(s.heldBytes / 1e6).toFixed(1)} MB; bound ${(s.maxBytes / 1e6).toFixed(1)} MB; most on disk ${(top / 1e6).toFixed(2)} MB`,
      );
      assert.ok(top <= s.maxBytes, `${name}: ${top} bytes on disk, bound ${s.maxBytes}`);
    }
    const long = await timeshiftStats(viewers['30m window'].base);
    assert.ok(long.heldMs >= Math.min(30 * 60_000, Date.now() - startedAt - 60_000), `the 30 min window holds ${long.heldMs} ms`);
    assert.match(viewers['10m window, 2M bound'].proc.stderr, /above the rate its bound allows/);
  } finally {
    clearInterval(sampler);
  }
  for (const v of Object.values(viewers)) {
    assert.equal(await v.proc.stop(), 0);
    assert.equal(fs.existsSync(v.dir), false);
  }
});
