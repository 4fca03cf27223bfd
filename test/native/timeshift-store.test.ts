// The timeshift store on a real disk: a private directory per run, files within the bound even
// when the stream runs above the rate the bound was made for, everything deleted on stop,
// directories of dead runs removed at the next start; and its routes serve byte ranges.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Logger } from '../../src/common/log.js';
import type { HlsSegment } from '../../src/media/hls-segmenter.js';
import { startHttpOutput } from '../../src/native/http-output.js';
import { byteRange, timeshiftRoutes } from '../../src/native/timeshift-routes.js';
import {
  defaultTimeshiftBytes,
  removeStaleDirs,
  TIMESHIFT_DEFAULT_MAX_BYTES,
  TimeshiftStore,
  timeshiftBaseDir,
} from '../../src/native/timeshift-store.js';

const CHANNEL = 'ab'.repeat(32);
/** Above any pid_max (at most 2^22 on Linux): no process has it. */
const DEAD_PID = 9_999_999;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempBase(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'meshtv-timeshift-test-'));
  dirs.push(d);
  return path.join(d, 'timeshift');
}

function testLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {}, child: () => log, warnings };
  return log;
}

let sequence = 0;
function segment(bytes: number, discontinuity = false): HlsSegment {
  const n = sequence++;
  return {
    sequence: n,
    discontinuity,
    discontinuitySequence: 0,
    durationMs: 2000,
    programDateTimeMs: 1_700_000_000_000 + n * 2000,
    data: new Uint8Array(bytes).fill(n % 256),
  };
}

/** Records a segment and waits until it is on disk and listed. */
async function recorded(store: TimeshiftStore, s: HlsSegment): Promise<void> {
  const listed = new Promise<void>((resolve) => {
    const off = store.onChange(() => {
      off();
      resolve();
    });
  });
  store.record(s);
  await listed;
}

