// The window of chunks a node keeps for relaying: the newest windowChunks, whatever number the
// channel's numbering starts from, and started over when a restarted broadcaster's numbers jump.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { type Chunk, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';
import { ChunkWindow } from '../../src/protocol/chunk-window.js';
import type { PeerRole } from '../../src/protocol/codec.js';
import { MsgType, PROTOCOL_VERSION } from '../../src/protocol/codec.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { testChunk } from '../helpers/cores.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('window')}/k.key`);
const chunk = (seq: number, captureTimeMs: number): Chunk => testChunk(key, seq, captureTimeMs, 200, 4);

function core(role: PeerRole, windowChunks: number): PeerCore {
  return new PeerCore(
    { role, windowChunks },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(1) },
  );
}

/** The sequence numbers in [from, to] the core still holds. */
function held(c: PeerCore, from: number, to: number): number[] {
  const out: number[] = [];
  for (let seq = from; seq <= to; seq++) if (c.getChunk(seq) !== undefined) out.push(seq);
  return out;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('a source keeps its newest windowChunks chunks, from any first number', () => {
  for (const first of [0, 7, 9_000_000]) {
    const source = core('source', 20);
    for (let i = 0; i < 50; i++) {
      source.publish(i * 100, chunk(first + i, i * 100));
      assert.deepEqual(held(source, first, first + i), range(Math.max(first, first + i - 19), first + i), `first ${first}, after ${i + 1}`);
    }
  }
});

test('a viewer drops the old run at a broadcaster restart and keeps a window of the new one', () => {
  const viewer = core('viewer', 10);
  const hello = { type: MsgType.Hello, version: PROTOCOL_VERSION, channelKey: key.publicKey, role: 'source' } as const;
  let now = 0;
  viewer.handleConnected(now, 'old');
  viewer.handleMessage(now, 'old', { ...hello, peerId: new Uint8Array(16).fill(1) });
  for (let seq = 1000; seq < 1025; seq++) {
    now = (seq - 1000) * 100;
    viewer.handleMessage(now, 'old', { type: MsgType.ChunkData, chunk: chunk(seq, now) });
  }
  assert.deepEqual(held(viewer, 990, 1030), range(1015, 1024));
  viewer.handleDisconnected(now, 'old');
  now += 2000;
  viewer.handleConnected(now, 'new');
  viewer.handleMessage(now, 'new', { ...hello, peerId: new Uint8Array(16).fill(2) });
  for (let seq = 9000; seq < 9016; seq++) {
    now += 100;
    viewer.handleMessage(now, 'new', { type: MsgType.Have, seq, flags: seq % 4 === 0 ? FLAG_KEYFRAME : 0 });
    viewer.handleTimeout(now);
    viewer.handleMessage(now, 'new', { type: MsgType.ChunkData, chunk: chunk(seq, now) });
  }
  assert.deepEqual(held(viewer, 990, 1030), [], 'the old run is gone');
  assert.deepEqual(held(viewer, 8990, 9030), range(9006, 9015));
});

test('ChunkWindow believes claims only within reach, and forgets first offers that fall out of it', () => {
  const w = new ChunkWindow({ windowChunks: 10, maxAheadChunks: 5 });
  // Before any chunk, every claim is in reach: the first offers are all kept.
  for (const seq of [100, 120, 500]) {
    assert.equal(w.inReach(seq), true);
    w.noteOffered(seq, seq);
  }
  assert.equal(w.horizon(), 500);
  // The first chunk (100) bounds what is believed: up to 105, and first offers past it go.
  w.add(chunk(100, 0));
  assert.equal(w.horizon(), 105);
  assert.deepEqual([w.firstSeenMs(100), w.firstSeenMs(120), w.firstSeenMs(500)], [100, undefined, undefined]);
  assert.equal(w.inReach(105), true);
  assert.equal(w.inReach(106), false);
  assert.equal(w.inReach(99), true, 'the window reaches back windowChunks - 1 from the newest');
  assert.equal(w.inReach(90), false);
  // Moving on: offers behind the window are forgotten with the chunks.
  w.noteOffered(103, 7);
  for (let seq = 101; seq <= 115; seq++) w.add(chunk(seq, 0));
  assert.equal(w.start(), 106);
  assert.equal(w.firstSeenMs(103), undefined);
  assert.equal(w.has(105), false);
  assert.equal(w.has(106), true);
  assert.equal(w.newestKey, 112, 'newest keyframe (every fourth number) held');
  w.clear();
  assert.deepEqual([w.newest, w.newestKnown, w.horizon(), w.has(115)], [-1, -1, -1, false]);
});

test('ChunkWindow keeps the right chunk and first offer as its numbers wrap around its slots many times, and after a jump', () => {
  const w = new ChunkWindow({ windowChunks: 10, maxAheadChunks: 5 });
  for (let seq = 0; seq <= 100; seq++) {
    w.noteOffered(seq + 5, 1000 + seq);
    w.add(chunk(seq, 0));
    assert.equal(w.get(seq)?.seq, seq);
  }
  assert.deepEqual(
    Array.from({ length: 30 }, (_, i) => 80 + i).filter((s) => w.has(s)),
    Array.from({ length: 10 }, (_, i) => 91 + i),
  );
  // Numbers sharing a slot with a held one are not mistaken for it.
  assert.equal(w.get(81), undefined);
  assert.equal(w.get(111), undefined);
  // First offers within reach survive the wraps; those behind the window are gone.
  assert.equal(w.firstSeenMs(105), 1100);
  assert.equal(w.firstSeenMs(95), 1090);
  assert.equal(w.firstSeenMs(90), undefined);
  // A jump far ahead (a source that restarted its numbering forward) leaves nothing of the old run.
  w.add(chunk(10_000, 0));
  assert.deepEqual([w.has(100), w.has(10_000), w.firstSeenMs(105), w.start()], [false, true, undefined, 9991]);
});
