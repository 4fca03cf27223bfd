// TsChunker on real MPEG-TS from the bundled ffmpeg (4 s test pattern, 1 s GOP): lossless
// cutting at packet boundaries, keyframe chunks that start with the PAT, pieces of about CHUNK_MS.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, test } from 'node:test';
import { ffmpegPath } from '../../src/media/ffmpeg.js';
import { TS_PACKET_BYTES, TsChunker, type TsPiece } from '../../src/media/ts-chunker.js';
import { CHUNK_MS, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';
import { type RandomFn, seededRandom } from '../../src/protocol/random.js';

const VIDEO_ARGS = [
  '-hide_banner',
  '-loglevel',
  'error',
  '-nostdin',
  '-f',
  'lavfi',
  '-i',
  'testsrc=size=320x180:rate=25',
  '-f',
  'lavfi',
  '-i',
  'sine=frequency=1000:sample_rate=48000',
  '-t',
  '4',
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-tune',
  'zerolatency',
  '-pix_fmt',
  'yuv420p',
  '-g',
  '25',
  '-keyint_min',
  '25',
  '-sc_threshold',
  '0',
  '-c:a',
  'aac',
  '-f',
  'mpegts',
  '-muxdelay',
  '0',
  'pipe:1',
];

const AUDIO_ONLY_ARGS = [
  '-hide_banner',
  '-loglevel',
  'error',
  '-nostdin',
  '-f',
  'lavfi',
  '-i',
  'sine=frequency=1000:sample_rate=48000',
  '-t',
  '2',
  '-c:a',
  'aac',
  '-f',
  'mpegts',
  '-muxdelay',
  '0',
  'pipe:1',
];

function runFfmpeg(args: string[]): Uint8Array {
  const r = spawnSync(ffmpegPath(), args, { maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `ffmpeg failed: ${r.stderr?.toString()}`);
  const out = new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
  assert.ok(out.length > 0 && out.length % TS_PACKET_BYTES === 0, `ffmpeg wrote ${out.length} bytes`);
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

/** Feeds `data` in random pieces of 1..maxPiece bytes, `msPerPiece` apart; returns every piece including the flushed one. */
function chunkAll(data: Uint8Array, random: RandomFn, maxPiece = 5000, msPerPiece = 1): { pieces: TsPiece[]; chunker: TsChunker } {
  const chunker = new TsChunker();
  const pieces: TsPiece[] = [];
  let now = 0;
  for (let o = 0; o < data.length; ) {
    const n = 1 + Math.floor(random() * maxPiece);
    pieces.push(...chunker.push(data.subarray(o, o + n), now));
    o += n;
    now += msPerPiece;
  }
  const last = chunker.flush(now);
  if (last !== undefined) pieces.push(last);
  return { pieces, chunker };
}

/** Byte equality with a short message (deepEqual would print 90 KB arrays). */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what = 'output'): void {
  if (Buffer.from(actual).equals(Buffer.from(expected))) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  assert.fail(`${what}: ${actual.length} bytes, expected ${expected.length}; first difference at byte ${i}`);
}

interface Packet {
  pid: number;
  unitStart: boolean;
  randomAccess: boolean;
}

function packetsOf(payload: Uint8Array): Packet[] {
  const out: Packet[] = [];
  for (let o = 0; o < payload.length; o += TS_PACKET_BYTES) {
    const p = payload.subarray(o, o + TS_PACKET_BYTES);
    assert.equal(p[0], 0x47, `sync byte at ${o}`);
    const hasAdaptation = ((p[3] as number) & 0x20) !== 0;
    out.push({
      pid: (((p[1] as number) & 0x1f) << 8) | (p[2] as number),
      unitStart: ((p[1] as number) & 0x40) !== 0,
      randomAccess: hasAdaptation && (p[4] as number) > 0 && ((p[5] as number) & 0x40) !== 0,
    });
  }
  return out;
}

/** Video PID found independently of the chunker: PAT -> PMT -> first H.264 stream. */
function findVideoPid(ts: Uint8Array): number {
  const section = (p: Uint8Array) => {
    const afc = ((p[3] as number) >> 4) & 3;
    const at = afc & 2 ? 5 + (p[4] as number) : 4;
    return p.subarray(at + 1 + (p[at] as number));
  };
  let pmtPid: number | undefined;
  for (let o = 0; o < ts.length; o += TS_PACKET_BYTES) {
    const p = ts.subarray(o, o + TS_PACKET_BYTES);
    const pid = (((p[1] as number) & 0x1f) << 8) | (p[2] as number);
    if (pid === 0 && pmtPid === undefined) {
      const s = section(p);
      pmtPid = (((s[10] as number) & 0x1f) << 8) | (s[11] as number);
    } else if (pid === pmtPid) {
      const s = section(p);
      const infoLength = (((s[10] as number) & 0x0f) << 8) | (s[11] as number);
      for (let i = 12 + infoLength; i + 5 <= s.length; ) {
        const esPid = (((s[i + 1] as number) & 0x1f) << 8) | (s[i + 2] as number);
        if (s[i] === 0x1b) return esPid;
        i += 5 + ((((s[i + 3] as number) & 0x0f) << 8) | (s[i + 4] as number));
      }
    }
  }
  assert.fail('no H.264 stream in the PMT');
}

let ts: Uint8Array;
let videoPid: number;

before(() => {
  ts = runFfmpeg(VIDEO_ARGS);
  videoPid = findVideoPid(ts);
});

describe('TsChunker on a 4 s test pattern', () => {
  test('chunk payloads, then flush, give back the input exactly, in whole packets', () => {
    for (const seed of [1, 2, 3]) {
      const { pieces, chunker } = chunkAll(ts, seededRandom(seed));
      assertSameBytes(concat(pieces.map((p) => p.payload)), ts, `seed ${seed}`);
      for (const p of pieces) {
        assert.ok(p.payload.length > 0);
        assert.equal(p.payload.length % TS_PACKET_BYTES, 0);
      }
      assert.equal(chunker.droppedBytes, 0);
    }
  });

  test('the cut does not depend on how the input is split', () => {
    const shape = (pieces: TsPiece[]) => pieces.map((p) => `${p.payload.length}/${p.flags}/${p.mediaMs}`);
    const whole = new TsChunker();
    const expected = whole.push(ts, 0);
    const last = whole.flush(0);
    if (last !== undefined) expected.push(last);
    assert.deepEqual(shape(chunkAll(ts, seededRandom(4)).pieces), shape(expected));
    assert.deepEqual(shape(chunkAll(ts, seededRandom(5), 200).pieces), shape(expected));
  });

  test('one keyframe chunk per 1 s GOP, starting with the PAT and holding the keyframe as its first video', () => {
    const { pieces } = chunkAll(ts, seededRandom(6));
    const keyChunks = pieces.filter((p) => (p.flags & FLAG_KEYFRAME) !== 0);
    assert.equal(keyChunks.length, 4);
    for (const [i, p] of pieces.entries()) {
      const packets = packetsOf(p.payload);
      const firstVideo = packets.find((k) => k.pid === videoPid && k.unitStart);
      if ((p.flags & FLAG_KEYFRAME) !== 0) {
        // ffmpeg 4.3 and later (Debian's 5.1) write the SDT (pid 0x11) once, before the first PAT.
        assert.equal(packets.find((k) => k.pid !== 0x11)?.pid, 0, `key chunk ${i} starts with the PAT`);
        assert.equal(firstVideo?.randomAccess, true, `key chunk ${i} starts its video with a keyframe`);
      } else if (firstVideo !== undefined) {
        assert.equal(firstVideo.randomAccess, false, `chunk ${i} is not flagged but starts with a keyframe`);
      }
    }
    // Every keyframe in the stream opens a key chunk: none is buried inside a chunk.
    const keyframes = packetsOf(ts).filter((k) => k.pid === videoPid && k.unitStart && k.randomAccess).length;
    assert.equal(keyframes, keyChunks.length);
  });

  test('chunks between keyframes cover about CHUNK_MS of media', () => {
    const { pieces } = chunkAll(ts, seededRandom(7));
    let measured = 0;
    for (const [i, p] of pieces.entries()) {
      if (p.mediaMs === undefined) continue;
      measured++;
      const next = pieces[i + 1];
      // The last piece of a GOP holds what is left of the second: it may be short.
      const gopTail = next === undefined || (next.flags & FLAG_KEYFRAME) !== 0;
      // Cut at the first frame past CHUNK_MS: at most one 40 ms frame more.
      assert.ok(p.mediaMs > 0 && p.mediaMs <= CHUNK_MS + 40, `chunk ${i} covers ${p.mediaMs} ms`);
      if (!gopTail) assert.ok(p.mediaMs >= CHUNK_MS, `chunk ${i} covers ${p.mediaMs} ms`);
      // 25 fps: spans are whole frames of 40 ms.
      assert.equal(p.mediaMs % 40, 0, `chunk ${i} covers ${p.mediaMs} ms`);
    }
    assert.ok(measured >= 12, `only ${measured} chunks measured`);
    const between = pieces.filter((p) => (p.flags & FLAG_KEYFRAME) === 0 && p.mediaMs !== undefined).length;
    // Three non-key chunks a second at 250 ms, five at 125 ms (25 frames a GOP).
    assert.ok(between >= (4000 / CHUNK_MS) * 0.5, `${between} non-key chunks for 4 s`);
  });

  test('chunk media durations add up to the stream duration', () => {
    const { pieces } = chunkAll(ts, seededRandom(8));
    const total = pieces.reduce((n, p) => n + (p.mediaMs ?? 0), 0);
    assert.ok(Math.abs(total - 4000) <= 100, `chunks cover ${total} ms of a 4000 ms stream`);
  });

  test('capture time is the arrival time of the first packet', () => {
    const chunker = new TsChunker();
    const half = Math.floor(ts.length / TS_PACKET_BYTES / 2) * TS_PACKET_BYTES;
    const first = chunker.push(ts.subarray(0, half), 1000);
    const second = chunker.push(ts.subarray(half), 2000);
    assert.ok(first.length > 0 && second.length > 0);
    for (const p of first) assert.equal(p.captureTimeMs, 1000);
    // The piece straddling the two pushes started arriving at 1000, the rest at 2000.
    assert.equal(second[0]?.captureTimeMs, 1000);
    for (const p of second.slice(1)) assert.equal(p.captureTimeMs, 2000);
  });

  test('garbage before the stream is skipped', () => {
    const random = seededRandom(9);
    const garbage = new Uint8Array(1000);
    // No sync byte in the garbage: nothing in it can pass for a packet.
    for (let i = 0; i < garbage.length; i++) garbage[i] = (Math.floor(random() * 255) + 0x48) & 0xff;
    assert.ok(!garbage.includes(0x47));
    const { pieces, chunker } = chunkAll(concat([garbage, ts]), random);
    assert.ok(chunker.droppedBytes > 0);
    assert.equal(chunker.droppedBytes, garbage.length);
    assertSameBytes(concat(pieces.map((p) => p.payload)), ts);
    assert.equal(pieces.filter((p) => (p.flags & FLAG_KEYFRAME) !== 0).length, 4);
  });

  test('a sync byte in garbage at the end of a read is not taken for a packet', () => {
    const chunker = new TsChunker();
    // 50 bytes of garbage starting with 0x47, then the first 138 bytes of the stream: one read of 188 bytes.
    const read = new Uint8Array(TS_PACKET_BYTES);
    read[0] = 0x47;
    read.set(ts.subarray(0, 138), 50);
    const pieces = [...chunker.push(read, 0), ...chunker.push(ts.subarray(138), 1)];
    const last = chunker.flush(2);
    if (last !== undefined) pieces.push(last);
    assert.equal(chunker.droppedBytes, 50);
    assertSameBytes(concat(pieces.map((p) => p.payload)), ts);
  });

  test('garbage between packets is skipped and the stream resumes', () => {
    const random = seededRandom(10);
    const at = 100 * TS_PACKET_BYTES;
    const garbage = new Uint8Array(333).fill(0xaa);
    const { pieces, chunker } = chunkAll(concat([ts.subarray(0, at), garbage, ts.subarray(at)]), random);
    const out = concat(pieces.map((p) => p.payload));
    // A packet counts as in sync when the next one starts with a sync byte too, so the good
    // packet just before the garbage may be dropped with it; nothing else may be lost.
    const withoutLastGood = concat([ts.subarray(0, at - TS_PACKET_BYTES), ts.subarray(at)]);
    if (chunker.droppedBytes === garbage.length) assertSameBytes(out, ts);
    else {
      assert.equal(chunker.droppedBytes, garbage.length + TS_PACKET_BYTES);
      assertSameBytes(out, withoutLastGood);
    }
    assert.equal(pieces.filter((p) => (p.flags & FLAG_KEYFRAME) !== 0).length, 4);
  });
});

describe('TsChunker without video', () => {
  test('an audio-only stream is cut on arrival time, losslessly', () => {
    const audio = runFfmpeg(AUDIO_ONLY_ARGS);
    // 20 ms per 1000-byte read: the stream arrives over about 1 s of wall time here.
    const { pieces } = chunkAll(audio, seededRandom(11), 1000, 20);
    assertSameBytes(concat(pieces.map((p) => p.payload)), audio);
    assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
    for (const [i, p] of pieces.slice(0, -1).entries()) {
      const next = pieces[i + 1] as TsPiece;
      assert.ok(next.captureTimeMs - p.captureTimeMs >= CHUNK_MS, `piece ${i} spans ${next.captureTimeMs - p.captureTimeMs} ms`);
      if (i > 0) assert.equal(p.flags & FLAG_KEYFRAME, FLAG_KEYFRAME, 'every audio piece can start playback');
    }
  });
});