function bytesOnDisk(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

test('a private directory per run, one file per segment, all deleted on stop', async () => {
  const baseDir = tempBase();
  const store = TimeshiftStore.open({ channelId: CHANNEL, windowMs: 20_000, maxBytes: 1e8, baseDir, log: testLog() });
  assert.equal(path.dirname(store.dir), baseDir);
  assert.match(path.basename(store.dir), new RegExp(`^abababababababab-${process.pid}-`));
  assert.equal(fs.statSync(baseDir).mode & 0o777, 0o700);
  assert.equal(fs.statSync(store.dir).mode & 0o777, 0o700);
  for (let i = 0; i < 3; i++) await recorded(store, segment(1000 + i));
  assert.deepEqual(fs.readdirSync(store.dir).sort(), ['0.ts', '1.ts', '2.ts']);
  assert.deepEqual(store.file(1), { path: path.join(store.dir, '1.ts'), bytes: 1001 });
  assert.equal(fs.statSync(path.join(store.dir, '1.ts')).mode & 0o777, 0o600);
  assert.deepEqual(store.stats(), { windowMs: 20_000, heldMs: 6000, heldBytes: 3003, maxBytes: 1e8, segments: 3 });
  assert.match(store.playlist() as string, /#EXT-X-MEDIA-SEQUENCE:0\n/);
  await store.close();
  assert.equal(fs.existsSync(store.dir), false);
  assert.equal(fs.existsSync(baseDir), true, 'the base directory stays for other runs');
});

test('the bound holds on disk at every segment when the stream runs at three times the announced rate', async () => {
  const log = testLog();
  // 20 s announced at 1 Mbit/s: 3.75 MB; the stream sends 3 Mbit/s (750 KB a segment).
  const maxBytes = defaultTimeshiftBytes(20_000, 1_000_000);
  assert.equal(maxBytes, 3_750_000);
  const store = TimeshiftStore.open({ channelId: CHANNEL, windowMs: 20_000, maxBytes, baseDir: tempBase(), log });
  try {
    for (let i = 0; i < 20; i++) {
      await recorded(store, segment(750_000));
      assert.ok(bytesOnDisk(store.dir) <= maxBytes, `${bytesOnDisk(store.dir)} bytes on disk`);
    }
    assert.equal(bytesOnDisk(store.dir), 3_750_000);
    assert.equal(store.stats().heldMs, 10_000, 'the window shrinks to what the bound holds');
    assert.equal(log.warnings.length, 1);
    assert.match(
      log.warnings[0] as string,
      /above the rate its bound allows; .* hold less than the 20 s asked \(raise --timeshift-max-size\)/,
    );
  } finally {
    await store.close();
  }
});

test('a channel without an announced rate gets a bound for 8 Mbit/s; no announced rate gets more than 2 GiB', () => {
  assert.equal(defaultTimeshiftBytes(60_000, 0), 90_000_000);
  // The rate is the broadcaster's word: a hostile record announcing 1 Tbit/s asks for no more disk.
  assert.equal(defaultTimeshiftBytes(30 * 60_000, 1e12), TIMESHIFT_DEFAULT_MAX_BYTES);
  assert.equal(TIMESHIFT_DEFAULT_MAX_BYTES, 2 * 1024 ** 3);
});

test('directories of runs that are gone are removed at the next start; live runs and other files stay', () => {
  const baseDir = tempBase();
  fs.mkdirSync(baseDir, { recursive: true });
  const dead = path.join(baseDir, `abababababababab-${DEAD_PID}-Xy12Zq`);
  const live = path.join(baseDir, `cdcdcdcdcdcdcdcd-${process.ppid}-Ab34Cd`);
  const other = path.join(baseDir, 'notes');
  for (const d of [dead, live, other]) fs.mkdirSync(d);
  fs.writeFileSync(path.join(dead, '7.ts'), 'x');
  const store = TimeshiftStore.open({ channelId: CHANNEL, windowMs: 20_000, maxBytes: 1e8, baseDir, log: testLog() });
  assert.equal(fs.existsSync(dead), false);
  assert.equal(fs.existsSync(live), true);
  assert.equal(fs.existsSync(other), true);
  assert.equal(fs.existsSync(store.dir), true);
  // The same with the liveness check given: only names of the run pattern whose process is gone.
  assert.deepEqual(
    removeStaleDirs(baseDir, () => false).filter((n) => n !== path.basename(store.dir)),
    [path.basename(live)],
  );
});

test('a base directory that is a file or a link is refused; one readable by others is made private', () => {
  const file = tempBase();
  fs.writeFileSync(file, 'not a directory');
  assert.throws(
    () => TimeshiftStore.open({ channelId: CHANNEL, windowMs: 20_000, maxBytes: 1e8, baseDir: file, log: testLog() }),
    /^UserError: cannot keep timeshift in \S+timeshift: EEXIST.*; set MESHTV_HOME to a writable place$/,
  );
  // In a shared temp dir, someone else's link would send our files where they can read them.
  const link = tempBase();
  fs.symlinkSync(path.dirname(link), link);
  assert.throws(
    () => TimeshiftStore.open({ channelId: CHANNEL, windowMs: 20_000, maxBytes: 1e8, baseDir: link, log: testLog() }),
    /^UserError: timeshift directory \S+ is not a directory of this user's own; set MESHTV_HOME to another place$/,
  );
  const open = tempBase();
  fs.mkdirSync(open, { mode: 0o755 });
  fs.chmodSync(open, 0o755);
  TimeshiftStore.open({ channelId: CHANNEL, windowMs: 20_000, maxBytes: 1e8, baseDir: open, log: testLog() });
  assert.equal(fs.statSync(open).mode & 0o777, 0o700);
});

test('the base directory: under MESHTV_HOME, else one of this user in the temp dir', () => {
  assert.equal(timeshiftBaseDir({ MESHTV_HOME: '/x/y' }), '/x/y/timeshift');
  assert.equal(timeshiftBaseDir({}), path.join(os.tmpdir(), `meshtv-timeshift-${process.getuid?.()}`));
});

test('byte ranges as players send them', () => {
  assert.equal(byteRange(undefined, 100), 'whole');
  assert.equal(byteRange('items=0-1', 100), 'whole');
  assert.deepEqual(byteRange('bytes=10-19', 100), { start: 10, end: 19 });
  assert.deepEqual(byteRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(byteRange('bytes=50-500', 100), { start: 50, end: 99 });
  assert.deepEqual(byteRange('bytes=-30', 100), { start: 70, end: 99 });
  assert.equal(byteRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(byteRange('bytes=20-10', 100), 'unsatisfiable');
  assert.equal(byteRange('bytes=-0', 100), 'unsatisfiable');
});

test('the routes: the playlist, a segment whole and in part from disk, 416 and 404', async () => {
  const store = TimeshiftStore.open({ channelId: CHANNEL, windowMs: 20_000, maxBytes: 1e8, baseDir: tempBase(), log: testLog() });
  const out = await startHttpOutput({ host: '127.0.0.1', port: 0, stats: () => ({}), timeshift: timeshiftRoutes(store) });
  try {
    const pending = fetch(`${out.baseUrl}/timeshift.m3u8`);
    await recorded(store, segment(1000));
    // The playlist request waited for the first segment.
    const p = await pending;
    assert.equal(p.status, 200);
    assert.equal(p.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    const uri = /^timeshift\/\d+\.ts$/m.exec(await p.text())?.[0];
    const whole = await fetch(`${out.baseUrl}/${uri}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), '1000');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.equal((await whole.arrayBuffer()).byteLength, 1000);
    const part = await fetch(`${out.baseUrl}/${uri}`, { headers: { range: 'bytes=100-299' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 100-299/1000');
    assert.equal(part.headers.get('content-length'), '200');
    assert.equal((await part.arrayBuffer()).byteLength, 200);
    const head = await fetch(`${out.baseUrl}/${uri}`, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), '1000');
    const outside = await fetch(`${out.baseUrl}/${uri}`, { headers: { range: 'bytes=1000-' } });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get('content-range'), 'bytes */1000');
    assert.equal((await fetch(`${out.baseUrl}/timeshift/424242.ts`)).status, 404);
    assert.match(await (await fetch(`${out.baseUrl}/nothing`)).text(), /\/timeshift\.m3u8/);
  } finally {
    await out.close();
    await store.close();
  }
});
