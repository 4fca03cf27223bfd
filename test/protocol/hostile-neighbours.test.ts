// What one neighbour can make a core do: every message kind has a budget (a flood of HAVEs or
// buffer maps gets it dropped, honest traffic never comes near), and a newcomer never starts on
// chunks captured long ago (a replay). Idle links: idle-neighbours.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { CHUNK_MS, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';
import { MsgType, makeBufferMap } from '../../src/protocol/codec.js';
import type { CoreEvent } from '../../src/protocol/core-types.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { connectPeer, testChunk } from '../helpers/cores.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('hostile')}/k.key`);

function viewer(): PeerCore {
  return new PeerCore(
    { role: 'viewer' },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(1) },
  );
}

function events(core: PeerCore): CoreEvent[] {
  const out: CoreEvent[] = [];
  for (let e = core.pollEvent(); e !== undefined; e = core.pollEvent()) out.push(e);
  return out;
}

const misbehaved = (es: CoreEvent[]) => es.flatMap((e) => (e.type === 'misbehaved' ? [`${e.peer}: ${e.code}`] : []));

test('a HAVE flood gets its sender dropped within a second; an honest HAVE per chunk never does', () => {
  const core = viewer();
  connectPeer(core, 0, 'honest', 'viewer', key);
  connectPeer(core, 0, 'flooder', 'viewer', key);
  // Ten minutes of an honest neighbour's HAVEs: one per chunk, with a burst of 100 after a gap.
  let seq = 1000;
  for (let t = 0; t < 600_000; t += CHUNK_MS) core.handleMessage(t, 'honest', { type: MsgType.Have, seq: seq++, flags: 0 });
  for (let i = 0; i < 100; i++) core.handleMessage(600_000, 'honest', { type: MsgType.Have, seq: seq++, flags: 0 });
  assert.deepEqual(misbehaved(events(core)), []);
  // The flooder: 1 MB/s of 3-byte HAVEs is 333 a millisecond.
  let t = 600_000;
  for (let i = 0; i < 333 * 1000 && misbehaved(events(core)).length === 0; i++) {
    core.handleMessage(t, 'flooder', { type: MsgType.Have, seq: 5000 + (i % 50), flags: 0 });
    if (i % 333 === 332) t++;
  }
  assert.ok(t - 600_000 < 1000, `dropped only after ${t - 600_000} ms`);
});

test('a buffer-map flood gets its sender dropped; one map per link is fine', () => {
  const core = viewer();
  connectPeer(core, 0, 'a', 'viewer', key);
  connectPeer(core, 0, 'b', 'viewer', key);
  core.handleMessage(
    10,
    'a',
    makeBufferMap(0, 64, () => true, 0),
  );
  assert.deepEqual(misbehaved(events(core)), []);
  let dropped: string[] = [];
  for (let i = 0; i < 100 && dropped.length === 0; i++) {
    core.handleMessage(
      20 + i,
      'b',
      makeBufferMap(0, 4096, () => true, 0),
    );
    dropped = misbehaved(events(core));
  }
  assert.match(dropped.join(), /b: flood-buffer-maps/);
});

test('a newcomer offered only old chunks does not play them, says so once, and starts when live chunks come', () => {
  const core = viewer();
  const now = 10 * 3600_000;
  connectPeer(core, now, 'replayer', 'viewer', key);
  const old = now - 3 * 3600_000;
  core.handleMessage(now, 'replayer', { type: MsgType.Have, seq: 500, flags: FLAG_KEYFRAME });
  core.handleMessage(now, 'replayer', { type: MsgType.ChunkData, chunk: testChunk(key, 500, old, 100, 1) });
  for (let i = 1; i < 20; i++)
    core.handleMessage(now + i * 100, 'replayer', { type: MsgType.ChunkData, chunk: testChunk(key, 500 + i, old + i * 100, 100, 1) });
  core.handleTimeout(now + 3000);
  const first = events(core);
  assert.equal(first.filter((e) => e.type === 'play').length, 0, 'old chunks were played');
  const notLive = first.filter((e) => e.type === 'not-live');
  assert.equal(notLive.length, 1);
  assert.ok(notLive[0]?.type === 'not-live' && notLive[0].ageMs >= 3 * 3600_000);
  // A live neighbour arrives: its newest keyframe is fresh.
  connectPeer(core, now + 3000, 'live', 'viewer', key);
  const fresh = now + 1000;
  core.handleMessage(now + 3000, 'live', { type: MsgType.Have, seq: 90_000, flags: FLAG_KEYFRAME });
  core.handleMessage(now + 3001, 'live', { type: MsgType.ChunkData, chunk: testChunk(key, 90_000, fresh, 100, 1) });
  core.handleTimeout(now + 3500);
  const later = events(core);
  const played = later.flatMap((e) => (e.type === 'play' ? [e.chunk.seq] : []));
  assert.deepEqual(played, [90_000]);
  assert.equal(later.filter((e) => e.type === 'not-live').length, 0, 'said again');
});
