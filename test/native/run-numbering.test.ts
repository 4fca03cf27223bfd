// A restarted broadcaster must number its chunks past everything its last run produced, even
// when chunks came faster than the clock's 200 ms ticks.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { clockSeq, firstSeq, floorAhead, loadFloors, saveFloors } from '../../src/native/run-numbering.js';
import { tempDir } from '../helpers/processes.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function logged(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ level: 'warn', format: 'text', sink: { write: (l) => lines.push(l) } }), lines };
}

test('a saved floor lies a few seconds of production past the lane’s next number', () => {
  // 100 chunks in 10 s: 10 a second, so three seconds ahead is 30 more.
  assert.equal(floorAhead({ key: { channelId: A }, seq: 5000, chunksProduced: 100, firstChunkAtMs: 0 }, 10_000), 5031);
  // Before a second of production, a fast rate is assumed.
  assert.ok(floorAhead({ key: { channelId: A }, seq: 5000, chunksProduced: 0, firstChunkAtMs: undefined }, 0) >= 5050);
});

test('the first number is past both the clock and the saved floor', () => {
  const now = Date.UTC(2026, 10, 26);
  assert.equal(firstSeq(now, undefined), clockSeq(now));
  assert.equal(firstSeq(now, clockSeq(now) + 777), clockSeq(now) + 777);
  assert.equal(firstSeq(now, 12), clockSeq(now));
});

test('floors survive a save and a load, keeping other streams’ and never going back', () => {
  const file = path.join(tempDir('floors'), 'k.key.seq');
  const { log } = logged();
  saveFloors(file, [{ key: { channelId: A }, seq: 1000, chunksProduced: 50, firstChunkAtMs: 0 }], 10_000, new Map([[B, 77]]));
  const floors = loadFloors(file, log);
  assert.equal(floors.get(A), 1000 + 15 + 1);
  assert.equal(floors.get(B), 77);
  // A lane restarted lower than its saved floor (a clock set back) keeps the higher floor.
  saveFloors(file, [{ key: { channelId: A }, seq: 10, chunksProduced: 0, firstChunkAtMs: undefined }], 0, floors);
  assert.equal(loadFloors(file, log).get(A), 1016);
  assert.equal(fs.existsSync(`${file}.tmp`), false);
});

test('a missing file is no floor; a damaged one is no floor and a warning', () => {
  const dir = tempDir('floors-bad');
  const { log, lines } = logged();
  assert.equal(loadFloors(path.join(dir, 'none.seq'), log).size, 0);
  assert.equal(lines.length, 0);
  const bad = path.join(dir, 'bad.seq');
  fs.writeFileSync(bad, '{"not json');
  assert.equal(loadFloors(bad, log).size, 0);
  assert.match(lines.join(''), /ignoring .*bad\.seq/);
  // Entries that are not a stream id and a chunk number are skipped, the rest kept.
  fs.writeFileSync(bad, JSON.stringify({ [A]: 42, [B]: -1, nope: 5, ['c'.repeat(64)]: 2 ** 40, ['d'.repeat(64)]: '9' }));
  assert.deepEqual([...loadFloors(bad, log)], [[A, 42]]);
});
