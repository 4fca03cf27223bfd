// CoreDriver's view of who it is linked to, which WebRTC signalling uses to leave offers from
// peers we already have unanswered (a second link would be dropped as a duplicate at once).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, nodeVerify } from '../../src/node/keys.js';
import { encodeMessage, MsgType, PROTOCOL_VERSION } from '../../src/protocol/codec.js';
import { bytesToHex } from '../../src/protocol/hex.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { CoreDriver } from '../../src/runtime/core-driver.js';
import type { Connection, ConnectionHandlers } from '../../src/transport/transport.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('driver')}/k.key`);
const quiet = { debug: () => {}, warn: () => {} };

/** A connection whose far side is driven by the test. */
function fakeConnection(): Connection & { handlers: ConnectionHandlers | undefined; closed: boolean } {
  return {
    remoteAddress: '192.0.2.7',
    remotePort: 4000,
    bufferedBytes: 0,
    handlers: undefined,
    closed: false,
    send() {},
    close() {
      this.closed = true;
    },
    setHandlers(h) {
      this.handlers = h;
    },
  };
}

test('linkedTo: a peer is known by its id prefix once its hello arrives, and forgotten when the link closes', () => {
  const core = new PeerCore(
    { role: 'viewer' },
    { channelKey: key.publicKey, localPeerId: new Uint8Array(16), verify: nodeVerify, random: seededRandom(1) },
  );
  const driver = new CoreDriver(core, '00'.repeat(16), quiet);
  const remoteId = new Uint8Array(16).fill(0xab);
  const prefix = bytesToHex(remoteId).slice(0, 20);
  const conn = fakeConnection();
  driver.attach(conn, 'webrtc', false);
  assert.equal(driver.linkedTo(prefix), false, 'known before its hello');
  conn.handlers?.onFrame(
    encodeMessage({ type: MsgType.Hello, version: PROTOCOL_VERSION, channelKey: key.publicKey, peerId: remoteId, role: 'viewer' }),
  );
  assert.equal(driver.linkedTo(prefix), true);
  assert.equal(driver.linkedTo('cd'.repeat(10)), false);
  conn.handlers?.onClose();
  assert.equal(driver.linkedTo(prefix), false);
  driver.stop();
});
