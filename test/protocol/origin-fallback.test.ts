// The HTTP-origin fallback: a viewer whose next chunk is about to miss its deadline, with no
// neighbour offering it, asks its runtime to fetch it from the broadcaster's origin; what comes
// back is verified like any chunk, and played.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { type Chunk, FLAG_KEYFRAME, signChunk } from '../../src/protocol/chunk.js';
import { MsgType, PROTOCOL_VERSION } from '../../src/protocol/codec.js';
import type { CoreEvent, PeerCoreConfig } from '../../src/protocol/core-types.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('origin')}/k.key`);
const chunk = (seq: number): Chunk =>
  signChunk(
    {
      channelKey: key.publicKey,
      seq,
      captureTimeMs: 1_000_000 + seq * 250,
      flags: seq % 4 === 0 ? FLAG_KEYFRAME : 0,
      payload: new Uint8Array(500).fill(seq),
    },
    key.sign,
  );

/** A viewer linked to the source (or to one relaying viewer) at 1_000_000 ms, hello exchanged. */
function viewerOfSource(config: Partial<PeerCoreConfig>, role: 'source' | 'viewer' = 'source'): PeerCore {
  const viewer = new PeerCore(
    { role: 'viewer', ...config },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(5) },
  );
  viewer.handleConnected(1_000_000, 'src');
  viewer.handleMessage(1_000_000, 'src', {
    type: MsgType.Hello,
    version: PROTOCOL_VERSION,
    channelKey: key.publicKey,
    peerId: new Uint8Array(16).fill(1),
    role,
  });
  return viewer;
}

function events(core: PeerCore): CoreEvent[] {
  const out: CoreEvent[] = [];
  for (let e = core.pollEvent(); e !== undefined; e = core.pollEvent()) out.push(e);
  while (core.pollTransmit() !== undefined) {}
  return out;
}

test('a chunk nobody offers is fetched from the origin before its deadline, verified and played', () => {
  const viewer = viewerOfSource({ originFallback: true, minStartLagMs: 0 });
  // Four chunks arrive on time, then the source link goes quiet.
  for (let seq = 0; seq < 4; seq++) viewer.handleMessage(1_000_000 + seq * 250 + 50, 'src', { type: MsgType.ChunkData, chunk: chunk(seq) });
  let all = events(viewer);
  assert.equal(all.filter((e) => e.type === 'play').length, 4);
  let asked: number[] = [];
  let now = 1_001_000;
  for (; now < 1_004_000 && asked.length === 0; now += 100) {
    viewer.handleTimeout(now);
    asked = events(viewer).flatMap((e) => (e.type === 'origin-fetch' ? [e.seq] : []));
  }
  assert.deepEqual(asked, [4], 'the next chunk was not asked from the origin');
  const deadline = 1_000_000 + 4 * 250 + 50 + 1500;
  assert.ok(now < deadline, `asked at ${now}, after the deadline ${deadline}`);
  // A forged answer is refused; the real one is played.
  assert.equal(viewer.handleOriginChunk(now, { ...chunk(4), payload: new Uint8Array(500) }), false);
  assert.equal(viewer.handleOriginChunk(now, chunk(4)), true);
  all = events(viewer);
  assert.deepEqual(
    all.flatMap((e) => (e.type === 'play' ? [e.chunk.seq] : [])),
    [4],
  );
  assert.equal(viewer.getStats().chunksSkipped, 0);
});

test('without the fallback turned on, nothing is asked from the origin', () => {
  const viewer = viewerOfSource({});
  for (let seq = 0; seq < 4; seq++) viewer.handleMessage(1_000_000 + seq * 250 + 50, 'src', { type: MsgType.ChunkData, chunk: chunk(seq) });
  const asked: number[] = [];
  for (let now = 1_001_000; now < 1_004_000; now += 100) {
    viewer.handleTimeout(now);
    asked.push(...events(viewer).flatMap((e) => (e.type === 'origin-fetch' ? [e.seq] : [])));
  }
  assert.deepEqual(asked, []);
});

test('while chunks keep coming from a neighbour, only a hole behind newer ones is asked from the origin, not the edge', () => {
  // A viewer neighbour: the source is taken to hold a hole behind newer chunks and is asked for
  // it first (protocol 7).
  const viewer = viewerOfSource({ originFallback: true, minStartLagMs: 0 }, 'viewer');
  // The link slows down after the start: from chunk 4 on, each lands a second later than the
  // player wants it, and chunk 6 never comes.
  const arrival = (seq: number) => 1_000_000 + seq * 250 + (seq < 4 ? 50 : 1050);
  const asked: number[] = [];
  for (let now = 1_000_000; now < 1_005_000; now += 50) {
    for (let seq = 0; seq < 18; seq++)
      if (seq !== 6 && arrival(seq) === now) viewer.handleMessage(now, 'src', { type: MsgType.ChunkData, chunk: chunk(seq) });
    viewer.handleTimeout(now);
    asked.push(...events(viewer).flatMap((e) => (e.type === 'origin-fetch' ? [e.seq] : [])));
  }
  assert.ok(asked.includes(6), `the hole was not asked from the origin: ${asked}`);
  assert.deepEqual(
    asked.filter((seq) => seq > 6),
    [],
    `chunks on their way were asked from the origin too: ${asked}`,
  );
});
