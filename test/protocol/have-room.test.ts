// Protocol 7: a HAVE says when its sender's upload queue takes a request. A viewer leaves a full
// neighbour alone until then and asks another holder, without a Busy round trip.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { type Chunk, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';
import { HAVE_ROOM_UNIT_MS, haveRoomFlags, haveRoomMs, MsgType } from '../../src/protocol/codec.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { connectPeer, drainTransmits as sent, testChunk } from '../helpers/cores.js';
import { tempDir } from '../helpers/processes.js';

const key = loadOrCreateKey(`${tempDir('have-room')}/k.key`).key;
const T0 = 1_000_000;
const chunk = (seq: number): Chunk => testChunk(key, seq, T0 + seq * 100, 400, 10);

function viewer(config: { uploadLimitBps?: number } = {}): PeerCore {
  return new PeerCore(
    { role: 'viewer', minStartLagMs: 0, ...config },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(7) },
  );
}

function link(c: PeerCore, peer: string): void {
  connectPeer(c, T0, peer, 'viewer', key);
}

test('the room a HAVE carries survives the flags byte beside the chunk flags', () => {
  assert.equal(haveRoomMs(haveRoomFlags(0) | FLAG_KEYFRAME), 0);
  assert.equal(haveRoomMs(haveRoomFlags(1) | FLAG_KEYFRAME), HAVE_ROOM_UNIT_MS);
  assert.equal(haveRoomMs(haveRoomFlags(100)), 4 * HAVE_ROOM_UNIT_MS);
  assert.equal(haveRoomMs(haveRoomFlags(60_000)), 15 * HAVE_ROOM_UNIT_MS);
  assert.equal(haveRoomFlags(60_000) & FLAG_KEYFRAME, 0);
});

test('a viewer asks a holder with room rather than one whose HAVE said its queue is full', () => {
  const v = viewer();
  link(v, 'a');
  link(v, 'b');
  v.handleMessage(T0 + 10, 'a', { type: MsgType.ChunkData, chunk: chunk(0) });
  sent(v);
  // a has served us (it is proven), but its queue is full for 300 ms; b has room.
  for (let seq = 1; seq <= 4; seq++) {
    v.handleMessage(T0 + 20, 'a', { type: MsgType.Have, seq, flags: haveRoomFlags(300) });
    v.handleMessage(T0 + 20, 'b', { type: MsgType.Have, seq, flags: 0 });
  }
  const asked: string[] = [];
  for (let now = T0 + 20; now < T0 + 300; now += 20) {
    v.handleTimeout(now);
    for (const { to, msg } of sent(v)) if (msg.type === MsgType.Request) asked.push(`${to}${msg.seq}`);
  }
  assert.ok(asked.length > 0, 'nothing was asked');
  assert.deepEqual(
    asked.filter((a) => a.startsWith('a')),
    [],
    `the full neighbour was asked: ${asked}`,
  );
});

test('a capped viewer whose queue is full says so in the HAVEs it sends', () => {
  // 40 kbit/s: one 400-byte chunk takes 80 ms to leave.
  const v = viewer({ uploadLimitBps: 40_000 });
  link(v, 'a');
  link(v, 'b');
  link(v, 'c');
  v.handleMessage(T0 + 10, 'a', { type: MsgType.ChunkData, chunk: chunk(0) });
  v.handleMessage(T0 + 10, 'a', { type: MsgType.ChunkData, chunk: chunk(1) });
  sent(v);
  // b and c each ask for both: the queue fills past its bound.
  for (const peer of ['b', 'c']) for (const seq of [0, 1]) v.handleMessage(T0 + 20, peer, { type: MsgType.Request, seq });
  sent(v);
  v.handleMessage(T0 + 30, 'a', { type: MsgType.ChunkData, chunk: chunk(2) });
  const haves = sent(v).flatMap(({ msg }) => (msg.type === MsgType.Have ? [msg] : []));
  assert.ok(haves.length > 0, 'no HAVE went out');
  for (const h of haves) assert.ok(haveRoomMs(h.flags) > 0, `a HAVE said there was room: flags ${h.flags}`);
});
