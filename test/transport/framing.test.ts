// Length-prefixed framing (a LEB128 varint length): frames come out whole however the bytes are split, and a peer's
// declared length is refused before anything is allocated for it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RemoteProtocolError } from '../../src/protocol/errors.js';
import { seededRandom } from '../../src/protocol/random.js';
import { encodeFrame, FrameReader, frameHeaderBytes } from '../../src/transport/framing.js';

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
  test('encodeFrame writes the length as a LEB128 varint, in its shortest form', () => {
    assert.deepEqual(encodeFrame(Uint8Array.of(9, 8, 7)), Uint8Array.of(3, 9, 8, 7));
    // 300 = 0b10_0101100: the low seven bits first, with the high bit set, then the rest.
    assert.deepEqual(encodeFrame(body(300, 0)).subarray(0, 2), Uint8Array.of(0xac, 0x02));
    const sizes: [number, number][] = [
      [1, 1],
      [127, 1],
      [128, 2],
      [16_383, 2],
      [16_384, 3],
      [2 ** 21 - 1, 3],
      [2 ** 21, 4],
    ];
    for (const [length, bytes] of sizes) {
      assert.equal(frameHeaderBytes(length), bytes, `${length}`);
      assert.equal(encodeFrame(new Uint8Array(length)).length, length + bytes);
      assert.deepEqual(new FrameReader(2 ** 22).push(encodeFrame(body(length, 7))), [body(length, 7)]);
    }
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
        assert.equal(reader.bufferedBytes + got.reduce((s, b) => s + b.length + frameHeaderBytes(b.length), 0), Math.min(o, stream.length));
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
    assert.equal(reader.bufferedBytes, 0);
  });

  test('an oversized declared length throws as soon as its prefix shows it', () => {
    for (const declared of [301, 0x7fffff, 2 ** 28 - 1]) {
      const header: number[] = [];
      for (let v = declared; ; v = Math.floor(v / 128)) {
        if (v < 128) {
          header.push(v);
          break;
        }
        header.push((v & 0x7f) | 0x80);
      }
      assert.throws(() => new FrameReader(300).push(Uint8Array.from(header)), RemoteProtocolError);
    }
    // Prefix split over two pushes: 127 so far is within the limit; the second byte passes it.
    const reader = new FrameReader(300);
    assert.deepEqual(reader.push(Uint8Array.of(0xff)), []);
    assert.throws(() => reader.push(Uint8Array.of(0xff)), /exceeds/);
  });

  test('an oversized frame after good ones throws', () => {
    const reader = new FrameReader(300);
    assert.deepEqual(reader.push(encodeFrame(body(3, 1))), [body(3, 1)]);
    assert.throws(() => reader.push(Uint8Array.of(0xad, 0x02)), /exceeds/);
  });

  test('a length prefix not in its shortest form, or longer than four bytes, throws', () => {
    assert.throws(() => new FrameReader(300).push(Uint8Array.of(0x83, 0x00, 1, 2, 3)), /shortest form/);
    assert.throws(() => new FrameReader(2 ** 30).push(Uint8Array.of(0x81, 0x80, 0x80, 0x80)), /longer than 4 bytes/);
  });

  test('a zero-length frame throws', () => {
    assert.throws(() => new FrameReader(300).push(Uint8Array.of(0)), RemoteProtocolError);
    const reader = new FrameReader(300);
    assert.throws(() => reader.push(concat([encodeFrame(body(2, 0)), Uint8Array.of(0)])), /empty frame/);
  });
});
