// A full node makes room for newcomers by naming the neighbour idle for longest, and only one
// idle for at least idleEvictMs (3 s for one never active since it came): idle connections
// cannot keep a broadcaster closed for good.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { FLAG_KEYFRAME, signChunk } from '../../src/protocol/chunk.js';
import { MsgType, PROTOCOL_VERSION } from '../../src/protocol/codec.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { drainTransmits, testChunk } from '../helpers/cores.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('idle')}/k.key`);

/** A source with room for two, full with `peers`, neither relaying (so it pushes to neither). */
function fullSource(peers: [string, string]): PeerCore {
  const source = new PeerCore(
    { role: 'source', maxNeighbours: 2, idleEvictMs: 10_000 },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(1) },
  );
  for (const peer of peers) {
    source.handleConnected(0, peer);
    source.handleMessage(0, peer, {
      type: MsgType.Hello,
      version: PROTOCOL_VERSION,
      channelKey: key.publicKey,
      peerId: new Uint8Array(16).fill(peer.charCodeAt(0)),
      role: 'viewer',
      relays: false,
    });
  }
  return source;
}

test('the neighbour idle for longest, past the threshold, is the one to drop', () => {
  const source = fullSource(['a', 'b']);
  assert.equal(source.acceptsNeighbour(), false);
  assert.equal(source.idleNeighbour(2999), undefined, 'nobody is idle long enough yet');
  assert.equal(source.idleNeighbour(3001), 'a', 'a neighbour never active since it came goes after 3 s');
  source.publish(
    7000,
    signChunk({ channelKey: key.publicKey, seq: 1, captureTimeMs: 7000, flags: FLAG_KEYFRAME, payload: new Uint8Array(10) }, key.sign),
  );
  // b asks for something at 8 s: a has done nothing since it connected.
  source.handleMessage(8000, 'b', { type: MsgType.Request, seq: 1 });
  assert.equal(source.idleNeighbour(10_001), 'a');
  source.handleDisconnected(10_001, 'a');
  assert.equal(source.acceptsNeighbour(), true);
  assert.equal(source.idleNeighbour(12_000), undefined, 'b was active 4 s ago');
  assert.equal(source.idleNeighbour(18_001), 'b');
});

test('asking for chunks nobody holds is no activity: such a link becomes the idle one to drop', () => {
  const source = fullSource(['squatter', 'viewer']);
  for (let t = 0; t < 20_000; t += 1000) {
    source.publish(t, testChunk(key, 100 + t / 1000, t, 100, 1));
    // The squatter asks every second for a chunk that does not exist; the viewer for a real one.
    source.handleMessage(t + 1, 'squatter', { type: MsgType.Request, seq: 999_999 });
    source.handleMessage(t + 1, 'viewer', { type: MsgType.Request, seq: 100 + t / 1000 });
    drainTransmits(source);
  }
  assert.equal(source.idleNeighbour(20_000), 'squatter');
});
