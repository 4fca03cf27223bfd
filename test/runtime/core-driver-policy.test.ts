// CoreDriver's policy towards its links: a peer that breaks the protocol is dropped and its
// proven key and address refused for a while (a link that proved nothing loses only its
// address); two links to one peer end as one, the same one at both ends; a link to ourselves
// is closed; a peer that does not read what it asked for is cut off once its send buffer
// passes MAX_SEND_BUFFER_BYTES, and only that one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey, type NodeKey, newNodeKey, nodeVerify } from '../../src/crypto/keys.js';
import { encodeMessage, MsgType, type PeerRole, PROTOCOL_VERSION } from '../../src/protocol/codec.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { CoreDriver } from '../../src/runtime/core-driver.js';
import { MAX_SEND_BUFFER_BYTES } from '../../src/runtime/link.js';
import { peerIdHexOf, peerIdOf } from '../../src/runtime/link-auth.js';
import type { Connection, ConnectionHandlers, LinkBinding } from '../../src/transport/transport.js';
import { testChunk } from '../helpers/cores.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('driver-policy')}/k.key`);
const quiet = { debug: () => {}, warn: () => {} };

type FakeConnection = Connection & { handlers: ConnectionHandlers | undefined; closed: boolean; frames: number; bufferedBytes: number };

/** A TCP-like connection from `remote` (its handshake proved the key), driven by the test. */
function fakeConnection(remote: NodeKey | undefined, remoteAddress: string): FakeConnection {
  const binding: LinkBinding =
    remote === undefined
      ? { kind: 'fingerprints', local: 'sha-256 aa', remote: 'sha-256 bb' }
      : { kind: 'key', remoteKey: remote.publicKey };
  return {
    remoteAddress,
    remotePort: 4000,
    bufferedBytes: 0,
    binding,
    handlers: undefined,
    closed: false,
    frames: 0,
    send() {
      this.frames++;
    },
    close() {
      if (this.closed) return;
      this.closed = true;
      this.handlers?.onClose();
    },
    setHandlers(h) {
      this.handlers = h;
    },
  };
}

function newDriver(role: PeerRole = 'viewer', me = newNodeKey()): CoreDriver {
  const core = new PeerCore(
    { role },
    { channelKey: key.publicKey, localPeerId: peerIdOf(me.publicKey), verify: nodeVerify, random: seededRandom(1) },
  );
  return new CoreDriver(core, { identity: me, verify: nodeVerify, log: quiet });
}

/** `remote` links to the driver from `address` and says hello, as a viewer that relays. */
function linkFrom(driver: CoreDriver, remote: NodeKey, address: string, outbound = false): FakeConnection {
  const conn = fakeConnection(remote, address);
  driver.attach(conn, 'tcp', outbound);
  conn.handlers?.onFrame(
    encodeMessage({
      type: MsgType.Hello,
      version: PROTOCOL_VERSION,
      channelKey: key.publicKey,
      peerId: peerIdOf(remote.publicKey),
      role: 'viewer',
    }),
  );
  return conn;
}

test('a peer that sends a malformed frame is dropped, and its key and address are refused', () => {
  const driver = newDriver();
  const bad = newNodeKey();
  const conn = linkFrom(driver, bad, '198.51.100.1');
  assert.equal(conn.closed, false);
  conn.handlers?.onFrame(Uint8Array.of(0xee, 1, 2, 3));
  assert.equal(conn.closed, true, 'a peer sending garbage was kept');
  assert.equal(driver.linkCount, 0);
  assert.equal(driver.isBanned(peerIdHexOf(bad.publicKey)), true, 'its key may come back at once');
  assert.notEqual(driver.refusesAddress('198.51.100.1'), undefined, 'its address may come back at once');
  assert.equal(driver.accepts(peerIdHexOf(bad.publicKey), '203.0.113.1'), false, 'dialling it is allowed');
  // Its key from another address: refused once its hello proves who it is.
  const again = linkFrom(driver, bad, '203.0.113.2');
  assert.equal(again.closed, true, 'the banned key got in from another address');
  // Someone else, elsewhere, is not affected.
  const honest = linkFrom(driver, newNodeKey(), '203.0.113.3');
  assert.equal(honest.closed, false);
  assert.equal(driver.refusesAddress('203.0.113.3'), undefined);
  driver.stop();
});

