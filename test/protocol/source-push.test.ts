// The source pushes each fresh chunk to one relaying neighbour in turn, and never to a viewer
// that said it does not relay: pushing there would spend the source's one copy on nobody.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/crypto/keys.js';
import { FLAG_KEYFRAME, signChunk } from '../../src/protocol/chunk.js';
import { MsgType, PROTOCOL_VERSION } from '../../src/protocol/codec.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { tempDir } from '../helpers/processes.js';

test('the source pushes to relaying viewers in turn, never to one that does not relay', () => {
  const { key } = loadOrCreateKey(`${tempDir('push')}/k.key`);
  const source = new PeerCore(
    { role: 'source' },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(1) },
  );
  const hello = (relays: boolean) =>
    ({
      type: MsgType.Hello,
      version: PROTOCOL_VERSION,
      channelKey: key.publicKey,
      peerId: new Uint8Array(16).fill(relays ? 1 : 2),
      role: 'viewer',
      relays,
    }) as const;
  for (const [peer, relays] of [
    ['freeRider', false],
    ['a', true],
    ['b', true],
  ] as const) {
    source.handleConnected(0, peer);
    source.handleMessage(0, peer, hello(relays));
  }
  while (source.pollTransmit() !== undefined) {}
  const pushedTo: string[] = [];
  for (let seq = 0; seq < 6; seq++) {
    source.publish(
      seq * 250,
      signChunk(
        { channelKey: key.publicKey, seq, captureTimeMs: seq * 250, flags: seq === 0 ? FLAG_KEYFRAME : 0, payload: new Uint8Array(100) },
        key.sign,
      ),
    );
    for (let t = source.pollTransmit(); t !== undefined; t = source.pollTransmit())
      if (t.msg.type === MsgType.ChunkData) pushedTo.push(t.to);
  }
  assert.deepEqual(pushedTo, ['a', 'b', 'a', 'b', 'a', 'b']);
});
