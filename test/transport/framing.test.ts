// Length-prefixed framing: frames come out whole however the bytes are split, and a peer's
// declared length is refused before anything is allocated for it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RemoteProtocolError } from '../../src/protocol/errors.js';
import { seededRandom } from '../../src/protocol/random.js';
import { encodeFrame, FRAME_HEADER_BYTES, FrameReader } from '../../src/transport/framing.js';

function body(n: number, fill: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (fill + i) & 0xff;
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const bodies = [body(1, 1), body(5, 2), body(300, 3), body(1, 4), body(70, 5), body(4, 6)];
const stream = concat(bodies.map(encodeFrame));

describe('FrameReader', () => {
  test('encodeFrame writes a 4-byte big-endian length', () => {
    assert.deepEqual(encodeFrame(Uint8Array.of(9, 8, 7)), Uint8Array.of(0, 0, 0, 3, 9, 8, 7));
    assert.equal(encodeFrame(body(0x010203, 0)).subarray(0, 4).join(','), '0,1,2,3');
  });

  test('one push holding several frames yields them all', () => {
    const reader = new FrameReader(1000);
    assert.deepEqual(reader.push(stream), bodies);
    assert.equal(reader.bufferedBytes, 0);
  });

  test('split at every single byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const reader = new FrameReader(1000);
      const got = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      assert.deepEqual(got, bodies, `cut at ${cut}`);
      assert.equal(reader.bufferedBytes, 0);
    }
  });

  test('one byte at a time', () => {
    const reader = new FrameReader(1000);
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...reader.push(stream.subarray(i, i + 1)));
    assert.deepEqual(got, bodies);
  });

  test('random splits, empty pushes included', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 300; round++) {
      const reader = new FrameReader(1000);
      const got: Uint8Array[] = [];
      let o = 0;
      while (o < stream.length) {
        const n = Math.floor(random() * 40);
        got.push(...reader.push(stream.subarray(o, o + n)));
        o += n;
        assert.equal(reader.bufferedBytes + got.reduce((s, b) => s + b.length + FRAME_HEADER_BYTES, 0), Math.min(o, stream.length));
      }
      assert.deepEqual(got, bodies, `round ${round}`);
    }
  });

  test('returned frames are copies: later pushes and caller edits do not change them', () => {
    const reader = new FrameReader(1000);
    const chunk = stream.slice();
    const got = reader.push(chunk);
    chunk.fill(0);
    assert.deepEqual(got, bodies);
  });

  test('a frame of exactly the limit is accepted', () => {
    const reader = new FrameReader(300);
    const frame = encodeFrame(body(300, 9));
    assert.deepEqual(reader.push(frame.subarray(0, 4)), []);
    assert.equal(reader.bufferedBytes, 4);
    assert.deepEqual(reader.push(frame.subarray(4)), [body(300, 9)]);
  });

  test('an oversized declared length throws as soon as the 4 header bytes are in', () => {
    for (const declared of [301, 0x7fffffff, 0xffffffff]) {
      const reader = new FrameReader(300);
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, declared);
      assert.throws(() => reader.push(header), RemoteProtocolError);
    }
    // Header split over two pushes: nothing is decided on 2 bytes, the second push throws.
    const reader = new FrameReader(300);
    assert.deepEqual(reader.push(Uint8Array.of(0xff, 0xff)), []);
    assert.throws(() => reader.push(Uint8Array.of(0xff, 0xff)), RemoteProtocolError);
  });

  test('an oversized frame after good ones throws', () => {
    const reader = new FrameReader(300);
    assert.deepEqual(reader.push(encodeFrame(body(3, 1))), [body(3, 1)]);
    assert.throws(() => reader.push(Uint8Array.of(0, 0, 1, 45)), /exceeds/);
  });

  test('a zero-length frame throws', () => {
    assert.throws(() => new FrameReader(300).push(Uint8Array.of(0, 0, 0, 0)), RemoteProtocolError);
    const reader = new FrameReader(300);
    assert.throws(() => reader.push(concat([encodeFrame(body(2, 0)), Uint8Array.of(0, 0, 0, 0)])), /empty frame/);
  });
});