test('a link that proved no key and breaks the protocol loses only its address', () => {
  const driver = newDriver();
  const conn = fakeConnection(undefined, '198.51.100.2');
  driver.attach(conn, 'webrtc', false);
  conn.handlers?.onFrame(Uint8Array.of(0xee));
  assert.equal(conn.closed, true);
  assert.notEqual(driver.refusesAddress('198.51.100.2'), undefined);
  assert.equal(driver.refusesAddress('198.51.100.3'), undefined, 'a neighbouring address was refused too');
  driver.stop();
});

test('two links to one peer end as the one dialled by the smaller peer id, at both ends', () => {
  for (const localIsSmaller of [true, false]) {
    let me = newNodeKey();
    let remote = newNodeKey();
    while (peerIdHexOf(me.publicKey) < peerIdHexOf(remote.publicKey) !== localIsSmaller) [me, remote] = [newNodeKey(), newNodeKey()];
    const driver = newDriver('viewer', me);
    const inbound = linkFrom(driver, remote, '198.51.100.4');
    const outbound = linkFrom(driver, remote, '198.51.100.4', true);
    // Our outbound link is the one our smaller id dialled; else the peer's (our inbound) is kept.
    assert.equal(outbound.closed, !localIsSmaller, `we are the ${localIsSmaller ? 'smaller' : 'larger'} id: outbound link`);
    assert.equal(inbound.closed, localIsSmaller, `we are the ${localIsSmaller ? 'smaller' : 'larger'} id: inbound link`);
    assert.equal(driver.linkCount, 1);
    assert.equal(driver.isBanned(peerIdHexOf(remote.publicKey)), false, 'a duplicate is no offence');
    driver.stop();
  }
});

test('two links to one peer in the same direction keep the older; a link to ourselves is closed', () => {
  const me = newNodeKey();
  const driver = newDriver('viewer', me);
  const remote = newNodeKey();
  const first = linkFrom(driver, remote, '198.51.100.5');
  const second = linkFrom(driver, remote, '198.51.100.6');
  assert.equal(first.closed, false);
  assert.equal(second.closed, true);
  const self = linkFrom(driver, me, '198.51.100.7', true);
  assert.equal(self.closed, true);
  assert.equal(driver.isBanned(peerIdHexOf(me.publicKey)), false);
  assert.equal(driver.linkCount, 1);
  driver.stop();
});

test('a peer whose send buffer is past the cut-off is dropped and refused when the core next sends to it; the others are not', () => {
  const driver = newDriver('source');
  const slow = linkFrom(driver, newNodeKey(), '198.51.100.8');
  const fine = linkFrom(driver, newNodeKey(), '198.51.100.9');
  const slowKey = slow.binding?.kind === 'key' ? peerIdHexOf(slow.binding.remoteKey) : '';
  slow.bufferedBytes = MAX_SEND_BUFFER_BYTES;
  driver.publish(testChunk(key, 0, Date.now(), 1000, 1));
  assert.equal(slow.closed, false, 'dropped at the cut-off itself, not past it');
  const sent = slow.frames;
  slow.bufferedBytes = MAX_SEND_BUFFER_BYTES + 1;
  const fineBefore = fine.frames;
  driver.publish(testChunk(key, 1, Date.now(), 1000, 1));
  assert.equal(slow.closed, true, 'a peer that does not read was kept');
  assert.equal(slow.frames, sent, 'more was queued to a peer past the cut-off');
  assert.equal(driver.isBanned(slowKey), true);
  assert.equal(fine.closed, false);
  assert.ok(fine.frames > fineBefore, 'the reading peer was sent nothing');
  driver.stop();
});
