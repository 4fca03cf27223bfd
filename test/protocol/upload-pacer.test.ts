// The capped upload queue on its own: chunks leave at the cap, the retry hint of a Busy is when
// room comes back, a cancelled chunk frees its share at once, and lifting the cap lets what
// waits go out instead of stranding it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UploadPacer, type UploadPacerConfig } from '../../src/protocol/upload-pacer.js';

const BYTES = 12_500; // 100 ms at 1 Mbit/s

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function pacer(overrides: Partial<UploadPacerConfig> = {}) {
  const config: Mutable<UploadPacerConfig> = {
    uploadEnabled: true,
    uploadLimitBps: 1_000_000,
    maxUploadBacklogMs: 150,
    uploadLeadMs: 0,
    uploadBurstMs: 0,
    ...overrides,
  };
  const sent: [string, number, number][] = [];
  const p = new UploadPacer<string>(config);
  const pump = (now: number) => p.pump(now, (to, seq) => sent.push([to, seq, now]) > 0);
  return { p, config, sent, pump };
}

test('chunks leave one per upload time, and room comes back when the hint says', () => {
  const { p, sent, pump } = pacer();
  for (let seq = 0; seq < 4; seq++) p.enqueue('a', seq, BYTES, false);
  pump(0);
  assert.deepEqual(sent, [['a', 0, 0]]);
  // 300 ms of chunks still wait behind the one on the wire.
  assert.equal(p.hasRoom(0), false);
  const hint = p.roomInMs(0);
  assert.equal(hint, 100 + 300 - 150);
  assert.equal(p.wakeMs, 100);
  for (let now = 100; now <= hint; now += 50) pump(now);
  assert.equal(p.hasRoom(hint - 1), false, 'room before the hint');
  assert.equal(p.hasRoom(hint), true, 'no room at the hint');
  assert.deepEqual(
    sent.map(([, seq, at]) => [seq, at]),
    [
      [0, 0],
      [1, 100],
      [2, 200],
    ],
  );
});

test('a cancelled chunk never leaves and frees its share of the backlog', () => {
  const { p, sent, pump } = pacer();
  p.enqueue('a', 1, BYTES, false);
  p.enqueue('b', 2, BYTES, false);
  p.enqueue('c', 3, BYTES, false);
  pump(0);
  assert.equal(p.roomInMs(0), 150);
  assert.equal(p.cancel('b', 2), true);
  assert.equal(p.cancel('b', 2), false, 'cancelled twice');
  assert.equal(p.cancel('c', 2), false, "cancelled someone else's chunk");
  assert.equal(p.roomInMs(0), 50);
  for (let now = 0; now <= 500; now += 10) pump(now);
  assert.deepEqual(
    sent.map(([to, seq]) => [to, seq]),
    [
      ['a', 1],
      ['c', 3],
    ],
  );
});

test('lifting the cap sends what waits at once and leaves nothing to wake for', () => {
  const { p, config, sent, pump } = pacer();
  for (let seq = 0; seq < 5; seq++) p.enqueue('a', seq, BYTES, seq === 4);
  pump(0);
  assert.equal(sent.length, 1);
  config.uploadLimitBps = undefined;
  pump(10);
  assert.deepEqual(
    sent.map(([, seq]) => seq),
    [4, 0, 1, 2, 3],
  );
  assert.equal(p.wakeMs, undefined);
  assert.equal(p.hasRoom(10), true);
});

test('with upload off, nothing is accepted and the hint is the longest one', () => {
  const { p } = pacer({ uploadEnabled: false });
  assert.equal(p.hasRoom(0), false);
  assert.equal(p.roomInMs(0), 2000);
});

test('control bytes count against the cap: the chunks behind them leave that much later', () => {
  const { p, sent, pump } = pacer();
  p.enqueue('a', 1, BYTES, false);
  p.enqueue('a', 2, BYTES, false);
  pump(0);
  // 1,250 bytes of HAVEs and answers sent at 10 ms: 10 ms of the cap.
  p.charge(10, BYTES / 10);
  pump(100);
  assert.deepEqual(sent, [['a', 1, 0]], 'the second chunk left before the control was paid for');
  pump(110);
  assert.deepEqual(sent, [
    ['a', 1, 0],
    ['a', 2, 110],
  ]);
  // On an idle link control is paid for from when it is sent, not from when the link went idle.
  p.charge(1000, BYTES);
  assert.equal(p.roomInMs(1000), 0);
  p.enqueue('a', 3, BYTES, false);
  p.enqueue('a', 4, BYTES, false);
  assert.equal(p.roomInMs(1000), 100 + 200 - 150);
});

test('without a cap, control costs nothing', () => {
  const { p, sent, pump } = pacer({ uploadLimitBps: undefined });
  p.charge(0, 1_000_000);
  p.enqueue('a', 1, BYTES, false);
  pump(0);
  assert.deepEqual(sent, [['a', 1, 0]]);
});
