// `meshtv watch --timeshift` with real processes: /timeshift.m3u8 spans the window with a
// program-date-time on each segment, ffmpeg decodes from its oldest segment on across to the
// live edge with every frame in place, and the directory goes when the viewer stops, or, after
// a crash, when the next viewer starts.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { ffmpegPath } from '../../src/media/ffmpeg.js';
import type { ViewerStats } from '../../src/native/viewer-report.js';
import { getJson, meshtv, startChannel, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

after(stopAll);

const WINDOW_S = 20;
/** The test pattern's frame rate. */
const FPS = 25;

interface Listed {
  mediaSequence: number;
  segments: { durationS: number; programDateTimeMs: number; uri: string }[];
  text: string;
}

async function timeshiftPlaylist(base: string): Promise<Listed> {
  const res = await fetch(`${base}/timeshift.m3u8`);
  assert.equal(res.status, 200);
  const text = await res.text();
  const lines = text.trim().split('\n');
  const segments: Listed['segments'] = [];
  lines.forEach((l, i) => {
    if (!l.startsWith('#EXTINF:')) return;
    const pdt = lines[i - 1] as string;
    assert.match(pdt, /^#EXT-X-PROGRAM-DATE-TIME:/, 'every segment has its program-date-time');
    segments.push({
      durationS: Number(l.slice(8).split(',')[0]),
      programDateTimeMs: Date.parse(pdt.slice(25)),
      uri: lines[i + 1] as string,
    });
  });
  const mediaSequence = Number(lines.find((l) => l.startsWith('#EXT-X-MEDIA-SEQUENCE:'))?.split(':')[1]);
  return { mediaSequence, segments, text };
}

/** Video frame timestamps (in frames) ffmpeg decodes from the playlist's first segment on. */
function decodeFromOldest(url: string, seconds: number): Promise<{ code: number | null; errors: string; frames: number[] }> {
  return new Promise((resolve) => {
    const args = ['-hide_banner', '-v', 'error', '-live_start_index', '0', '-i', url, '-t', String(seconds), '-an', '-f', 'framecrc', '-'];
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let errors = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      errors += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const frames = out
        .split('\n')
        .filter((l) => /^0,/.test(l))
        .map((l) => Number(l.split(',')[2]));
      resolve({ code, errors: errors.trim(), frames });
    });
  });
}

test('timeshift: the window with program-date-times, decoded from its oldest segment to the live edge; its directory removed', {
  timeout: 90_000,
}, async (t) => {
  const home = tempDir('timeshift-home');
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  const runs = path.join(home, 'timeshift');
  const { uri } = await startChannel('timeshift');
  const viewer = meshtv(['watch', uri, '--no-dht', '--http-port', '0', '--timeshift', `${WINDOW_S}s`], { MESHTV_HOME: home });
  const base = (await viewer.waitFor(/^(http:\S+)\/stream\.ts$/m, 'stdout', 30_000))[1] as string;
  const dir = (await viewer.waitFor(/timeshift: keeping the last 20 s, at most \S+ MB, in (\S+)/, 'stderr'))[1] as string;
  assert.equal(path.dirname(dir), runs);
  await viewer.waitFor(/pause and rewind: http:\S+\/timeshift\.m3u8/, 'stderr');
  await waitUntil(
    'the window is full and sliding',
    async () => {
      const p = await timeshiftPlaylist(base);
      return p.mediaSequence > 0;
    },
    45_000,
  );

  const p = await timeshiftPlaylist(base);
  const spanS = p.segments.reduce((sum, s) => sum + s.durationS, 0);
  assert.ok(spanS >= WINDOW_S && spanS < WINDOW_S + 2.5, `the playlist spans ${spanS} s`);
  assert.doesNotMatch(p.text, /EXT-X-ENDLIST/);
  assert.match(p.text, /#EXT-X-START:TIME-OFFSET=-6\n/);
  p.segments.forEach((s, i) => {
    assert.equal(s.uri, `timeshift/${p.mediaSequence + i}.ts`);
    const next = p.segments[i + 1];
    // Capture times follow the media: each segment starts when the one before ends.
    if (next !== undefined)
      assert.ok(Math.abs(next.programDateTimeMs - s.programDateTimeMs - s.durationS * 1000) < 150, `a gap after ${s.uri}`);
  });
  const newestEndMs = (p.segments.at(-1)?.programDateTimeMs as number) + (p.segments.at(-1)?.durationS as number) * 1000;
  assert.ok(Math.abs(Date.now() - newestEndMs) < 6000, 'the program-date-times are wall-clock capture times');
  const stats = await getJson<ViewerStats>(`${base}/stats.json`);
  assert.ok(stats.timeshift !== undefined && stats.timeshift.windowMs === WINDOW_S * 1000);
  assert.ok(stats.timeshift.heldMs >= WINDOW_S * 1000 && stats.timeshift.heldBytes <= stats.timeshift.maxBytes);
  const onDisk = fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
  assert.ok(onDisk <= stats.timeshift.maxBytes, `${onDisk} bytes on disk, bound ${stats.timeshift.maxBytes}`);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  for (const name of ['window_seconds', 'held_seconds', 'held_bytes', 'max_bytes'])
    assert.match(metrics, new RegExp(`^meshtv_viewer_timeshift_${name} \\d`, 'm'));

  // From the oldest segment, past what was recorded when it started: it must wait for the live edge.
  const seconds = spanS + 3;
  const d = await decodeFromOldest(`${base}/timeshift.m3u8`, seconds);
  assert.equal(d.code, 0, d.errors);
  assert.equal(d.errors, '');
  assert.ok(d.frames.length >= (seconds - 0.1) * FPS, `${d.frames.length} frames of ${seconds} s`);
  const steps = d.frames.slice(1).map((f, i) => f - (d.frames[i] as number));
  assert.deepEqual([...new Set(steps)], [1], 'every frame in place, none skipped or repeated');

  // A crash leaves the directory; the next viewer to start removes it. A clean stop removes its own.
  await viewer.stop('SIGKILL');
  assert.ok(fs.existsSync(dir));
  const next = meshtv(['watch', uri, '--no-dht', '--http-port', '0', '--timeshift', '10s'], { MESHTV_HOME: home });
  const nextDir = (await next.waitFor(/timeshift: keeping the last 10 s, at most \S+ MB, in (\S+)/, 'stderr', 30_000))[1] as string;
  assert.match(next.stderr, /timeshift: removed 1 directory\(ies\) left by runs that are gone/);
  assert.equal(fs.existsSync(dir), false);
  assert.ok(fs.existsSync(nextDir));
  assert.equal(await next.stop(), 0);
  assert.deepEqual(fs.readdirSync(runs), []);
});
