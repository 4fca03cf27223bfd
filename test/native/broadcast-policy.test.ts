import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ENCODING } from '../../src/media/encoding.js';
import {
  defaultUploadCap,
  laneBitrate,
  laneUploadLimit,
  nominalLaneRates,
  numberChunk,
  risingRates,
  SOURCE_UPLOAD_COPIES,
  sourceLoad,
  usesDefaultCap,
} from '../../src/native/broadcast-policy.js';
import { FLAG_END_OF_STREAM, FLAG_KEYFRAME, FLAG_STREAM_START } from '../../src/protocol/chunk.js';

test("numberChunk: numbers run on; only the run's first keyframe chunk carries the stream-start flag", () => {
  let n = { seq: 100, started: false };
  const flags: number[] = [];
  for (const piece of [0, FLAG_KEYFRAME, 0, FLAG_KEYFRAME, FLAG_KEYFRAME | FLAG_END_OF_STREAM]) {
    const out = numberChunk(n, piece);
    assert.equal(out.seq, n.seq);
    flags.push(out.flags);
    n = out.next;
  }
  assert.deepEqual(flags, [0, FLAG_KEYFRAME | FLAG_STREAM_START, 0, FLAG_KEYFRAME, FLAG_KEYFRAME | FLAG_END_OF_STREAM]);
  assert.deepEqual(n, { seq: 105, started: true });
});

test('the default upload cap: only without --upload-limit or a core cap, SOURCE_UPLOAD_COPIES times the rate once known', () => {
  assert.equal(usesDefaultCap(undefined, undefined), true);
  assert.equal(usesDefaultCap(5e6, undefined), false);
  assert.equal(usesDefaultCap('unlimited', undefined), false);
  assert.equal(usesDefaultCap(undefined, 1e6), false);
  assert.equal(defaultUploadCap(1_000_000), Math.round(SOURCE_UPLOAD_COPIES * 1_000_000));
  assert.equal(defaultUploadCap(0), undefined, 'a --copy input before its rate is measured is not capped');
});

test('an explicit upload cap is shared by the renditions by their rates', () => {
  assert.equal(laneUploadLimit(3e6, 1e6, 3e6), 1e6);
  assert.equal(laneUploadLimit(3e6, 2e6, 3e6), 2e6);
  assert.equal(laneUploadLimit(3e6, 0, 0), 3e6, 'no nominal rates: the whole cap');
  assert.equal(laneUploadLimit(10, 1, 1e9), 1, 'never zero');
  assert.equal(laneUploadLimit('unlimited', 1e6, 3e6), undefined);
  assert.equal(laneUploadLimit(undefined, 1e6, 3e6), undefined);
});

test("nominal lane rates: video plus audio per rendition, or the one stream's rate", () => {
  const ladder = {
    ...DEFAULT_ENCODING,
    renditions: [
      { name: 'low', height: 240, videoBitrateKbps: 400 },
      { name: 'high', height: 720, videoBitrateKbps: 2000 },
    ],
  };
  assert.deepEqual(nominalLaneRates({ kind: 'testsrc' }, ladder as typeof DEFAULT_ENCODING), [496_000, 2_096_000]);
  assert.deepEqual(nominalLaneRates({ kind: 'testsrc' }, { ...DEFAULT_ENCODING, copy: true }), [0]);
});

test('laneBitrate: nominal for the first five seconds, measured after', () => {
  const p = { nominalBps: 1e6, bytesProduced: 1_250_000, firstChunkAtMs: 10_000 };
  assert.equal(laneBitrate({ ...p, firstChunkAtMs: undefined }, 20_000), 1e6);
  assert.equal(laneBitrate(p, 14_999), 1e6);
  assert.equal(laneBitrate(p, 20_000), 1e6 * 1.0);
  assert.equal(laneBitrate(p, 15_000), 2e6);
});

test('risingRates: a busy low rendition does not list above the one over it', () => {
  assert.deepEqual(risingRates([500, 400, 2000]), [500, 501, 2000]);
  assert.deepEqual(risingRates([0, 0]), [0, 1]);
  assert.deepEqual(risingRates([]), []);
});

test('sourceLoad: sent over produced, 0 before anything was produced', () => {
  assert.equal(sourceLoad(300, 100), 3);
  assert.equal(sourceLoad(300, 0), 0);
});
