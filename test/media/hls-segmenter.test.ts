// HlsSegmenter on synthetic MPEG-TS chunks with known timestamps: keyframe-aligned segments of
// at least 2 s, a sliding window with the right media sequence, target durations from PTS,
// discontinuities after skips and timeline restarts, the end of the channel.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HlsSegmenter, type PlayedChunk } from '../../src/media/hls-segmenter.js';
import { FLAG_END_OF_STREAM, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';

const PMT_PID = 0x1000;
const VIDEO_PID = 0x100;
const AUDIO_PID = 0x101;

function packet(pid: number, unitStart: boolean, payload: number[]): Uint8Array {
  const p = new Uint8Array(188).fill(0xff);
  p[0] = 0x47;
  p[1] = (unitStart ? 0x40 : 0) | (pid >> 8);
  p[2] = pid & 0xff;
  p[3] = 0x10; // payload only
  p.set(payload.slice(0, 184), 4);
  return p;
}

function pat(): Uint8Array {
  // pointer, table 0, section length 13, tsid 1, version, section 0/0, program 1 -> PMT PID, CRC (unchecked)
  return packet(0, true, [0, 0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff, 0, 0, 0, 0]);
}

function pmt(withVideo: boolean): Uint8Array {
  const streams = [
    ...(withVideo ? [0x1b, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0] : []),
    0x0f,
    0xe0 | (AUDIO_PID >> 8),
    AUDIO_PID & 0xff,
    0xf0,
    0,
  ];
  const sectionLength = 9 + streams.length + 4;
  return packet(PMT_PID, true, [
    0,
    0x02,
    0xb0,
    sectionLength,
    0,
    1,
    0xc1,
    0,
    0,
    0xe0 | (VIDEO_PID >> 8),
    VIDEO_PID & 0xff,
    0xf0,
    0,
    ...streams,
    0,
    0,
    0,
    0,
  ]);
}

function pes(pid: number, pts90k: number): Uint8Array {
  const pts = ((pts90k % 2 ** 33) + 2 ** 33) % 2 ** 33;
  const b0 = 0x21 | (Math.floor(pts / 2 ** 30) << 1);
  const mid = Math.floor(pts / 2 ** 15) % 2 ** 15;
  const low = pts % 2 ** 15;
  return packet(pid, true, [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, b0, mid >> 7, ((mid & 0x7f) << 1) | 1, low >> 7, ((low & 0x7f) << 1) | 1]);
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

/**
 * A stream of 250 ms chunks at 25 fps (40 ms frames, 6 or 7 per chunk), a keyframe chunk every
 * `gopChunks` chunks; capture times follow the media time plus `jitterMs`.
 */
class Source {
  seq = 0;
  ptsMs: number;
  constructor(
    startPtsMs = 10_000,
    private readonly gopChunks = 4,
    private readonly captureStartMs = 1_700_000_000_000,
  ) {
    this.ptsMs = startPtsMs;
  }
  private mediaMs = 0;

  chunk(o: { flags?: number; video?: boolean; jitterMs?: number } = {}): PlayedChunk {
    const key = this.seq % this.gopChunks === 0;
    const parts: Uint8Array[] = [];
    if (key) parts.push(pat(), pmt(o.video ?? true));
    const chunkEndMs = (this.seq + 1) * 250;
    const captureTimeMs = this.captureStartMs + this.mediaMs + (o.jitterMs ?? 0);
    while (this.mediaMs < chunkEndMs - 1e-9) {
      if (o.video ?? true) parts.push(pes(VIDEO_PID, Math.round(this.ptsMs * 90)));
      parts.push(pes(AUDIO_PID, Math.round(this.ptsMs * 90)));
      this.ptsMs += 40;
      this.mediaMs += 40;
    }
    this.seq++;
    return { payload: concat(parts), flags: (key ? FLAG_KEYFRAME : 0) | (o.flags ?? 0), captureTimeMs };
  }
}

function parse(playlist: string) {
  const lines = playlist.trim().split('\n');
  const tag = (name: string) => lines.find((l) => l.startsWith(`#${name}:`))?.split(':')[1];
  const segments: { uri: string; duration: number; discontinuity: boolean }[] = [];
  let discontinuity = false;
  let duration = 0;
  for (const l of lines) {
    if (l === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (l.startsWith('#EXTINF:')) duration = Number(l.slice(8).split(',')[0]);
    else if (!l.startsWith('#')) {
      segments.push({ uri: l, duration, discontinuity });
      discontinuity = false;
    }
  }
  return {
    lines,
    targetDuration: Number(tag('EXT-X-TARGETDURATION')),
    mediaSequence: Number(tag('EXT-X-MEDIA-SEQUENCE')),
    discontinuitySequence: tag('EXT-X-DISCONTINUITY-SEQUENCE') === undefined ? undefined : Number(tag('EXT-X-DISCONTINUITY-SEQUENCE')),
    ended: lines.includes('#EXT-X-ENDLIST'),
    segments,
  };
}

describe('HlsSegmenter', () => {
  test('no playlist before the first segment is complete; listeners hear of each new one', () => {
    const hls = new HlsSegmenter();
    const src = new Source();
    let changes = 0;
    hls.onChange(() => changes++);
    for (let i = 0; i < 8; i++) hls.play(src.chunk());
    assert.equal(hls.playlist(), undefined, '8 chunks = 2 s, the segment is still open');
    hls.play(src.chunk());
    assert.equal(changes, 1);
    const p = parse(hls.playlist() as string);
    assert.equal(p.segments.length, 1);
    assert.deepEqual(p.segments[0], { uri: 'live/0.ts', duration: 2, discontinuity: false });
    assert.equal(p.targetDuration, 2);
    assert.equal(p.mediaSequence, 0);
    assert.equal(p.ended, false);
    assert.equal(p.lines[0], '#EXTM3U');
  });

  test('segments start at keyframe chunks and hold their chunks’ bytes in order', () => {
    const hls = new HlsSegmenter();
    const src = new Source();
    const played: PlayedChunk[] = [];
    for (let i = 0; i < 17; i++) {
      const c = src.chunk();
      played.push(c);
      hls.play(c);
    }
    const [first, second] = hls.held();
    assert.ok(first && second);
    assert.deepEqual(first.data, concat(played.slice(0, 8).map((c) => c.payload)));
    assert.deepEqual(second.data, concat(played.slice(8, 16).map((c) => c.payload)));
    assert.equal(first.programDateTimeMs, played[0]?.captureTimeMs);
    assert.equal(second.programDateTimeMs, played[8]?.captureTimeMs);
  });

  test('chunks before the first keyframe are not served', () => {
    const hls = new HlsSegmenter();
    const src = new Source();
    src.chunk(); // the viewer joined after this keyframe chunk
    for (let i = 0; i < 3; i++) hls.play(src.chunk());
    assert.equal(hls.droppedChunks, 3);
    for (let i = 0; i < 9; i++) hls.play(src.chunk());
    const seg = hls.held()[0];
    assert.ok(seg);
    assert.equal(seg.durationMs, 2000);
    assert.equal(seg.data[0], 0x47);
    assert.equal(seg.data[5], 0x00, 'a segment starts with the PAT');
  });

  test('sliding window: six listed, media sequence counts the ones gone, three more still downloadable', () => {
    const hls = new HlsSegmenter();
    const src = new Source();
    for (let i = 0; i < 20 * 8 + 1; i++) hls.play(src.chunk());
    const p = parse(hls.playlist() as string);
    assert.equal(p.segments.length, 6);
    assert.equal(p.mediaSequence, 14);
    assert.deepEqual(
      p.segments.map((s) => s.uri),
      [14, 15, 16, 17, 18, 19].map((n) => `live/${n}.ts`),
    );
    assert.ok(hls.segment(19));
    assert.ok(hls.segment(11), 'retained after leaving the playlist');
    assert.equal(hls.segment(10), undefined, 'dropped for good');
    assert.equal(hls.segment(20), undefined, 'not complete yet');
    assert.equal(hls.held().length, 9);
  });

  test('durations come from PTS, not from jittery capture times', () => {
    const hls = new HlsSegmenter();
    const src = new Source();
    for (let i = 0; i < 33; i++) hls.play(src.chunk({ jitterMs: (i * 37) % 300 }));
    const p = parse(hls.playlist() as string);
    assert.deepEqual(
      p.segments.map((s) => s.duration),
      [2, 2, 2, 2],
    );
  });

  test('long GOPs make longer segments; the target duration is the ceiling of the longest and never shrinks', () => {
    const hls = new HlsSegmenter();
    const src = new Source(0, 10); // keyframe every 2.5 s
    for (let i = 0; i < 31; i++) hls.play(src.chunk());
    let p = parse(hls.playlist() as string);
    assert.deepEqual(
      p.segments.map((s) => s.duration),
      [2.52, 2.48, 2.52],
    );
    assert.equal(p.targetDuration, 3);
    const short = new Source(src.ptsMs, 4, 1_800_000_000_000);
    for (let i = 0; i < 100; i++) hls.play(short.chunk());
    p = parse(hls.playlist() as string);
    assert.ok(p.segments.every((s) => s.duration === 2));
    assert.equal(p.targetDuration, 3, 'EXT-X-TARGETDURATION must not change downwards');
  });

  test('a skipped chunk: the segment before the gap ends there, the next starts at a keyframe after a discontinuity', () => {
    const hls = new HlsSegmenter();
    const src = new Source();
    for (let i = 0; i < 10; i++) hls.play(src.chunk()); // segment 0 done, segment 1 holds 2 chunks
    src.chunk(); // lost
    hls.skip();
    hls.play(src.chunk()); // not a keyframe chunk: dropped
    assert.equal(hls.droppedChunks, 1);
    for (let i = 0; i < 9; i++) hls.play(src.chunk());
    const p = parse(hls.playlist() as string);
    assert.deepEqual(
      p.segments.map((s) => [s.uri, s.duration, s.discontinuity]),
      [
        ['live/0.ts', 2, false],
        ['live/1.ts', 0.52, false], // 13 frames of 40 ms
        ['live/2.ts', 2, true],
      ],
    );
    assert.equal(p.discontinuitySequence, 0);
  });

  test('the discontinuity sequence counts the discontinuities that left the window', () => {
    const hls = new HlsSegmenter({ windowSegments: 3 });
    const src = new Source();
    for (let i = 0; i < 9; i++) hls.play(src.chunk());
    hls.skip();
    for (let i = 0; i < 8 * 6 + 1; i++) hls.play(src.chunk());
    const p = parse(hls.playlist() as string);
    assert.equal(p.segments.length, 3);
    assert.ok(p.segments.every((s) => !s.discontinuity));
    assert.equal(p.discontinuitySequence, 1);
  });

  test('a timeline restart (new encoder run) is a discontinuity even without a skip', () => {
    const hls = new HlsSegmenter();
    let src = new Source(50_000);
    for (let i = 0; i < 6; i++) hls.play(src.chunk());
    src = new Source(1_000, 4, 1_700_000_010_000); // PTS back to 1 s
    for (let i = 0; i < 9; i++) hls.play(src.chunk());
    const p = parse(hls.playlist() as string);
    assert.deepEqual(
      p.segments.map((s) => [s.duration, s.discontinuity]),
      [
        [1.52, false],
        [2, true],
      ],
    );
  });

  test('PTS wrapping round 2^33 does not break the timeline', () => {
    const hls = new HlsSegmenter();
    const wrapMs = 2 ** 33 / 90;
    const src = new Source(wrapMs - 3000);
    for (let i = 0; i < 33; i++) hls.play(src.chunk());
    const p = parse(hls.playlist() as string);
    assert.deepEqual(
      p.segments.map((s) => [s.duration, s.discontinuity]),
      [
        [2, false],
        [2, false],
        [2, false],
        [2, false],
      ],
    );
  });

  test('without video timestamps, durations come from capture times', () => {
    const hls = new HlsSegmenter();
    const src = new Source();
    for (let i = 0; i < 17; i++) hls.play(src.chunk({ video: false }));
    const p = parse(hls.playlist() as string);
    assert.deepEqual(
      p.segments.map((s) => s.duration),
      [2, 2],
    );
  });

  test('the last chunk of the channel closes the last segment and ends the playlist', () => {
    const hls = new HlsSegmenter();
    const src = new Source();
    let changes = 0;
    hls.onChange(() => changes++);
    for (let i = 0; i < 10; i++) hls.play(src.chunk());
    hls.play(src.chunk({ flags: FLAG_END_OF_STREAM }));
    assert.equal(hls.ended, true);
    hls.play(src.chunk());
    const p = parse(hls.playlist() as string);
    assert.equal(p.ended, true);
    assert.equal(p.lines.at(-1), '#EXT-X-ENDLIST');
    assert.deepEqual(
      p.segments.map((s) => s.duration),
      [2, 0.76],
    );
    assert.equal(changes, 3);
  });

  test('a channel that ends before any segment still gets a (empty) ended playlist', () => {
    const hls = new HlsSegmenter();
    hls.end();
    const p = parse(hls.playlist() as string);
    assert.equal(p.ended, true);
    assert.equal(p.segments.length, 0);
  });

  test('a segment without keyframes for too long is closed rather than grown without bound', () => {
    const hls = new HlsSegmenter({ maxSegmentBytes: 20_000 });
    const src = new Source(0, 1000);
    for (let i = 0; i < 40; i++) hls.play(src.chunk());
    assert.equal(hls.held().length, 1);
    assert.ok((hls.held()[0]?.data.length ?? 0) <= 20_000 + 20 * 188);
    assert.ok(hls.droppedChunks > 0);
  });
});
