// CoreDriver: who it is linked to (WebRTC signalling leaves offers from peers we already have
// unanswered), and how it proves who is at the other end of a link before the core hears of
// it: a hello's peer id must be the link's key (TCP, after Noise) or be backed by an Auth that
// signs both DTLS fingerprints (WebRTC). A forged claim is refused, and bans name only what a
// link proved.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesToHex } from '../../src/common/hex.js';
import { loadOrCreateKey, type NodeKey, newNodeKey, nodeVerify } from '../../src/crypto/keys.js';
import { signChunk } from '../../src/protocol/chunk.js';
import { decodeMessage, encodeMessage, MsgType, PROTOCOL_VERSION, type WireMessage } from '../../src/protocol/codec.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';
import { CoreDriver } from '../../src/runtime/core-driver.js';
import { makeAuth, peerIdHexOf, peerIdOf } from '../../src/runtime/link-auth.js';
import type { Connection, ConnectionHandlers, LinkBinding } from '../../src/transport/transport.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('driver')}/k.key`);
const quiet = { debug: () => {}, warn: () => {} };

type FakeConnection = Connection & { handlers: ConnectionHandlers | undefined; closed: boolean; sent: WireMessage[] };

/** A connection whose far side is driven by the test. */
function fakeConnection(binding: LinkBinding, remoteAddress = '192.0.2.7'): FakeConnection {
  return {
    remoteAddress,
    remotePort: 4000,
    bufferedBytes: 0,
    binding,
    handlers: undefined,
    closed: false,
    sent: [],
    send(frame) {
      this.sent.push(decodeMessage(frame, key.publicKey));
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

function newDriver(role: 'source' | 'viewer' = 'viewer'): { driver: CoreDriver; me: NodeKey; core: PeerCore } {
  const me = newNodeKey();
  const core = new PeerCore(
    { role },
    { channelKey: key.publicKey, localPeerId: peerIdOf(me.publicKey), verify: nodeVerify, random: seededRandom(1) },
  );
  return { driver: new CoreDriver(core, { identity: me, verify: nodeVerify, log: quiet }), me, core };
}

function hello(peerId: Uint8Array): Uint8Array {
  return encodeMessage({ type: MsgType.Hello, version: PROTOCOL_VERSION, channelKey: key.publicKey, peerId, role: 'viewer' });
}

test('linkedTo: a peer is known by its id prefix once its proven hello arrives, and forgotten when the link closes', () => {
  const { driver } = newDriver();
  const remote = newNodeKey();
  const prefix = peerIdHexOf(remote.publicKey).slice(0, 20);
  const conn = fakeConnection({ kind: 'key', remoteKey: remote.publicKey });
  driver.attach(conn, 'tcp', false);
  assert.equal(driver.linkedTo(prefix), false, 'known before its hello');
  conn.handlers?.onFrame(hello(peerIdOf(remote.publicKey)));
  assert.equal(conn.closed, false);
  assert.equal(driver.linkedTo(prefix), true);
  assert.equal(driver.linkedTo('cd'.repeat(10)), false);
  conn.handlers?.onClose();
  assert.equal(driver.linkedTo(prefix), false);
  driver.stop();
});

test("a TCP hello claiming another peer's id is refused; the claimed id is not banned, the link's own key and address are", () => {
  const { driver } = newDriver();
  const victim = newNodeKey();
  const attacker = newNodeKey();
  const conn = fakeConnection({ kind: 'key', remoteKey: attacker.publicKey }, '198.51.100.9');
  driver.attach(conn, 'tcp', false);
  conn.handlers?.onFrame(hello(peerIdOf(victim.publicKey)));
  assert.equal(conn.closed, true, 'a forged hello was let through');
  assert.equal(driver.isBanned(peerIdHexOf(victim.publicKey)), false, 'the framed peer was banned');
  assert.equal(driver.isBanned(peerIdHexOf(attacker.publicKey)), true);
  assert.equal(driver.refusesAddress('198.51.100.9') !== undefined, true, 'its address may come back at once');
  // The real victim, from another address, still gets in.
  const honest = fakeConnection({ kind: 'key', remoteKey: victim.publicKey }, '203.0.113.5');
  driver.attach(honest, 'tcp', false);
  honest.handlers?.onFrame(hello(peerIdOf(victim.publicKey)));
  assert.equal(honest.closed, false);
  driver.stop();
});

test('a hello and its Auth that came before the link was attached reach the core, which heard of the link first', () => {
  const fpA = 'sha-256 aa:aa';
  const fpB = 'sha-256 bb:bb';
  const { driver, core } = newDriver();
  const remote = newNodeKey();
  const conn = fakeConnection({ kind: 'fingerprints', local: fpB, remote: fpA });
  // As the transports do: frames that came early are handed over when the handlers are set.
  const early = [
    hello(peerIdOf(remote.publicKey)),
    encodeMessage(makeAuth(remote, key.publicKey, { kind: 'fingerprints', local: fpA, remote: fpB })),
  ];
  conn.setHandlers = function (h) {
    this.handlers = h;
    for (const f of early.splice(0)) h.onFrame(f);
  };
  driver.attach(conn, 'webrtc', false);
  assert.equal(conn.closed, false);
  assert.deepEqual(
    core.neighbourStats().map((n) => n.role),
    ['viewer'],
    'the core never heard the hello',
  );
  driver.stop();
});

test('on WebRTC, our Auth follows our hello, and a hello is proven only by an Auth over both DTLS fingerprints', () => {
  const fpA = 'sha-256 aa:aa';
  const fpB = 'sha-256 bb:bb';
  const { driver } = newDriver();
  const remote = newNodeKey();
  // We are B: our fingerprint is local, A's is remote.
  const conn = fakeConnection({ kind: 'fingerprints', local: fpB, remote: fpA });
  driver.attach(conn, 'webrtc', false);
  assert.deepEqual(
    conn.sent.slice(0, 2).map((m) => m.type),
    [MsgType.Hello, MsgType.Auth],
  );
  conn.handlers?.onFrame(hello(peerIdOf(remote.publicKey)));
  assert.equal(driver.linkedTo(peerIdHexOf(remote.publicKey).slice(0, 20)), false, 'a hello counted before its Auth');
  conn.handlers?.onFrame(encodeMessage(makeAuth(remote, key.publicKey, { kind: 'fingerprints', local: fpA, remote: fpB })));
  assert.equal(conn.closed, false);
  assert.equal(driver.linkedTo(peerIdHexOf(remote.publicKey).slice(0, 20)), true);

  // An Auth made for another link (fingerprints swapped in by a man in the middle) fails.
  const mitm = fakeConnection({ kind: 'fingerprints', local: fpB, remote: 'sha-256 cc:cc' });
  const other = newNodeKey();
  driver.attach(mitm, 'webrtc', false);
  mitm.handlers?.onFrame(hello(peerIdOf(other.publicKey)));
  mitm.handlers?.onFrame(encodeMessage(makeAuth(other, key.publicKey, { kind: 'fingerprints', local: fpA, remote: fpB })));
  assert.equal(mitm.closed, true);

  // Someone else's id with one's own key fails, and does not get the claimed id banned.
  const thief = fakeConnection({ kind: 'fingerprints', local: fpB, remote: 'sha-256 dd:dd' });
  driver.attach(thief, 'webrtc', false);
  const thiefKey = newNodeKey();
  thief.handlers?.onFrame(hello(peerIdOf(other.publicKey)));
  thief.handlers?.onFrame(encodeMessage(makeAuth(thiefKey, key.publicKey, { kind: 'fingerprints', local: 'sha-256 dd:dd', remote: fpB })));
  assert.equal(thief.closed, true);
  assert.equal(driver.isBanned(peerIdHexOf(other.publicKey)), false);
  driver.stop();
});

test('a peer of an older protocol is refused by name, and not banned', () => {
  const { driver } = newDriver();
  const remote = newNodeKey();
  const warnings: string[] = [];
  const core = new PeerCore(
    { role: 'viewer' },
    { channelKey: key.publicKey, localPeerId: peerIdOf(newNodeKey().publicKey), verify: nodeVerify, random: seededRandom(1) },
  );
  const d = new CoreDriver(core, { identity: newNodeKey(), verify: nodeVerify, log: { debug: () => {}, warn: (m) => warnings.push(m) } });
  const conn = fakeConnection({ kind: 'fingerprints', local: 'sha-256 aa', remote: 'sha-256 bb' }, '198.51.100.20');
  d.attach(conn, 'webrtc', false);
  conn.handlers?.onFrame(
    encodeMessage({ type: MsgType.Hello, version: 5, channelKey: key.publicKey, peerId: peerIdOf(remote.publicKey), role: 'viewer' }),
  );
  assert.equal(conn.closed, true);
  assert.match(warnings.join('\n'), new RegExp(`speaks protocol 5, this node ${PROTOCOL_VERSION}`));
  assert.equal(d.refusesAddress('198.51.100.20'), undefined, 'an old peer got its address banned');
  assert.equal(d.isBanned(bytesToHex(peerIdOf(remote.publicKey))), false);
  d.stop();
  driver.stop();
});

test("the driver sends what the core queued after each input it takes, and tells the core's events to its listeners", () => {
  const { driver } = newDriver('source');
  const remote = newNodeKey();
  const conn = fakeConnection({ kind: 'key', remoteKey: remote.publicKey });
  const events: string[] = [];
  const stop = driver.onEvent((e) => events.push(e.type));
  driver.attach(conn, 'tcp', false);
  conn.handlers?.onFrame(hello(peerIdOf(remote.publicKey)));
  assert.deepEqual(events, ['hello']);
  const chunk = signChunk(
    { channelKey: key.publicKey, seq: 0, captureTimeMs: Date.now(), flags: 0, payload: new Uint8Array(10) },
    key.sign,
  );
  driver.publish(chunk);
  assert.deepEqual(
    conn.sent.map((m) => m.type),
    [MsgType.Hello, MsgType.BufferMap, MsgType.ChunkData],
    'the published chunk was pushed without a pump() from the caller',
  );
  stop();
  const other = newNodeKey();
  const conn2 = fakeConnection({ kind: 'key', remoteKey: other.publicKey }, '192.0.2.8');
  driver.attach(conn2, 'tcp', false);
  conn2.handlers?.onFrame(hello(peerIdOf(other.publicKey)));
  assert.equal(conn2.closed, false);
  assert.deepEqual(events, ['hello'], 'a listener that stopped hears nothing more');
  driver.stop();
});
