// TsRemuxer in node (no browser): real ffmpeg output cut by TsChunker becomes an init segment
// and one moof+mdat per chunk, continuous in time; a missing chunk restarts video at the next
// keyframe; a source restart (timestamps jumping back) is re-based to stay continuous.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, test } from 'node:test';
import { type RemuxSegment, TsRemuxer } from '../../src/browser/ts-remuxer.js';
import { DEFAULT_TEST_PATTERN, ffmpegPath, testPatternArgs } from '../../src/media/ffmpeg.js';
import { TsChunker } from '../../src/media/ts-chunker.js';
import { FLAG_KEYFRAME } from '../../src/protocol/chunk.js';

interface TestChunk {
  seq: number;
  captureTimeMs: number;
  flags: number;
  payload: Uint8Array;
}

/** Four seconds of the broadcaster's test pattern, made as fast as ffmpeg can, cut into chunks. */
function makeChunks(firstSeq: number): TestChunk[] {
  const args = testPatternArgs({ ...DEFAULT_TEST_PATTERN, width: 320, height: 180 }).filter((a) => a !== '-re');
  args.splice(args.indexOf('pipe:1'), 0, '-t', '4');
  const r = spawnSync(ffmpegPath(), args, { maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `ffmpeg failed: ${r.stderr}`);
  const ts = new Uint8Array(r.stdout);
  const chunker = new TsChunker();
  const pieces = [];
  for (let o = 0; o < ts.length; o += 188 * 7) pieces.push(...chunker.push(ts.subarray(o, o + 188 * 7), o));
  const last = chunker.flush(ts.length);
  if (last !== undefined) pieces.push(last);
  // The stream as a viewer gets it: starting at a keyframe chunk.
  const first = pieces.findIndex((p) => (p.flags & FLAG_KEYFRAME) !== 0);
  return pieces
    .slice(first)
    .map((p, i) => ({ seq: firstSeq + i, captureTimeMs: 1_700_000_000_000 + i * 250, flags: p.flags, payload: p.payload }));
}

function boxTypes(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const types: string[] = [];
  for (let o = 0; o + 8 <= bytes.length; ) {
    const size = view.getUint32(o);
    types.push(String.fromCharCode(...bytes.subarray(o + 4, o + 8)));
    assert.ok(size >= 8 && o + size <= bytes.length, `box ${types.at(-1)} at ${o} has a bad size ${size}`);
    o += size;
  }
  return types;
}

let chunks: TestChunk[];
before(() => {
  chunks = makeChunks(5000);
});

test('each chunk becomes one fragment after a single init segment, continuous in time', () => {
  const r = new TsRemuxer();
  const out: RemuxSegment[] = [];
  for (const c of chunks) out.push(...r.push(c));
  assert.ok(out.length >= chunks.length - 1, `${out.length} fragments for ${chunks.length} chunks`);
  const first = out[0] as RemuxSegment;
  assert.ok(first.init !== undefined && first.keyframe);
  assert.match(first.init.mimeType, /^video\/mp4; codecs="avc1\.[0-9a-f]{6},mp4a\.40\.2"$/);
  assert.deepEqual(boxTypes(first.init.segment), ['ftyp', 'moov']);
  assert.equal(out.filter((s) => s.init !== undefined).length, 1, 'the configuration never changes, one init segment');
  for (const s of out) assert.deepEqual(boxTypes(s.media), ['moof', 'mdat', 'moof', 'mdat'], `fragment ${s.seq}: audio then video`);
  for (let i = 1; i < out.length; i++) {
    const prev = out[i - 1] as RemuxSegment;
    const cur = out[i] as RemuxSegment;
    assert.equal(cur.seq, prev.seq + 1);
    assert.ok(
      Math.abs(cur.startS - prev.endS) < 0.05,
      `hole or overlap between ${prev.seq} (ends ${prev.endS}) and ${cur.seq} (starts ${cur.startS})`,
    );
  }
  // Original timestamps are kept: the first fragment starts where ffmpeg's clock did, not at 0.
  assert.ok(first.startS > 0);
  assert.equal(r.counters.droppedVideoFrames, 0);
});

test('after a missing chunk, video restarts at the next keyframe', () => {
  const r = new TsRemuxer();
  const missing = chunks.findIndex((c, i) => i > 1 && (c.flags & FLAG_KEYFRAME) === 0);
  const nextKey = chunks.findIndex((c, i) => i > missing && (c.flags & FLAG_KEYFRAME) !== 0);
  assert.ok(missing > 0 && nextKey > missing + 1, 'the sample needs a non-keyframe chunk followed by another before a keyframe');
  const out: RemuxSegment[] = [];
  chunks.forEach((c, i) => {
    if (i === missing) r.discontinuity();
    else out.push(...r.push(c));
  });
  const seqs = out.map((s) => s.seq);
  const after = out.filter((s) => s.seq > (chunks[missing] as TestChunk).seq);
  assert.equal(after[0]?.seq, (chunks[nextKey] as TestChunk).seq, `fragments: ${seqs.join(',')}`);
  assert.equal(after[0]?.keyframe, true);
  assert.equal(after[0]?.init, undefined, 'same configuration, no new init segment');
  assert.ok(r.counters.droppedVideoFrames > 0);
});

test('a source restart (timestamps jumping back) is re-based after the media already given', () => {
  const r = new TsRemuxer();
  const out: RemuxSegment[] = [];
  for (const c of chunks) out.push(...r.push(c));
  const end = (out.at(-1) as RemuxSegment).endS;
  const restarted = chunks.map((c, i) => ({ ...c, seq: (chunks.at(-1) as TestChunk).seq + 1 + i }));
  const more: RemuxSegment[] = [];
  r.discontinuity();
  for (const c of restarted) more.push(...r.push(c));
  assert.equal(r.counters.timelineResets, 1);
  assert.ok(
    Math.abs((more[0] as RemuxSegment).startS - end) < 0.1,
    `restart lands at ${(more[0] as RemuxSegment).startS}, previous end ${end}`,
  );
});

test('garbage and truncated payloads produce no fragments and no exceptions', () => {
  const r = new TsRemuxer();
  const junk = new Uint8Array(188 * 20).map((_, i) => (i * 7919) & 0xff);
  assert.deepEqual(r.push({ seq: 1, captureTimeMs: 0, flags: FLAG_KEYFRAME, payload: junk }), []);
  const first = chunks[0] as TestChunk;
  assert.deepEqual(r.push({ ...first, seq: 2, payload: first.payload.subarray(0, 1000) }), []);
  // And it still plays what comes next.
  r.discontinuity();
  const out = chunks.slice(0, 8).flatMap((c, i) => r.push({ ...c, seq: 3 + i }));
  assert.ok(out.length > 0 && out[0]?.init !== undefined);
});
