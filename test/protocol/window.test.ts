// The window of chunks a node keeps for relaying: the newest windowChunks, whatever number the
// channel's numbering starts from, and started over when a restarted broadcaster's numbers jump.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/node/keys.js';
import { type Chunk, FLAG_KEYFRAME, signChunk } from '../../src/protocol/chunk.js';
import type { PeerRole } from '../../src/protocol/codec.js';
import { MsgType, PROTOCOL_VERSION } from '../../src/protocol/codec.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('window')}/k.key`);
const chunk = (seq: number, captureTimeMs: number): Chunk =>
  signChunk(
    {
      channelKey: key.publicKey,
      seq,
      captureTimeMs,
      flags: seq % 4 === 0 ? FLAG_KEYFRAME : 0,
      payload: new Uint8Array(200).fill(seq & 0xff),
    },
    key.sign,
  );

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
