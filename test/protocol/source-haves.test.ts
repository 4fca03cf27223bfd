// Protocol 7: the source tells relaying viewers of keyframes only, and a viewer takes the source
// to hold every chunk up to the newest one it verified, never up to a mere claim.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import type { Chunk } from '../../src/protocol/chunk.js';
import { MsgType } from '../../src/protocol/codec.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { connectPeer, drainTransmits as sent, testChunk } from '../helpers/cores.js';
import { tempDir } from '../helpers/processes.js';

const key = loadOrCreateKey(`${tempDir('source-haves')}/k.key`).key;
const T0 = 1_000_000;
const chunk = (seq: number): Chunk => testChunk(key, seq, T0 + seq * 100, 500, 10);

function core(role: 'source' | 'viewer'): PeerCore {
  return new PeerCore(
    { role, minStartLagMs: 0 },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(3) },
  );
}

function link(c: PeerCore, peer: string, role: 'source' | 'viewer', relays = true): void {
  connectPeer(c, T0, peer, role, key, relays);
}

/** Chunks 0 and 2 arrive from the source 'src'; what the viewer then asks of it. */
function holesAskedOfSource(viewer: PeerCore): number[] {
  viewer.handleMessage(T0 + 50, 'src', { type: MsgType.ChunkData, chunk: chunk(0) });
  viewer.handleMessage(T0 + 250, 'src', { type: MsgType.ChunkData, chunk: chunk(2) });
  const requests: number[] = [];
  for (let now = T0 + 300; now < T0 + 1500; now += 50) {
    viewer.handleTimeout(now);
    for (const { to, msg } of sent(viewer)) if (to === 'src' && msg.type === MsgType.Request) requests.push(msg.seq);
  }
  return requests;
}

test('the source tells a relaying viewer of keyframes only, and a viewer that does not relay of every chunk', () => {
  const source = core('source');
  link(source, 'a', 'viewer');
  link(source, 'b', 'viewer');
  link(source, 'rider', 'viewer', false);
  sent(source);
  const haves = new Map<string, number[]>();
  for (let seq = 0; seq < 20; seq++) {
    source.publish(T0 + seq * 100, chunk(seq));
    for (const { to, msg } of sent(source)) if (msg.type === MsgType.Have) haves.set(to, [...(haves.get(to) ?? []), msg.seq]);
  }
  assert.deepEqual(
    haves.get('rider'),
    Array.from({ length: 20 }, (_, i) => i),
  );
  for (const relay of ['a', 'b']) {
    const told = haves.get(relay) ?? [];
    assert.ok(
      told.every((seq) => seq % 10 === 0),
      `${relay} was told of chunks that are no keyframes: ${told}`,
    );
  }
});

test('a viewer asks the source for a chunk it was never told of, once a newer one arrived', () => {
  const viewer = core('viewer');
  link(viewer, 'src', 'source');
  sent(viewer);
  assert.deepEqual(holesAskedOfSource(viewer), [1]);
});

test("a neighbour's claim of a chunk ahead does not make a viewer ask the source for it", () => {
  const viewer = core('viewer');
  link(viewer, 'src', 'source');
  link(viewer, 'liar', 'viewer');
  sent(viewer);
  viewer.handleMessage(T0 + 50, 'src', { type: MsgType.ChunkData, chunk: chunk(0) });
  // It claims chunk 5, then will not send it: only the source could, if it had made it.
  viewer.handleMessage(T0 + 60, 'liar', { type: MsgType.Have, seq: 5, flags: 0 });
  const asked: { to: string; seq: number }[] = [];
  for (let now = T0 + 100; now < T0 + 2000; now += 50) {
    viewer.handleTimeout(now);
    for (const { to, msg } of sent(viewer)) {
      if (msg.type !== MsgType.Request) continue;
      asked.push({ to, seq: msg.seq });
      if (to === 'liar') viewer.handleMessage(now + 10, 'liar', { type: MsgType.Busy, seq: msg.seq, retryMs: 2000 });
    }
  }
  assert.deepEqual(
    asked.filter((a) => a.to === 'src'),
    [],
  );
  assert.ok(
    asked.some((a) => a.to === 'liar' && a.seq === 5),
    `the claim was not even tried: ${JSON.stringify(asked)}`,
  );
});

test('a peer that only claims to be the source does not take the real source’s place', () => {
  const viewer = core('viewer');
  link(viewer, 'src', 'source');
  link(viewer, 'fake', 'source');
  sent(viewer);
  viewer.handleDisconnected(T0 + 10, 'fake');
  assert.deepEqual(holesAskedOfSource(viewer), [1]);
});
